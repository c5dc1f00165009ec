"""The solve rate by problem, and by tag, rating and difficulty (AlphaCode's figures 10 and 12).

Per problem, from the run's judgements: samples, correct, pass@1 (the share
correct), solved (some sample correct: pass@k at k = all its samples) and
filtered n@k at k = all its samples (submit up to n of those passing the public
tests, exact). A problem without samples counts, unsolved (docs/semantics.md).
By tag, a problem counts once under each of its tags; by rating and
difficulty, under its own (a rating of 0 is unknown in CodeContests). Each
group's solve rate has the 95% interval over problems of `acodium.metrics`
(`problems_ci`: about another draw of problems like these; wide for a group
of a few problems). Under the
schedule "public_first" a sample failing the public tests ran no hidden test and
counts as not correct, as in the run's own pass@k (a lower bound, exact for n@k).
"""

from __future__ import annotations

import pandas as pd

from ..data.problem import Problem
from ..metrics import n_at_k_filtered, problems_ci
from .run import Run

PER_PROBLEM = ["problem", "tags", "rating", "difficulty", "samples", "passes_public", "correct", "pass@1",
               "solved", "n@k filtered"]
GROUPED = ["problems", "solved", "solve_rate", "ci_low", "ci_high", "pass@1", "n@k filtered", "samples"]


def per_problem(run: Run, n: int = 10) -> pd.DataFrame:
    """One row per problem of the run, in the record's order (columns PER_PROBLEM)."""
    judged = run.judgements.groupby("problem")
    counts = pd.DataFrame({
        "samples": judged.size(),
        "passes_public": judged["passes_public"].sum(),
        "correct": judged["correct"].sum(),
        # correct and passing the public tests: what a filtered submission can find
        "passing_correct": run.judgements[run.judgements["passes_public"].astype(bool)].groupby("problem")[
            "correct"].sum(),
    }).reindex(run.names).fillna(0).astype(int)
    rows = []
    for name, row in run.problems.items():
        p = Problem(row)
        c = counts.loc[name]
        k = int(c["samples"])
        filtered = float(n_at_k_filtered(k, int(c["passes_public"]), int(c["passing_correct"]), n, k)) if k else 0.0
        rows.append({"problem": name, "tags": p.tags, "rating": p.rating, "difficulty": p.difficulty,
                     "samples": k, "passes_public": int(c["passes_public"]), "correct": int(c["correct"]),
                     "pass@1": c["correct"] / k if k else 0.0, "solved": bool(c["correct"] > 0),
                     "n@k filtered": filtered})
    return pd.DataFrame(rows, columns=PER_PROBLEM)


def _grouped(table: pd.DataFrame, by: str) -> pd.DataFrame:
    groups = table.groupby(by, sort=True, dropna=False)
    intervals = groups["solved"].apply(lambda solved: problems_ci(solved.to_numpy(float)))
    out = pd.DataFrame({
        "problems": groups.size(),
        "solved": groups["solved"].sum().astype(int),
        "solve_rate": groups["solved"].mean(),
        "ci_low": intervals.map(lambda ci: float(ci.ci_low)),
        "ci_high": intervals.map(lambda ci: float(ci.ci_high)),
        "pass@1": groups["pass@1"].mean(),
        "n@k filtered": groups["n@k filtered"].mean(),
        "samples": groups["samples"].sum().astype(int),
    })
    return out.reset_index()[[by, *GROUPED]]


def solve_rate_by_tag(problems: pd.DataFrame) -> pd.DataFrame:
    """`per_problem`'s rows by tag, a problem once under each of its tags ("no tags" when it has none);
    most problems first."""
    table = problems.assign(tag=[list(t) or ["no tags"] for t in problems["tags"]]).explode("tag")
    out = _grouped(table, "tag")
    return out.sort_values(["problems", "tag"], ascending=[False, True], kind="stable").reset_index(drop=True)


def solve_rate_by_rating(problems: pd.DataFrame) -> pd.DataFrame:
    """`per_problem`'s rows by Codeforces rating, ascending; unknown ratings last, as "unknown"."""
    table = problems.assign(rating=problems["rating"].map(lambda r: int(r) if r else -1))
    out = _grouped(table, "rating").sort_values("rating", kind="stable")
    out = pd.concat([out[out["rating"] >= 0], out[out["rating"] < 0]], ignore_index=True)
    out["rating"] = [str(r) if r >= 0 else "unknown" for r in out["rating"]]
    return out


def solve_rate_by_difficulty(problems: pd.DataFrame) -> pd.DataFrame:
    """`per_problem`'s rows by the dataset's difficulty (A, B, ... or EASY..HARDEST), in the dataset's order."""
    from ..data import DIFFICULTY_NAMES

    out = _grouped(problems, "difficulty")
    order = {name: i for i, name in enumerate(DIFFICULTY_NAMES)}
    return out.sort_values("difficulty", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
