"""Prompts from TOML files, filled from a problem row, with AlphaCode-style diversity.

A prompt file (acodium/prompts/NAME.toml, or any path) holds `system` and
`user` templates in `${variable}` syntax (string.Template: braces in C++ code
or statements need no escaping) plus the small pieces the variables are built
from; acodium/prompts/direct.toml documents every variable.

AlphaCode conditioned its samples on metadata and sampled that metadata at
random to make samples diverse: `tags` and `rating` are each "true" (the
problem's own), "random" (drawn per sample, deterministically from the seed,
the problem and the sample index) or "none".
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import UserError

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
METADATA_MODES = ("true", "random", "none")
LANGUAGES = ("python3", "cpp", "java")  # target languages of the prompts (each has [languages.X])

# Codeforces problem tags (the cf_tags vocabulary of CodeContests), for random tags.
CODEFORCES_TAGS = (
    "2-sat", "binary search", "bitmasks", "brute force", "chinese remainder theorem",
    "combinatorics", "constructive algorithms", "data structures", "dfs and similar",
    "divide and conquer", "dp", "dsu", "expression parsing", "fft", "flows", "games",
    "geometry", "graph matchings", "graphs", "greedy", "hashing", "implementation",
    "interactive", "math", "matrices", "meet-in-the-middle", "number theory",
    "probabilities", "schedules", "shortest paths", "sortings", "string suffix structures",
    "strings", "ternary search", "trees", "two pointers",
)
# Codeforces ratings as AlphaCode sampled them: 800 to 3500 in steps of 100.
RATINGS = tuple(range(800, 3600, 100))


def prompt_path(name: str | os.PathLike) -> Path:
    """A prompt by name (shipped in acodium/prompts) or by path."""
    path = Path(name)
    if path.suffix == ".toml" and path.is_file():
        return path
    shipped = PROMPTS_DIR / f"{name}.toml"
    if shipped.is_file():
        return shipped
    available = sorted(p.stem for p in PROMPTS_DIR.glob("*.toml"))
    raise UserError(f"No prompt {str(name)!r}: give a .toml path or one of {', '.join(available)}.")


def load_prompt_file(name: str | os.PathLike) -> dict[str, Any]:
    """The raw TOML of a prompt file (multi-stage flows keep several templates in one file)."""
    path = prompt_path(name)
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"The prompt file {path} is not valid TOML: {e}.") from None
    except UnicodeDecodeError as e:
        raise UserError(f"The prompt file {path} is not UTF-8 text (byte {e.object[e.start]:#04x} "
                        f"at position {e.start}).") from None
    except OSError as e:
        raise UserError(f"Cannot read the prompt file {path}: {e.strerror}.") from None


def fill(template: str, variables: Mapping[str, Any], where: str = "prompt") -> str:
    """Fill `${variable}`s; a variable the template names but nobody gives is a UserError."""
    try:
        return string.Template(template).substitute(variables)
    except KeyError as e:
        raise UserError(f"The {where} uses ${{{e.args[0]}}}, which no problem field provides.") from None
    except ValueError as e:
        raise UserError(f"The {where} has a malformed placeholder: {e}.") from None


def messages_hash(messages: list[dict]) -> str:
    """A short identity of the exact prompt sent (the candidates' meta `prompt_hash`)."""
    blob = json.dumps(messages, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Diversity:
    """AlphaCode's sampling-time metadata: which tags and rating each sample is shown."""

    tags: str = "true"
    rating: str = "true"
    seed: int = 0

    def __post_init__(self):
        for what, mode in (("tags", self.tags), ("rating", self.rating)):
            if mode not in METADATA_MODES:
                raise UserError(f"The {what} mode must be one of {', '.join(METADATA_MODES)}, not {mode!r}.")

    def choose(self, row: Mapping[str, Any], sample_index: int) -> tuple[list[str], int | None]:
        """The tags and rating shown to one sample (deterministic in seed, problem, sample)."""
        rng = random.Random(f"{self.seed}:{row.get('name', '')}:{sample_index}")
        if self.tags == "true":
            tags = [t for t in (row.get("cf_tags") or []) if t and not t.startswith("*")]
        elif self.tags == "random":
            tags = sorted(rng.sample(CODEFORCES_TAGS, rng.randint(1, 3)))
        else:
            tags = []
        if self.rating == "true":
            rating = int(row.get("cf_rating") or 0) or None  # 0 means unknown in CodeContests
        elif self.rating == "random":
            rating = rng.choice(RATINGS)
        else:
            rating = None
        return tags, rating


@dataclass(frozen=True)
class ProblemPrompt:
    """A prompt file bound to a target language: turns a problem row into chat messages."""

    name: str
    system: str
    user: str
    pieces: dict[str, str] = field(default_factory=dict)
    language: str = "python3"
    language_display: str = "Python 3"
    fence: str = "python"

    @classmethod
    def load(cls, name: str | os.PathLike = "direct", language: str = "python3") -> "ProblemPrompt":
        doc = load_prompt_file(name)
        if language not in LANGUAGES:
            raise UserError(f"The target language must be one of {', '.join(LANGUAGES)}, not {language!r}.")
        if "user" not in doc:
            raise UserError(f"The prompt file {prompt_path(name)} has no 'user' template.")
        for key in ("user", "system"):
            if key in doc and not isinstance(doc[key], str):
                raise UserError(f"The '{key}' template of the prompt file {prompt_path(name)} must be text, "
                                f"not {type(doc[key]).__name__}.")
        lang = doc.get("languages", {})
        lang = lang.get(language, {}) if isinstance(lang, dict) else None
        if not isinstance(lang, dict) or not all(isinstance(lang.get(k, ""), str) for k in ("display", "fence")):
            raise UserError(f"The prompt file {prompt_path(name)} needs [languages.{language}] as a table of "
                            "text 'display' and 'fence'.")
        pieces = {k: v for k, v in doc.items() if isinstance(v, str)}
        return cls(
            name=str(doc.get("name", Path(str(name)).stem)),
            system=str(doc.get("system", "")).strip(),
            user=str(doc["user"]).strip(),
            pieces=pieces,
            language=language,
            language_display=str(lang.get("display", language)),
            fence=str(lang.get("fence", language)),
        )

    def variables(self, row: Mapping[str, Any], tags: list[str], rating: int | None) -> dict[str, str]:
        # The statement's examples as the contestant sees them, read raw on purpose: a prompt shows
        # every example the statement has, even one a reference check marked invalid (problem_tests
        # skips those: it is the reader for running tests, not for showing the statement).
        public = row.get("public_tests") or {"input": [], "output": []}
        examples = ""
        if public.get("input"):
            examples = self.pieces.get("examples_header", "\nExamples\n")
            example = self.pieces.get("example", "\nInput:\n${input}\nOutput:\n${output}\n")
            for test_in, test_out in zip(public["input"], public["output"]):
                examples += fill(example, {"input": test_in.strip("\n"), "output": test_out.strip("\n")},
                                 "example piece")
        tags_text = ", ".join(tags)
        rating_text = str(rating) if rating else ""
        metadata = ""
        if tags_text:
            metadata += fill(self.pieces.get("tags_line", "Tags: ${tags}\n"), {"tags": tags_text})
        if rating_text:
            metadata += fill(self.pieces.get("rating_line", "Rating: ${rating}\n"), {"rating": rating_text})
        if metadata:
            metadata += self.pieces.get("metadata_footer", "\n")
        return {
            "name": str(row.get("name", "")),
            "statement": str(row.get("description", "")).strip(),
            "examples": examples,
            "metadata": metadata,
            "tags": tags_text,
            "rating": rating_text,
            "language": self.language_display,
            "fence": self.fence,
        }

    def messages(self, row: Mapping[str, Any], tags: list[str] = (), rating: int | None = None) -> list[dict]:
        """The chat messages for one problem, showing the given tags and rating."""
        variables = self.variables(row, list(tags), rating)
        messages = []
        if self.system:
            messages.append({"role": "system", "content": fill(self.system, variables, "system prompt")})
        messages.append({"role": "user", "content": fill(self.user, variables, "user prompt")})
        return messages
