"""Flow traces: written as a run happens, read back whole, shown stage by stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acodium.errors import UserError
from acodium.generate.flow.traces import TRACES_DIR, TraceRecorder, load_trace, trace_path, trace_table

EVENTS = [
    {"event": "call", "stage": "reflect", "call": "reflect/1", "attempt": 0, "messages": [], "reply": "no yaml",
     "cached": False, "error": "no YAML object in the reply"},
    {"event": "call", "stage": "reflect", "call": "reflect/2", "attempt": 1, "messages": [], "reply": "...",
     "cached": True, "parsed": ["Count the 8s.", "n // 11 numbers at most."]},
    {"event": "decision", "stage": "model_tests", "decision": "tests added", "count": 2, "on_examples": 1},
    {"event": "code", "stage": "initial_code", "version": 1, "language": "python3",
     "code": "n = int(input())\ns = input()\nprint(s.count('8'))\n"},
    {"event": "tests", "stage": "initial_code", "version": 1, "results": [
        {"kind": "public", "index": 0, "passed": False}, {"kind": "public", "index": 1, "passed": True},
        {"kind": "model", "index": 0, "passed": True}]},
    {"event": "tests", "stage": "initial_code", "version": 2, "results": []},
    {"event": "decision", "stage": "fix_public", "decision": "reverted", "version": 2, "test": ["public", 2],
     "broke": {"public": [2]}, "analysis": "long analysis not shown"},
    {"event": "end", "stop_reason": "the run's 8 calls were spent (in fix_public)", "final_version": 1, "calls": 8},
]


def test_a_recorded_trace_reads_back_as_written(tmp_path):
    path = trace_path(tmp_path, "1060_A. Phone Numbers", "flow-0003")
    assert path.parent.parent == tmp_path / TRACES_DIR and path.name == "flow-0003.jsonl"
    recorder = TraceRecorder(path)
    assert path.parent.is_dir()  # the folder is made with the file
    recorder(EVENTS[0])
    # each event is on disk as soon as it happens: a crash keeps what was done
    assert load_trace(tmp_path, "1060_A. Phone Numbers", "flow-0003") == EVENTS[:1]
    for event in EVENTS[1:]:
        recorder(event)
    recorder.close()
    recorder.close()  # closing twice is harmless (a failed run closes in `finally`)
    assert load_trace(tmp_path, "1060_A. Phone Numbers", "flow-0003") == EVENTS
    assert recorder.events == []  # a file recorder keeps nothing in memory


def test_values_json_cannot_hold_are_written_as_text(tmp_path):
    recorder = TraceRecorder(tmp_path / "t.jsonl")
    recorder({"event": "call", "path": Path("/x/y"), "test": ("public", 1), "reply": "\u00e9\u4e2d"})
    recorder.close()
    line = (tmp_path / "t.jsonl").read_text(encoding="utf-8")
    assert json.loads(line) == {"event": "call", "path": "/x/y", "test": ["public", 1], "reply": "\u00e9\u4e2d"}
    assert "\u4e2d" in line  # kept readable, not escaped


def test_without_a_run_folder_events_stay_in_memory():
    recorder = TraceRecorder(None)
    for event in EVENTS:
        recorder(event)
    recorder.close()
    assert recorder.events == EVENTS and recorder.path is None


def test_a_torn_last_line_is_skipped_and_a_redone_run_replaces_its_trace(tmp_path):
    path = trace_path(tmp_path, "p", "flow-0000")
    recorder = TraceRecorder(path)
    recorder(EVENTS[0])
    recorder(EVENTS[1])
    recorder.close()
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"event": "code", "stage": "initial_co')  # the process died mid-write
    assert load_trace(tmp_path, "p", "flow-0000") == EVENTS[:2]
    # the run is redone whole (from the LLM cache): its new trace is the only one
    again = TraceRecorder(path)
    again(EVENTS[-1])
    again.close()
    assert load_trace(tmp_path, "p", "flow-0000") == [EVENTS[-1]]


def test_problem_names_become_distinct_safe_folders(tmp_path):
    names = ["1060_A. Phone Numbers", "1060_A? Phone Numbers", "../../etc/passwd", "x" * 200, "a/b", "a_b"]
    folders = [trace_path(tmp_path, name, "flow-0000").parent for name in names]
    assert len(set(folders)) == len(names)  # a hash keeps names apart that clean to the same text
    for folder in folders:
        assert folder.parent == tmp_path / TRACES_DIR  # never outside the traces folder
        assert len(folder.name) <= 60 + 9 and "/" not in folder.name
    assert trace_path(tmp_path, names[0], "flow-0001").parent == folders[0]  # one folder per problem


def test_a_missing_trace_is_one_sentence(tmp_path):
    with pytest.raises(UserError, match=r"No flow trace for flow-0007 of 'p'"):
        load_trace(tmp_path, "p", "flow-0007")


def test_trace_table_summarises_each_event():
    table = trace_table(EVENTS)
    assert list(table.columns) == ["step", "stage", "event", "summary"]
    assert table["step"].tolist() == list(range(len(EVENTS)))
    assert table["stage"].tolist() == ["reflect", "reflect", "model_tests", "initial_code", "initial_code",
                                       "initial_code", "fix_public", ""]
    summary = table["summary"].tolist()
    assert summary[0] == "reflect/1: error: no YAML object in the reply"
    assert summary[1] == 'reflect/2 (cached): ["Count the 8s.", "n // 11 numbers at most."]'
    assert summary[2] == 'tests added {"count": 2, "on_examples": 1}'
    assert summary[3] == "version 1: 3 lines of python3"
    assert summary[4] == "version 1 passes 1/2 public, 1/1 model"
    assert summary[5] == "no tests"
    assert summary[6].startswith("reverted ") and "long analysis" not in summary[6]
    assert summary[7] == "final version 1 after 8 calls; stopped: the run's 8 calls were spent (in fix_public)"


def test_trace_table_shortens_long_replies_and_unknown_events():
    long_parsed = {"event": "call", "stage": "reflect", "call": "reflect/1", "parsed": ["word " * 100]}
    unknown = {"event": "note", "text": "y" * 500}
    finished = {"event": "end", "stop_reason": None, "final_version": 3, "calls": 12}
    summary = trace_table([long_parsed, unknown, finished])["summary"].tolist()
    assert summary[0].endswith("...") and len(summary[0]) == len("reflect/1: ") + 160 + 3
    assert len(summary[1]) == 200
    assert summary[2] == "final version 3 after 12 calls"
    assert trace_table([]).empty and list(trace_table([]).columns) == ["step", "stage", "event", "summary"]
