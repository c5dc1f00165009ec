"""Do mutated test inputs still parse the way their originals do? Before vs after, on real problems.

For each problem of the shared sample, `--per_problem` inputs are mutated
from its public tests (`acodium.mutate.mutate_inputs`, seeded) by the
mutator of a baseline revision (`--before`, read from git) and by the
current one. Each mutated input is checked against its original with
`acodium.mutate.structure_break` (same lines and tokens per line, same token
types, every integer that may count something unchanged); the share that
fails is "structurally broken". Target: under 2% after.

The check shares its notion of "may count something" with the mutator, so it
cannot see a count that neither recognises; `--run` adds a check that does
not depend on it: each problem's human solution runs on the originals and
on the mutated inputs, and the script reports the share of mutated inputs
on which it crashes or times out while it ran the original cleanly.

    .venv/bin/python bench/mutation_validity.py [--per_problem 10] [--run]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import types
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACODIUM_SHARED_DATA", REPO.parent / "shared" / "data"))
BASELINE = "c9620ab"  # the mutator before issue 14 (counts on a line's start were edited)


def _baseline(rev: str):
    """The `mutate` module (or package, since it was split) as it was at `rev`, or None when git cannot give it."""
    try:
        source = subprocess.run(["git", "show", f"{rev}:acodium/mutate.py"], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return _baseline_package(rev)
    module = types.ModuleType("acodium._mutate_baseline")
    module.__package__ = "acodium"
    sys.modules[module.__name__] = module  # dataclasses look their module up by name
    exec(compile(source, f"{rev}:acodium/mutate.py", "exec"), module.__dict__)
    return module


def _baseline_package(rev: str):
    """The `acodium/mutate/` package at `rev`, imported as `acodium._mutate_baseline` (its `..` imports
    reach today's acodium), or None when git cannot give it."""
    import importlib.util
    import io
    import tarfile
    import tempfile

    try:
        archive = subprocess.run(["git", "archive", "--format=tar", rev, "acodium/mutate"], cwd=REPO, check=True,
                                 capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = Path(tempfile.mkdtemp(prefix="mutate_baseline_"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    package = folder / "acodium" / "mutate"
    spec = importlib.util.spec_from_file_location("acodium._mutate_baseline", package / "__init__.py",
                                                  submodule_search_locations=[str(package)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[module.__name__] = module
    spec.loader.exec_module(module)
    return module


def _mutations(module, rows, per_problem: int, seed: int) -> list[tuple[str, str, str]]:
    """(problem, original, mutated) triples; the original is the base the mutation came from."""
    out = []
    for row in rows:
        inputs = row["public_tests"]["input"]
        for i, base in enumerate(inputs):
            # one base at a time, so each mutation knows its original; the budget is shared
            share = per_problem // len(inputs) + (i < per_problem % len(inputs))
            if share:
                for mutated in _mutate(module, inputs, base, share, seed + i):
                    out.append((row["name"], base, mutated))
    return out


def _mutate(module, inputs, base, count, seed):
    """Mutations of `base`, with the problem's other inputs as context where the mutator takes it."""
    import inspect

    if "context" in inspect.signature(module.mutate_inputs).parameters:
        return module.mutate_inputs([base], count, seed, context=[t for t in inputs if t != base])
    return module.mutate_inputs([base], count, seed)


def _run_check(rows, triples, time_limit: float, cache_dir) -> dict:
    """The human solution on originals and mutations: mutated inputs it fails on (crash, timeout)."""
    from acodium.execute import Execution, Job, Program

    execution = Execution(time_s=time_limit, cache_dir=cache_dir)

    by_name = {r["name"]: r for r in rows}
    names = sorted({p for p, _, _ in triples})
    jobs, where = [], []
    for name in names:
        mine = [(o, m) for p, o, m in triples if p == name]
        inputs = sorted({o for o, _ in mine}) + [m for _, m in mine]
        code = by_name[name]["solutions"]["solution"][0]
        jobs.append(Job(Program("python3", code), inputs, limits=execution.limits(by_name[name], "python3")))
        where.append((inputs, mine))
    runs = execution.run_batch(jobs, progress=False)
    counted = failed = 0
    statuses: Counter = Counter()
    for (inputs, mine), results in zip(where, runs):
        status = {text: r.status.value for text, r in zip(inputs, results)}
        for original, mutated in mine:
            if status[original] != "OK":
                continue  # the reference fails the original too: says nothing about the mutation
            counted += 1
            if status[mutated] != "OK":
                failed += 1
                statuses[status[mutated]] += 1
    return {"counted": counted, "failed": failed, "share": failed / counted if counted else None,
            "statuses": dict(statuses)}


def _measure(module, rows, args) -> dict:
    from acodium.mutate import structure_break

    started = time.monotonic()
    triples = _mutations(module, rows, args.per_problem, args.seed)
    reasons = Counter(r for r in (structure_break(o, m) for _, o, m in triples) if r)
    broken = sum(reasons.values())
    result = {
        "mutated_inputs": len(triples),
        "problems_with_mutations": len({p for p, _, _ in triples}),
        "structurally_broken": broken,
        "broken_share": broken / len(triples) if triples else None,
        "reasons": dict(reasons),
        "problems_with_broken": len({p for p, o, m in triples if structure_break(o, m)}),
        "wall_s": round(time.monotonic() - started, 2),
    }
    if args.run:
        result["reference_run"] = _run_check(rows, triples, args.time_limit, args.cache)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(SHARED / "code_contests_train_sample.jsonl"))
    parser.add_argument("--per_problem", type=int, default=10, help="mutated inputs per problem")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--before", default=BASELINE, help="git revision of the baseline mutator")
    parser.add_argument("--run", action="store_true", help="also run the human solutions (see above)")
    parser.add_argument("--time_limit", type=float, default=4.0, help="seconds per run with --run")
    parser.add_argument("--cache", default=None, help="execution cache folder for --run")
    parser.add_argument("--json", default=None, help="write the numbers here too")
    args = parser.parse_args()

    from acodium import mutate

    rows = [json.loads(line) for line in open(args.dataset)]
    table = {}
    baseline = _baseline(args.before)
    if baseline is None:
        print(f"(no baseline: git cannot show {args.before}:acodium/mutate.py nor acodium/mutate/)")
    else:
        table[f"before ({args.before})"] = _measure(baseline, rows, args)
    table["after"] = _measure(mutate, rows, args)

    print(f"{len(rows)} problems, up to {args.per_problem} mutated inputs each from the public tests")
    print(f"{'mutator':<18} {'inputs':>7} {'problems':>8} {'broken':>7} {'share':>7}  reasons")
    for label, r in table.items():
        share = "n/a" if r["broken_share"] is None else f"{100 * r['broken_share']:.2f}%"
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(r["reasons"].items(), key=lambda kv: -kv[1])) or "-"
        print(f"{label:<18} {r['mutated_inputs']:>7} {r['problems_with_mutations']:>8} "
              f"{r['structurally_broken']:>7} {share:>7}  {reasons}")
    if args.run:
        print("reference solution on mutated inputs whose original it runs OK:")
        for label, r in table.items():
            run = r["reference_run"]
            share = "n/a" if run["share"] is None else f"{100 * run['share']:.2f}%"
            print(f"{label:<18} fails {run['failed']} of {run['counted']} ({share}) {run['statuses']}")
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
