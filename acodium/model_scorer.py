"""A model that scores programs: largest_clusters' `model` scorer (AlphaCode 2's scoring model, with an LLM).

AlphaCode 2 keeps the largest behavioural clusters and submits from each the
member a scoring model likes best. Here a chat model is asked (prompt
acodium/prompts/score_program.toml) how likely a program is to be correct,
0 to 100, from the statement and the program. `ModelScorer` is its one
frozen settings value; `score_candidates(..., scorer=ModelScorer(...))` (or
`--scorer model --scorer_model NAME`) uses it instead of a scorer's name.

Only programs passing the public tests are asked about: the others are
never submitted and score -inf without a call. Identical programs of a
problem are asked once. With 10^5 samples of a problem, of which about 1%
pass the public tests (AlphaCode, section 4.5), that is about 10^3 calls per
problem (fewer where passing programs repeat), against 10^5 for scoring
every sample. Every call goes through the reply cache of `acodium.llm`: a
re-run costs none. A reply without a score, or a failed call, costs its call
and is recorded (`ModelScores.records`); its program scores `UNSCORED`,
below every program the model scored, never a crash.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import UserError
from .prompting import fill, load_prompt_file

PROMPT = "score_program"
CALL = "score_program"  # tells the scorer's calls apart from others with the same messages in the cache
UNSCORED = -1.0  # a passing program whose call gave no score: after every scored one (0..100), never -inf
_LABELLED = re.compile(r"\bscore\b[^\w-]{0,6}(?:is[^\w-]{0,3})?(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_ALONE = re.compile(r"^\W{0,3}(-?\d+(?:\.\d+)?)\s*(?:%|/\s*100)?\W{0,3}$")


@dataclass(frozen=True)
class ModelScorer:
    """How the scoring model is asked: one call per distinct program passing the public tests; cached."""

    model: str
    prompt: str = PROMPT
    temperature: float = 0.0
    max_tokens: int = 1024
    base_url: str | None = None
    api_key: str | None = None
    cache_path: str | None = None
    concurrency: int = 4
    timeout: float = 120.0
    max_retries: int = 5
    prices: str | None = None

    name = "model"  # as the scorer appears in a summary

    def __post_init__(self):
        if not isinstance(self.model, str) or not self.model.strip():
            raise UserError("The model scorer needs the name of the model to ask (--scorer_model).")


@dataclass
class ModelScores:
    """A score per program asked about, in the order given, and one record per program of what its call gave."""

    scores: np.ndarray
    records: list[dict] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return len(self.records)


def score_in(reply: str | None) -> float | None:
    """The score a reply gives (0..100): its last "Score: N", else the reply when it is only a number; else None.

    A number outside 0..100 is clipped to it (the model was asked for 0..100).
    """
    text = (reply or "").strip()
    found = _LABELLED.findall(text)
    if not found:
        found = _ALONE.findall(text)
    if not found:
        return None
    return float(min(100.0, max(0.0, float(found[-1]))))


def messages_for(row: Mapping[str, Any], code: str, language: str, settings: ModelScorer) -> list[dict]:
    """The chat messages asking about one program of one problem (prompt file `settings.prompt`)."""
    pieces = load_prompt_file(settings.prompt)
    for key in ("system", "user"):
        if not isinstance(pieces.get(key), str):
            raise UserError(f"The scoring prompt {settings.prompt!r} lacks the text {key!r}.")
    where = f"scoring prompt {settings.prompt!r}"
    variables = {"name": str(row.get("name", "")), "statement": str(row.get("description") or ""),
                 "language": str(language or ""), "code": str(code or "").rstrip("\n")}
    return [{"role": "system", "content": fill(pieces["system"], variables, where).strip()},
            {"role": "user", "content": fill(pieces["user"], variables, where).strip()}]


def program_id(code: str) -> str:
    """A short name of a program's text, for the records."""
    return hashlib.sha256(str(code or "").encode()).hexdigest()[:16]


def score_programs(rows: Mapping[str, Mapping[str, Any]], programs: Sequence[tuple[str, str, str]],
                   settings: ModelScorer, *, progress: bool = True) -> ModelScores:
    """The model's score of each (problem, code, language), one call per distinct (problem, code).

    The caller passes only programs a contestant would submit (those passing
    the public tests). Scores are 0..100, `UNSCORED` where the call failed or
    its reply gave no score (the record says which).
    """
    from .llm.sync import ask_each

    if not programs:
        return ModelScores(np.zeros(0, dtype=np.float64))
    distinct: dict[tuple[str, str], int] = {}
    asked: list[tuple[str, str, str]] = []
    for problem, code, language in programs:
        if (problem, code) not in distinct:
            if problem not in rows:
                raise UserError(f"The model scorer has no statement for the problem {problem!r}.")
            distinct[(problem, code)] = len(asked)
            asked.append((problem, code, language))
    prompts = [messages_for(rows[p], c, lang, settings) for p, c, lang in asked]  # a bad prompt: before any call
    params = {"temperature": settings.temperature, "max_tokens": settings.max_tokens}

    replies = ask_each(settings, prompts, params, call=CALL, progress=progress, desc="scoring programs", unit="program")
    uses = {}
    for problem, code, _ in programs:
        uses[(problem, code)] = uses.get((problem, code), 0) + 1
    values, records = [], []
    for (problem, code, language), reply in zip(asked, replies):
        record = {"problem": problem, "program": program_id(code), "language": language,
                  "candidates": uses[(problem, code)], "score": None, "error": None, "cached": False,
                  "prompt_tokens": 0, "completion_tokens": 0, "cost": None}
        if isinstance(reply, Exception):
            record["error"] = str(reply) or type(reply).__name__
        else:
            record.update(cached=reply.cached, prompt_tokens=reply.prompt_tokens,
                          completion_tokens=reply.completion_tokens, cost=reply.cost)
            record["score"] = score_in(reply.text)
            if record["score"] is None:
                record["error"] = "no score in the reply: " + " ".join(str(reply.text or "").split())[:120]
        values.append(UNSCORED if record["score"] is None else record["score"])
        records.append(record)
    per_program = np.array(values, dtype=np.float64)
    return ModelScores(per_program[[distinct[(p, c)] for p, c, _ in programs]], records)


def calls_summary(records: Sequence[Mapping[str, Any]], settings: ModelScorer) -> dict:
    """What the scorer's calls cost and gave, for a run's summary.json."""
    costs = [r["cost"] for r in records if r.get("cost") is not None]
    return {
        "model": settings.model,
        "prompt": settings.prompt,
        "calls": len(records),
        "cached": sum(bool(r.get("cached")) for r in records),
        "failed": sum(bool(r.get("error")) and not str(r["error"]).startswith("no score") for r in records),
        "no_score": sum(str(r.get("error") or "").startswith("no score") for r in records),
        "prompt_tokens": int(sum(r.get("prompt_tokens") or 0 for r in records)),
        "completion_tokens": int(sum(r.get("completion_tokens") or 0 for r in records)),
        "cost": float(sum(costs)) if costs else None,
    }


def calls_note(scorer: Any, records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The note a run prints on a model scorer's calls (none for another scorer)."""
    if not isinstance(scorer, ModelScorer):
        return []
    done = calls_summary(records, scorer)
    return [f"the model scorer ({scorer.model}) made {done['calls']} call(s), one per distinct program passing the "
            f"public tests: {done['cached']} from the cache, {done['failed']} failed, {done['no_score']} gave no "
            "score (those programs rank after every scored one); each is in summary.json's scorer_calls and a run "
            "folder's scorer_calls.json"]
