"""Progress bars: tqdm's own where someone watches, a small file where a sweep watches.

`progress_bar` is tqdm.auto's bar (a widget in a notebook, text in a terminal),
except in a run of a sweep: there the runner names a file in
$ACODIUM_PROGRESS_FILE (read when a bar is made), and every bar of the run
writes its state there (description, count, total, unit) instead of drawing,
at most once a second. The runner shows it as that run's line, and the
executed notebook keeps no frozen bar. `grow` raises a bar's total as work is
found, widgets included. Imports nothing heavy: `acodium.execute` loads with
the standard library alone.
"""

from __future__ import annotations

import io
import json
import os
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

PROGRESS_FILE_ENV = "ACODIUM_PROGRESS_FILE"


def progress_bar(*, progress: bool = True, **options: Any):
    """A tqdm bar with these options (`desc`, `total`, `unit`, ...); `progress=False`: a silent one."""
    path = os.environ.get(PROGRESS_FILE_ENV)
    if path and progress:
        return _file_bar()(progress_file=path, **options)
    from tqdm.auto import tqdm

    if not options.get("total"):  # no work known yet: draw nothing until `grow` gives it a length
        options.setdefault("delay", 0.2)
    return tqdm(disable=not progress, **options)


def grow(bar, more: int) -> None:
    """Add `more` to a bar's total and redraw it (a widget made without a total gets its length)."""
    bar.total = (bar.total or 0) + more
    if bar.total:
        bar.delay = 0  # made without work (`progress_bar`'s delay): drawn from now on, and closed with its line
    container = getattr(bar, "container", None)  # tqdm.notebook's widget
    if container is not None and not bar.disable:
        _, widget, _ = container.children
        widget.max, widget.bar_style = max(bar.total, 1), ""
        widget.layout.width = None
    bar.refresh()


def read_progress(path: str | os.PathLike) -> dict | None:
    """The last state a run's bars wrote (None: none yet, or unreadable)."""
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


@lru_cache(maxsize=None)
def _file_bar():
    """The class of bars that write their state to a file (made once tqdm is imported)."""
    from tqdm.std import tqdm

    class FileBar(tqdm):
        def __init__(self, *args, progress_file: str, **kwargs):
            self.progress_file = Path(progress_file)
            kwargs.setdefault("mininterval", 1.0)
            kwargs.pop("dynamic_ncols", None)
            kwargs.pop("delay", None)  # a file has no empty bar to hide: its last state is always written
            super().__init__(*args, file=io.StringIO(), **kwargs)  # tqdm's own printer draws nothing

        def display(self, msg=None, pos=None):
            state = {"desc": self.desc, "n": self.n, "total": self.total, "unit": self.unit,
                     "elapsed_s": round(self.format_dict["elapsed"], 1), "time": time.time()}
            temporary = self.progress_file.with_name(self.progress_file.name + ".tmp")
            try:
                temporary.write_text(json.dumps(state), encoding="utf-8")
                os.replace(temporary, self.progress_file)  # whole: the runner never reads half a line
            except OSError:
                pass  # progress is a courtesy: a full disk must not end the run
            return True

    return FileBar
