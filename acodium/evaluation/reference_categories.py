"""The evidence rules of reference checks: what the human solutions' runs say about a test and a problem.

`check_references` runs each problem's correct solutions (the references)
and incorrect ones on its tests; the rules here turn those runs into one
category per test and per problem. Only evidence removes a test: two
references that agree with each other against the stored output (or the
only reference of a problem that may accept several answers, where it
passes everything else). A lone disagreement is a question, disagreeing
references mean the problem needs a checker, and a slow or crashing
reference says nothing about the tests.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import Any, Mapping

import pandas as pd

from ..execute import Checker, Execution
from ..execute.checkers import TOKENS
from ..execute.types import Job, Program

# Categories of `check_references`: what the references say about a test and a problem.
VALID = "valid"
INVALID = "invalid"
UNCONFIRMED = "unconfirmed"
SEVERAL_ANSWERS = "several valid answers (needs a checker)"
SLOW_OR_BROKEN = "reference too slow/broken"
NOT_CHECKED = "not checked"
NO_REFERENCE = "no reference"
PROBLEM_OK = "ok"
TEST_CATEGORIES = (VALID, INVALID, UNCONFIRMED, SEVERAL_ANSWERS, SLOW_OR_BROKEN, NOT_CHECKED)
_SLUGS = {VALID: "valid", INVALID: "invalid", UNCONFIRMED: "unconfirmed", SEVERAL_ANSWERS: "several_answers",
          SLOW_OR_BROKEN: "slow_or_broken", NOT_CHECKED: "not_checked"}
PROBLEM_CATEGORIES = (PROBLEM_OK, INVALID, SEVERAL_ANSWERS, UNCONFIRMED, SLOW_OR_BROKEN, NO_REFERENCE)

_SEVERAL = re.compile(r"\b(multiple|several|(?<!no )more than one|not unique)\b", re.IGNORECASE)
_ANSWER_VERB = re.compile(r"\b(print|output|acceptable|suit|satisf|allowed|choose)", re.IGNORECASE)
_ANY = re.compile(r"\bany\b(?!thing|\s+one\s+of\s+the\s+lines)", re.IGNORECASE)
_PRINT_ANY = re.compile(r"\b(print|output)\s+any\b(?!thing)", re.IGNORECASE)


def possibly_multi_answer(row: Mapping[str, Any]) -> bool:
    """Whether a problem may accept several answers: its own flag, else its statement says so.

    The flag is `possibly_multi_answer` on the row (set it where you know
    better); else the statement says "print any ..." or has a sentence with
    "multiple" / "several" / "more than one" / "not unique", "any" and
    "print" / "output" / "acceptable" / "suit" / "satisfied" / "allowed" / "choose" ("If
    there are multiple answers, print any of them"). On the shared sample it
    flags 40 of 230 problems; each one's sentence, read, does allow several answers.
    """
    flag = row.get("possibly_multi_answer")
    if flag is not None:
        return bool(flag)
    text = row.get("description") or ""
    if _PRINT_ANY.search(text):
        return True
    return any(_SEVERAL.search(s) and _ANY.search(s) and _ANSWER_VERB.search(s) for s in re.split(r"[.!?\n]", text))


def agreeing_groups(outputs: Mapping[str, str], checker: Checker = TOKENS) -> list[list[str]]:
    """References grouped by output under `checker` (each joins the first group whose first output,
    taken as the answer, accepts it); the default is the tester's token compare."""
    groups: list[tuple[str, list[str]]] = []
    for ref, out in outputs.items():
        for first, members in groups:
            if checker.check(out, first):
                members.append(ref)
                break
        else:
            groups.append((out, [ref]))
    return [members for _, members in groups]


def output_rule(row: Mapping[str, Any], execution: Execution) -> Checker:
    """The rule two references' outputs are compared by: the problem's checker (the run's --checker
    first) where it is a built-in. A checker program judges one output against an answer file and the
    input, not two outputs with each other, so a problem judged by one (or by an interactor) is
    compared by the token compare."""
    checker = execution.checker_for(row)
    return checker if isinstance(checker, Checker) else TOKENS


def _wrong_outputs(rows_by_name, wrong, candidates: pd.DataFrame, execution: Execution) -> dict:
    """Stdout of each reference that ran a test OK with another answer, where two or more did.

    The executions table keeps output hashes only: equal hashes agree, and
    unequal ones are compared by the problem's rule (`output_rule`) on outputs run
    again (from the cache when there is one), since whitespace alone changes a hash.
    """
    todo: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)  # (problem, ref) -> tests
    for (problem, test_set, index), refs in wrong.items():
        hashes = {h for _, h in refs}
        if len(refs) >= 2 and len(hashes) >= 2:
            for ref, _ in refs:
                todo[(problem, ref)].append((test_set, index))
    if not todo:
        return {}
    code = candidates.set_index(["problem", "candidate_id"])
    jobs, where = [], []
    for (problem, ref), tests in todo.items():
        row = rows_by_name[problem]
        language = code.loc[(problem, ref), "language"]
        inputs = [row[f"{s}_tests"]["input"][i] for s, i in tests]
        jobs.append(Job(Program(language, code.loc[(problem, ref), "code"]), inputs,
                        limits=execution.limits(row, language)))
        where.append((problem, ref, tests))
    runs = execution.run_batch(jobs, progress=False)
    out: dict[tuple[str, str, int], dict[str, str]] = defaultdict(dict)
    for (problem, ref, tests), results in zip(where, runs):
        for (s, i), r in zip(tests, results):
            out[(problem, s, i)][ref] = r.stdout
    return out


def judge_tests(ex: pd.DataFrame, rows_by_name, candidates: pd.DataFrame, multi: dict[str, bool],
                min_test_agreement: float, execution: Execution) -> pd.DataFrame:
    """One row per test checked, with its category (see `check_references`).

    `ex` is the executions of the reference candidates with `kind` (correct,
    incorrect) and `ok` (status OK) columns; outputs of references that
    disagree by hash are run again with `execution` to compare them by the
    problem's built-in checker (`output_rule`: the tester's rule by default).
    """
    keys = ["problem", "test_set", "test_index"]
    corr = ex[ex["kind"] == "correct"]
    inc = ex[ex["kind"] == "incorrect"]
    tests = ex[keys].drop_duplicates().set_index(keys)
    tests["correct_run"] = corr.groupby(keys).size()
    tests["correct_ok"] = corr.groupby(keys)["ok"].sum()
    tests["correct_passed"] = corr.groupby(keys)["passed"].sum()
    tests["incorrect_run"] = inc.groupby(keys).size()
    tests["incorrect_passed"] = inc.groupby(keys)["passed"].sum()
    tests = tests.fillna(0).astype(int)
    tests["agreement"] = tests["correct_passed"] / tests["correct_ok"].where(tests["correct_ok"] > 0)

    # what each reference did elsewhere: the tests it passed, and whether it finished all OK
    passed_tests = corr[corr["passed"]].groupby(["problem", "candidate_id"]).size()
    runs_per_ref = corr.groupby(["problem", "candidate_id"]).size()
    wrong_runs = corr[corr["ok"] & ~corr["passed"]]
    wrong = defaultdict(list)  # test -> [(reference, output hash)]
    for r in wrong_runs.itertuples(index=False):
        wrong[(r.problem, r.test_set, int(r.test_index))].append((r.candidate_id, r.output_hash))
    outputs = _wrong_outputs(rows_by_name, wrong, candidates, execution)

    categories, groups_col = [], []
    for (problem, test_set, index), t in tests.iterrows():
        refs = wrong.get((problem, test_set, index), [])
        if t.correct_run == 0:
            category, largest = NOT_CHECKED, 0
        elif t.correct_ok == 0:
            category, largest = SLOW_OR_BROKEN, 0
        elif not refs:
            category, largest = VALID, 0
        else:
            if (problem, test_set, index) in outputs:
                groups = agreeing_groups(outputs[(problem, test_set, index)],
                                         output_rule(rows_by_name[problem], execution))
            else:  # one wrong reference, or all wrong ones printed the very same bytes
                by_hash = defaultdict(list)
                for ref, h in refs:
                    by_hash[h].append(ref)
                groups = list(by_hash.values())
            largest = max(len(g) for g in groups)
            # a reference that passes no other test is broken, not a second answer
            answering = [g for g in groups if any(passed_tests.get((problem, ref), 0) > 0 for ref in g)]
            if largest >= 2 and t.agreement < min_test_agreement:
                category = INVALID
            elif (t.correct_ok == 1 and multi[problem] and len(refs) == 1
                  and passed_tests.get((problem, refs[0][0]), 0) == runs_per_ref[(problem, refs[0][0])] - 1):
                category = INVALID  # the only reference passes everything else on a multi-answer problem
            elif answering and (t.correct_passed > 0 or len(answering) >= 2):
                category = SEVERAL_ANSWERS
            else:
                category = UNCONFIRMED
        categories.append(category)
        groups_col.append(largest)
    tests["largest_agreeing_wrong"] = groups_col
    tests["category"] = categories
    tests["is_valid_test"] = tests["category"] != INVALID
    return tests.reset_index()


def judge_problems(rows_by_name, tests: pd.DataFrame, sol: pd.DataFrame, multi: dict[str, bool],
                   min_correct_share: float, max_invalid_test_share: float) -> pd.DataFrame:
    """One row per problem: its flags, its validity and its category (see `check_references`)."""
    out = []
    for name in rows_by_name:
        mine = sol[(sol["problem"] == name) & (sol["kind"] == "correct")]
        checked = tests[tests["problem"] == name]
        count = Counter(checked["category"])
        judged = checked[checked["category"].isin([VALID, INVALID, UNCONFIRMED, SEVERAL_ANSWERS])]
        slow = bool((mine["statuses"].map(lambda s: set(json.loads(s)) - {"OK"})).map(bool).any())
        # the share rule, over references that finished every test (a slow one says nothing)
        complete = mine[mine["all_ok"]]
        valid = True
        if len(judged) and count[INVALID] / len(judged) > max_invalid_test_share:
            valid = False
        if len(complete) >= 2 and complete["passed_all_confirmed"].mean() < min_correct_share:
            valid = False
        if not len(mine):
            category = NO_REFERENCE
        elif count[SEVERAL_ANSWERS]:
            category = SEVERAL_ANSWERS  # invalid too when too few references pass: it needs a checker
        elif not valid:
            category = INVALID
        elif count[UNCONFIRMED]:
            category = UNCONFIRMED
        elif slow:
            category = SLOW_OR_BROKEN
        else:
            category = PROBLEM_OK
        out.append({
            "problem": name, "category": category, "is_valid_problem": valid,
            "references": int(len(mine)), "references_complete": int(len(complete)),
            "reference_slow_or_broken": slow, "possibly_multi_answer": multi[name],
            **{f"tests_{_SLUGS[c]}": int(count[c]) for c in TEST_CATEGORIES},
        })
    return pd.DataFrame(out)
