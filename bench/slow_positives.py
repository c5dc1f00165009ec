"""What telling slow positives from timeouts costs: the sample's human solutions under a tight time limit.

Each problem's accepted Python solution runs on its first `--max_tests` private
tests under `--time_limit` seconds of CPU, with no cache, three ways:

- off: `slow_cap` 1, one run per test (no SLOW);
- schedule (what acodium does, `acodium.execute.slow`): a run per test under the
  limit; a TIMEOUT once more at slow_cap x the limit, and a run that then ends
  within 10% of the limit once more under it;
- cap-first (the alternative): one run per test at slow_cap x the limit, read
  by its CPU time (over the limit and correct: SLOW; over it and wrong: TIMEOUT;
  within 10% over it: once more under the limit, as the schedule does).

It prints, per way, the tests run, the CPU seconds they took (steadier than
the wall time on a shared machine), the wall time and the statuses, and the
tests on which the two ways of telling SLOW disagree.

    .venv/bin/python bench/slow_positives.py --time_limit 1 --max_tests 10
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACODIUM_SHARED_DATA", REPO.parent / "shared" / "data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(SHARED / "code_contests_train_sample.jsonl"))
    parser.add_argument("--problems", type=int, default=None, help="first N problems (default all)")
    parser.add_argument("--max_tests", type=int, default=10, help="private tests per problem")
    parser.add_argument("--time_limit", type=float, default=1.0, help="seconds of CPU per test")
    parser.add_argument("--slow_cap", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--ways", default="off,schedule,cap-first,off", help="ways to run, in order")
    args = parser.parse_args()

    from acodium.data import dataset_solutions, problem_tests
    from acodium.execute import Job, Limits, Program, Status, get_backend, run_batch
    from acodium.execute.base import Backend
    from acodium.execute.slow import NEAR_LIMIT

    class Counting(Backend):
        """The local backend, counting the tests it runs and the CPU seconds they take."""

        name = "local"

        def __init__(self, inner):
            self.inner, self.runs, self.cpu = inner, 0, 0.0

        def run(self, job):
            results = self.inner.run(job)
            self.runs += len(results)
            self.cpu += sum(r.cpu_s for r in results)
            return results

        def version(self):
            return self.inner.version()

    rows = [json.loads(line) for line in open(args.dataset)][: args.problems]
    work = []  # (problem, program, inputs, expected)
    for row in rows:
        solutions = dataset_solutions(row, "solutions", ["python3"])
        tests = problem_tests(row, "private", args.max_tests)
        if solutions and tests:
            work.append((row["name"], Program("python3", solutions[0][2]), [t[1] for t in tests],
                         [t[2] for t in tests]))
    limit = args.time_limit
    print(f"{len(work)} problems, {sum(len(w[2]) for w in work)} tests, limit {limit:g} s, cap {args.slow_cap:g}x",
          flush=True)
    local = get_backend("local", workers=args.workers)
    verdicts = {}
    for way in args.ways.split(","):
        counting = Counting(local)
        started = time.monotonic()
        if way == "cap-first":
            capped = Limits(time_s=min(limit * args.slow_cap, 3600.0), slow_cap=1)
            jobs = [Job(p, i, e, capped) for _, p, i, e in work]
            runs = run_batch(jobs, backend=counting, workers=args.workers, progress=False)
            near = [(j, t) for j, rs in enumerate(runs) for t, r in enumerate(rs)
                    if r.status != Status.TIMEOUT and limit < r.cpu_s <= NEAR_LIMIT * limit]
            again = run_batch([Job(work[j][1], [work[j][2][t]], [work[j][3][t]], Limits(time_s=limit, slow_cap=1))
                               for j, t in near], backend=counting, workers=args.workers, progress=False)
            second = {key: rs[0] for key, rs in zip(near, again)}
            results = []
            for j, rs in enumerate(runs):
                out = []
                for t, r in enumerate(rs):
                    if (j, t) in second and second[(j, t)].status != Status.TIMEOUT:
                        out.append(second[(j, t)].status.value if second[(j, t)].passed is not False else "WRONG")
                    elif r.status == Status.TIMEOUT or r.cpu_s > limit:
                        out.append("SLOW" if r.status == Status.OK and r.passed else "TIMEOUT")
                    else:
                        out.append(r.status.value if r.passed is not False or r.status != Status.OK else "WRONG")
                results.append(out)
        else:
            cap = args.slow_cap if way == "schedule" else 1
            jobs = [Job(p, i, e, Limits(time_s=limit, slow_cap=cap)) for _, p, i, e in work]
            runs = run_batch(jobs, backend=counting, workers=args.workers, progress=False)
            results = [[r.status.value if r.passed is not False or r.status != Status.OK else "WRONG" for r in rs]
                       for rs in runs]
        wall = time.monotonic() - started
        counts = Counter(s for rs in results for s in rs)
        solved = sum(all(s == "OK" for s in rs) for rs in results)
        slow_only = sum(all(s in ("OK", "SLOW") for s in rs) and "SLOW" in rs for rs in results)
        print(f"{way:>10}: {counting.runs} test runs, {counting.cpu:.1f} s of their CPU, {wall:.1f} s wall; statuses {dict(counts.most_common())}; "
              f"{solved} solutions pass every test, {slow_only} only slow", flush=True)
        verdicts[way] = results
    if "schedule" in verdicts and "cap-first" in verdicts:
        differ = [(w[0], t, a, b) for w, ra, rb in zip(work, verdicts["schedule"], verdicts["cap-first"])
                  for t, (a, b) in enumerate(zip(ra, rb)) if a != b]
        print(f"schedule and cap-first disagree on {len(differ)} tests: {differ[:10]}")


if __name__ == "__main__":
    main()
