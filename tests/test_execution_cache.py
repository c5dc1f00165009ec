"""The execution cache under damage: a bad entry is a miss, a bad file or a full disk one sentence."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from acodium.errors import UserError
from acodium.execute import Limits, Program, run_program
from acodium.execute.cache import ResultCache

GENCODE = str(Path(sys.executable).with_name("gencode"))
PROGRAMS = [Program("python3", f"print(int(input()) + {i})") for i in range(5)]
LIMITS = Limits(time_s=3)


def _run_all(cache_dir):
    return [run_program(p, ["1\n"], ["%d" % (1 + i)], LIMITS, cache_dir=cache_dir)[0] for i, p in enumerate(PROGRAMS)]


def test_damaged_entries_are_misses_run_again_and_repaired(tmp_path):
    fresh = _run_all(tmp_path)
    assert all(r.passed and not r.cached for r in fresh)
    assert all(r.cached for r in _run_all(tmp_path))
    db = sqlite3.connect(tmp_path / "executions.sqlite")
    keys = [k for (k,) in db.execute("SELECT key FROM runs ORDER BY program_hash")]
    by_program = {ph: k for k, ph in db.execute("SELECT key, program_hash FROM runs")}
    damage = [
        "UPDATE runs SET stdout = X'00112233' WHERE key = ?",  # not zlib
        "UPDATE runs SET status = 'WINNER' WHERE key = ?",  # a bogus status
        "UPDATE runs SET time_s = 'slow' WHERE key = ?",  # text in a number
        "UPDATE runs SET stdout = ? WHERE key = ?",  # zlib of bytes that are not UTF-8
    ]
    order = [by_program[p.hash] for p in PROGRAMS]
    with db:
        for i, sql in enumerate(damage):
            args = (zlib.compress(b"\xff\xfe"), order[i]) if "?" in sql.split("WHERE")[0] else (order[i],)
            db.execute(sql, args)
    db.close()
    assert len(keys) == 5
    again = _run_all(tmp_path)
    assert [r.cached for r in again] == [False, False, False, False, True]
    assert [(r.status, r.passed, r.stdout) for r in again] == [(r.status, r.passed, r.stdout) for r in fresh]
    assert all(r.cached for r in _run_all(tmp_path))  # the damaged entries were written again


def test_an_unreadable_cache_file_is_one_sentence(tmp_path):
    _run_all(tmp_path)
    for f in tmp_path.glob("executions.sqlite-*"):
        f.unlink()
    path = tmp_path / "executions.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UserError, match=rf"The execution cache {path} is damaged .*: delete it .*--no_cache"):
        _run_all(tmp_path)
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))  # a header, then garbage
    with pytest.raises(UserError, match=rf"The execution cache {path} is damaged"):
        _run_all(tmp_path)


def test_the_cli_says_so_in_one_sentence_and_runs_with_no_cache(train_rows, tmp_path):
    data = tmp_path / "two.jsonl"
    data.write_text("".join(__import__("json").dumps(r) + "\n" for r in train_rows[:2]))
    cache = tmp_path / "cache"
    (cache / "executions").mkdir(parents=True)
    (cache / "executions" / "executions.sqlite").write_bytes(b"\x00garbage" * 1000)
    env = {**os.environ, "ACODIUM_CACHE": str(cache)}
    cmd = [GENCODE, "eval", "references", "--dataset", str(data), "--max_tests", "2", "--no_progress"]
    bad = subprocess.run(cmd + ["--out", str(tmp_path / "a")], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1
    assert f"{cache}/executions/executions.sqlite is damaged" in bad.stderr and "--no_cache" in bad.stderr
    ok = subprocess.run(cmd + ["--out", str(tmp_path / "b"), "--no_cache"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap makes the small disk")
def test_a_full_disk_under_the_cache_is_one_sentence(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    script = r"""
import sys
from acodium.errors import UserError
from acodium.execute import Limits, Program, run_program
noise = Program("python3", "import os\nprint(os.urandom(200000).hex())")
try:
    for i in range(20):
        run_program(noise, [str(i)], limits=Limits(time_s=5), cache_dir=sys.argv[1])
except UserError as e:
    print(e)
"""
    proc = subprocess.run(["bwrap", "--dev-bind", "/", "/", "--size", str(256 * 1024), "--tmpfs", str(disk), "--",
                           sys.executable, "-c", script, str(disk)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"There is no room left to write the execution cache {disk}/executions.sqlite"), \
        proc.stdout
    assert "--no_cache" in proc.stdout


def test_len_and_get_of_a_sound_cache(tmp_path):
    _run_all(tmp_path)
    cache = ResultCache(tmp_path)
    assert len(cache) == 5 and cache.damaged == 0
    cache.close()
