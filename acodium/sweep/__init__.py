"""Parameter sweeps: papermill over a grid, one run folder per sweep, a manifest of what ran.

`plan` reads a sweep file into runs, `runner` executes them (each in its own
papermill process, resuming what succeeded), `provenance` records what a
result depends on. The helpers notebooks call (`save_tables`, `caches`, ...)
live in `acodium.notebook`, apart from the orchestrator.
"""

from __future__ import annotations

from .plan import INJECTED, Run, Sweep, expand_grid, load_sweep, notebook_parameters, parse_assignment, plan_runs, point_id
from ..data import dataset_fingerprint  # noqa: F401  (re-exported: it was sweep's before it was data's)
from .provenance import PACKAGES, code_fingerprint, environment_info, git_commit, package_versions
from .runner import KERNEL_NAME, SweepResult, execute_run, kernel_env, new_run_id, notebook_error, run_sweep

__all__ = [
    "INJECTED", "KERNEL_NAME", "PACKAGES", "Run", "Sweep", "SweepResult", "code_fingerprint", "dataset_fingerprint",
    "environment_info", "execute_run", "expand_grid", "git_commit", "kernel_env", "load_sweep", "new_run_id",
    "notebook_error", "notebook_parameters", "package_versions", "parse_assignment", "plan_runs", "point_id",
    "run_sweep",
]
