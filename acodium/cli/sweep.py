"""`gencode sweep params/NAME.yaml`: run a sweep's notebooks over its grid with papermill."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import Folder, cache_dir, option, positive_int, seconds


@click.command(
    "sweep",
    help=(
        "Run the notebooks of a sweep file (params/NAME.yaml) over its grid, each run in a "
        "process of its own, into OUT/NAME/RUN_ID/ (executed notebooks, tables, figures, manifest.json)."
    ),
)
@click.argument("sweep_file", type=click.Path(dir_okay=False, path_type=Path))
@option("out", default="outputs", show_default=True, type=Folder(path_type=Path),
        help="Folder that receives NAME/RUN_ID/.")
@option("only", multiple=True, metavar="KEY=VALUE",
        help="Run only the grid points with KEY=VALUE (repeatable; KEY may be `notebook`).")
@click.option("--set", "set_", multiple=True, metavar="KEY=VALUE",
        help="Fix a parameter for every run, replacing the file's value (repeatable; VALUE is YAML).")
@option("run_id", default=None, help="Name of the run folder (default: the UTC time); an existing one resumes.")
@option("force", is_flag=True, help="With an existing --run_id, re-run the runs that already succeeded too.")
@option("workers", default=1, show_default=True, type=positive_int,
        help="Runs executed at the same time (each notebook may use several cores itself).")
@option("timeout", default=None, type=seconds, help="Seconds a single cell may take.")
@option("cache", default=None, type=Folder(path_type=Path),
        help="Shared cache of executions and LLM replies [default: $ACODIUM_CACHE or ~/.cache/acodium].")
def group(sweep_file, out, only, set_, run_id, force, workers, timeout, cache):
    # Imported here, not at the top: `gencode --help` loads every group's module (acodium.cli's lazy
    # groups), and acodium.sweep brings pandas, which would make the help take a second instead of 0.2 s.
    from ..sweep import parse_assignment, run_sweep

    overrides = dict(parse_assignment(s) for s in set_)
    result = run_sweep(
        sweep_file,
        out=out,
        only=only,
        overrides=overrides,
        cache_dir=cache or cache_dir(),
        run_id=run_id,
        workers=workers,
        timeout_s=timeout,
        force=force,
        echo=click.echo,
    )
    ok = sum(r.status in ("ok", "skipped") for r in result.runs)
    skipped = sum(r.status == "skipped" for r in result.runs)
    click.echo(f"{ok}/{len(result.runs)} runs succeeded" + (f" ({skipped} skipped: done before)" if skipped else "")
               + f"; manifest: {result.dir / 'manifest.json'}")
    if result.failed:
        click.echo(
            f"gencode: {len(result.failed)} run(s) failed; their executed notebooks are kept: "
            + ", ".join(r.run_id for r in result.failed),
            err=True,
        )
        sys.exit(1)
