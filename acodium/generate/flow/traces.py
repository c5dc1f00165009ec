"""A flow run's trace: every call, code version, test result and decision, as JSON lines.

`TraceRecorder` writes one run's events as they happen (to
run_dir/flow_traces/<problem>/<candidate>.jsonl, or to a list when there is no
run folder); `load_trace` reads a file back (a torn last line is skipped) and
`trace_table` turns events into one summarised row each, to show stage by stage.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from ...errors import UserError
from ...wording import plural

TRACES_DIR = "flow_traces"


def _slug(name: str) -> str:
    """A file-system-safe folder name for a problem (its hash keeps different names apart)."""
    return re.sub(r"[^\w.-]+", "_", name)[:60] + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def trace_path(run_dir: str | os.PathLike, problem: str, candidate_id: str) -> Path:
    return Path(run_dir) / TRACES_DIR / _slug(problem) / f"{candidate_id}.jsonl"


class TraceRecorder:
    """Where one run's events go as they happen: a JSONL file (`path`), else `events` in memory.

    The file is opened for writing, not appending: an unfinished run is redone whole
    (from the LLM cache), so its torn trace is replaced.
    """

    def __init__(self, path: Path | None = None):
        self.path = path
        self.events: list[dict] = []
        self._handle = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(path, "w", encoding="utf-8")

    def __call__(self, event: dict) -> None:
        if self._handle is None:
            self.events.append(event)
        else:
            self._handle.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def load_trace(run_dir: str | os.PathLike, problem: str, candidate_id: str) -> list[dict]:
    """The events of one flow run, in order (a torn last line is skipped)."""
    path = trace_path(run_dir, problem, candidate_id)
    if not path.exists():
        raise UserError(f"No flow trace for {candidate_id} of {problem!r} in {run_dir}.")
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def trace_table(events: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per event of a flow run, with a one-line summary: what to show stage by stage."""
    rows = []
    for step, e in enumerate(events):
        kind = e.get("event")
        if kind == "call":
            what = f"error: {e['error']}" if "error" in e else _summary(e.get("parsed"))
            summary = f"{e['call']}{' (cached)' if e.get('cached') else ''}: {what}"
        elif kind == "code":
            summary = f"version {e['version']}: {len(e['code'].splitlines())} lines of {e['language']}"
        elif kind == "tests":
            by_kind: dict[str, list[int]] = {}
            for r in e["results"]:
                by_kind.setdefault(r["kind"], [0, 0])
                by_kind[r["kind"]][0] += bool(r["passed"])
                by_kind[r["kind"]][1] += 1
            summary = f"version {e['version']} passes " + ", ".join(
                f"{p}/{n} {k}" for k, (p, n) in by_kind.items()) if by_kind else "no tests"
        elif kind == "decision":
            detail = {k: v for k, v in e.items() if k not in ("event", "stage", "decision", "analysis")}
            summary = f"{e['decision']} {json.dumps(detail, default=str)}"
        elif kind == "end":
            summary = f"final version {e.get('final_version')} after {plural(e.get('calls') or 0, 'call')}" + (
                f"; stopped: {e['stop_reason']}" if e.get("stop_reason") else "")
        else:
            summary = json.dumps(e, default=str)[:200]
        rows.append({"step": step, "stage": e.get("stage", ""), "event": kind, "summary": summary})
    return pd.DataFrame(rows, columns=["step", "stage", "event", "summary"])


def _summary(parsed: Any, limit: int = 160) -> str:
    text = json.dumps(parsed, ensure_ascii=False, default=str) if not isinstance(parsed, str) else parsed
    return text if len(text) <= limit else text[:limit] + "..."
