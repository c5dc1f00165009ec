"""Tables and logs on disk: torn and damaged lines, full disks, two writers, the run folder lock."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from acodium.errors import UserError
from acodium.tables import AppendLog, run_folder_lock, write_json, write_table

REPO = Path(__file__).resolve().parents[1]
GENCODE = str(Path(sys.executable).with_name("gencode"))


def test_a_torn_last_line_is_ignored_even_inside_a_multibyte_character(tmp_path):
    log = AppendLog(tmp_path / "log.jsonl")
    log.append([{"a": 1, "name": "Caf\u00e9"}, {"a": 2, "name": "\u4e2d\u6587"}])
    log.close()
    whole = (tmp_path / "log.jsonl").read_bytes()
    third = json.dumps({"a": 3, "name": "\u4e2d"}, ensure_ascii=False).encode()
    for cut in range(1, len(third) + 1):  # every prefix, the full line without its newline included
        (tmp_path / "log.jsonl").write_bytes(whole + third[:cut])
        assert [r["a"] for r in log.rows()] == [1, 2] and log.damaged == []
    log.append([{"a": 4}])  # cuts the torn line first
    log.close()
    assert [r["a"] for r in log.rows()] == [1, 2, 4]
    assert (tmp_path / "log.jsonl").read_bytes() == whole + b'{"a": 4}\n'


def test_damaged_lines_elsewhere_are_skipped_and_named(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"a": 1}\n\xff\xfe\n[1, 2]\n{"a": \n\n{"a": 5}\n')
    log = AppendLog(path)
    assert list(log.numbered_rows()) == [(1, {"a": 1}), (6, {"a": 5})]
    assert log.damaged == [2, 3, 4]


def test_a_row_with_a_lone_surrogate_stays_valid_utf8(tmp_path):
    log = AppendLog(tmp_path / "log.jsonl")
    log.append([{"code": "x = '\udcff'"}, {"code": "\u00e9"}])
    log.close()
    (tmp_path / "log.jsonl").read_bytes().decode("utf-8")
    assert [r["code"] for r in log.rows()] == ["x = '\udcff'", "\u00e9"]


WRITER = r"""
import sys
import pandas as pd
from acodium.tables import write_table
df = pd.DataFrame({"x": list(range(2000)), "y": ["abc"] * 2000})
failed = 0
for _ in range(int(sys.argv[2])):
    try:
        write_table(df, sys.argv[1])
    except OSError:
        failed += 1
print(failed)
"""


def test_two_processes_writing_one_table_never_collide(tmp_path):
    """Before unique temporary names, 69 of 300 such writes failed (both wrote t.parquet.tmp)."""
    target = tmp_path / "t.parquet"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(target), "150"], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    failed = [int(p.communicate(timeout=300)[0]) for p in procs]
    assert failed == [0, 0]
    assert len(pd.read_parquet(target)) == 2000
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]  # no temporary file left


def test_atomic_writes_keep_the_usual_file_mode(tmp_path):
    write_table(pd.DataFrame({"x": [1]}), tmp_path / "t.parquet")
    write_json({"x": 1}, tmp_path / "s.json")
    reference = tmp_path / "plain"
    reference.write_text("")
    assert (tmp_path / "t.parquet").stat().st_mode == reference.stat().st_mode
    assert (tmp_path / "s.json").stat().st_mode == reference.stat().st_mode


def test_the_run_folder_lock_is_reentrant_and_names_the_holder(tmp_path):
    hold = "import sys\nfrom acodium.tables import run_folder_lock\nwith run_folder_lock(sys.argv[1]):\n" \
           "    print('held', flush=True)\n    sys.stdin.read()\n"
    with run_folder_lock(tmp_path):
        with run_folder_lock(tmp_path):  # an evaluation inside a generation run
            pass
        other = subprocess.run([sys.executable, "-c", hold, str(tmp_path)], capture_output=True, text=True,
                               input="")
        assert other.returncode == 1 and "in use by another process" in other.stderr
    holder = subprocess.Popen([sys.executable, "-c", hold, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match=rf"in use by another process \(pid {holder.pid}\)"):
            with run_folder_lock(tmp_path):
                pass
    finally:
        holder.communicate("")
    with run_folder_lock(tmp_path):  # released when the holder ended
        pass


# --------------------------------------------------------------------------- a full disk, for real


def _small_disk_command(mount: Path, size: int, argv: list[str]) -> list[str]:
    """argv run with `mount` replaced by an empty tmpfs of `size` bytes (bubblewrap, a mount namespace)."""
    return ["bwrap", "--dev-bind", "/", "/", "--size", str(size), "--tmpfs", str(mount), "--"] + argv


needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap makes the small disk")


@needs_bwrap
def test_a_full_disk_under_the_log_is_one_sentence_and_keeps_the_rows_written(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    script = r"""
import sys
from acodium.errors import UserError
from acodium.tables import AppendLog
log = AppendLog(sys.argv[1] + "/log.jsonl")
written = 0
try:
    while True:
        log.append([{"i": written, "pad": "x" * 1000}])
        written += 1
except UserError as e:
    print(e)
print(written, sum(1 for _ in AppendLog(sys.argv[1] + "/log.jsonl").rows()))
"""
    proc = subprocess.run(_small_disk_command(mount, 64 * 1024, [sys.executable, "-c", script, str(mount)]),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    message, counts = proc.stdout.strip().splitlines()
    assert message.startswith(f"There is no room left to write {mount}/log.jsonl (No space left on device)")
    written, readable = map(int, counts.split())
    assert written > 20 and readable == written  # every row reported written is there and whole


@needs_bwrap
def test_a_full_disk_under_a_table_is_one_sentence_and_leaves_no_temporary_file(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    script = r"""
import sys, os
import numpy as np, pandas as pd
from acodium.errors import UserError
from acodium.tables import write_table
try:
    write_table(pd.DataFrame({"x": np.random.default_rng(0).random(100_000)}), sys.argv[1] + "/t.parquet")
except UserError as e:
    print(e)
print(sorted(os.listdir(sys.argv[1])))
"""
    proc = subprocess.run(_small_disk_command(mount, 64 * 1024, [sys.executable, "-c", script, str(mount)]),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    message, listing = proc.stdout.strip().splitlines()
    assert message.startswith(f"There is no room left to write {mount}/t.parquet")
    assert listing == "[]"


# --------------------------------------------------------------------------- reading, writing, resuming


def test_tables_round_trip_through_parquet_and_jsonl(tmp_path):
    from acodium.tables import CANDIDATES, read_table

    df = pd.DataFrame([{"problem": "p", "candidate_id": "c\u00e9", "language": "python3", "code": "print(1)\n",
                        "source": "human", "meta": "{}"}], columns=CANDIDATES)
    assert read_table(write_table(df, tmp_path / "deep" / "t.parquet")).equals(df)  # folders are made
    with AppendLog(tmp_path / "t.jsonl") as log:
        log.append(df.to_dict("records"))
    assert read_table(tmp_path / "t.jsonl").equals(df)
    assert read_table(tmp_path / "t.jsonl")["candidate_id"].tolist() == ["c\u00e9"]


@pytest.mark.parametrize("name, content, message", [
    ("missing.parquet", None, r"No table at .*missing\.parquet\."),
    ("t.csv", b"a,b\n", r"t\.csv is neither a \.parquet nor a \.jsonl table\."),
    ("t.parquet", b"not parquet at all", r"Cannot read the table .*t\.parquet: "),
    ("t.jsonl", b'{"a": 1}\n{"a": \n', r"Cannot read the table .*t\.jsonl: "),
])
def test_a_table_that_cannot_be_read_is_one_sentence(tmp_path, name, content, message):
    from acodium.tables import read_table

    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(UserError, match=message):
        read_table(tmp_path / name)


def test_missing_columns_are_named():
    from acodium.tables import EXECUTIONS, require_columns

    df = pd.DataFrame(columns=[c for c in EXECUTIONS if c not in ("status", "time_s")])
    with pytest.raises(UserError, match=r"^The executions table lacks the column\(s\) status, time_s\.$"):
        require_columns(df, EXECUTIONS, "executions")
    require_columns(df, ["problem"], "executions")


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    from acodium.tables import _atomic_write

    write_json({"version": 1}, tmp_path / "s.json")

    def half_then_fail(tmp):
        Path(tmp).write_text('{"version": ')
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        _atomic_write(tmp_path / "s.json", half_then_fail)
    assert json.loads((tmp_path / "s.json").read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
    write_json({"when": Path("/x"), "n": 2}, tmp_path / "s.json")  # what JSON cannot hold is written as text
    assert json.loads((tmp_path / "s.json").read_text()) == {"when": "/x", "n": 2}


def test_a_resumed_log_knows_what_is_done(tmp_path):
    path = tmp_path / "log.jsonl"
    log = AppendLog(path)
    assert list(log.rows()) == [] and log.keys("problem") == set()
    assert log.frame(["problem", "k"]).columns.tolist() == ["problem", "k"]  # empty, with the columns
    log.append([{"problem": "a", "k": 1}, {"problem": "a", "k": 2}])
    log.append([])  # nothing to write is no write
    log.close()
    again = AppendLog(path)  # a new process resuming
    assert again.keys("problem", "k") == {("a", 1), ("a", 2)}
    assert again.keys("problem", "missing") == {("a", None)}
    assert again.frame().to_dict("records") == [{"problem": "a", "k": 1}, {"problem": "a", "k": 2}]


def test_a_torn_line_longer_than_a_block_is_cut_whole(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"a": 1}\n' + b'{"a": "' + b"x" * (3 << 20))  # 3 MiB of a line that never ended
    log = AppendLog(path)
    log.append([{"a": 2}])
    log.close()
    assert path.read_bytes() == b'{"a": 1}\n{"a": 2}\n'
    path.write_bytes(b'{"only": "torn')  # no whole line at all
    log = AppendLog(path)
    log.append([{"a": 3}])
    log.close()
    assert path.read_bytes() == b'{"a": 3}\n'


APPENDER = r"""
import sys
from acodium.tables import AppendLog
log = AppendLog(sys.argv[1])
for i in range(400):
    log.append([{"writer": sys.argv[2], "i": i, "pad": sys.argv[2] * (i % 50) * 40}])
log.close()
"""


def test_processes_appending_to_one_log_never_interleave_lines(tmp_path):
    path = tmp_path / "log.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, str(path), name]) for name in "ab"]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    log = AppendLog(path)
    rows = list(log.rows())
    assert log.damaged == [] and len(rows) == 800
    for name in "ab":
        assert [r["i"] for r in rows if r["writer"] == name] == list(range(400))  # each writer's order kept
