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
    said = [line for line in bad.stderr.splitlines() if not line.startswith("gencode: note: ")]  # the sample's
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(said) == 1      # default time limit
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


# --------------------------------------------------------------------------- keys and entries, without a sandbox


from acodium.execute import ExecutionResult, Status  # noqa: E402
from acodium.execute.cache import run_key  # noqa: E402


def _stored(stdout="42\n", status=Status.OK, passed=True, **fields) -> ExecutionResult:
    return ExecutionResult(status=status, passed=passed, stdout=stdout, stderr="warn", exit_code=0, signal=None,
                           time_s=0.25, cpu_s=0.2, memory_bytes=9 << 20, program_hash="ph",
                           output_hash="oh", **fields)


def test_the_key_holds_program_input_limits_backend_and_version():
    base = ("ph", "1 2\n", Limits(time_s=2), "local", "v1")
    key = run_key(*base)
    assert run_key(*base) == key and len(key) == 64
    variants = [("ph2", *base[1:]), (base[0], "1 2", *base[2:]), (*base[:2], Limits(time_s=3), *base[3:]),
                (*base[:2], Limits(time_s=2, memory_bytes=1 << 20), *base[3:]),
                (*base[:2], Limits(time_s=2, output_bytes=1 << 10), *base[3:]),
                (*base[:3], "code_contests", "v1"), (*base[:4], "v2")]
    keys = {run_key(*v) for v in variants}
    assert key not in keys and len(keys) == len(variants)
    assert run_key("ph", "1 2\n", Limits(time_s=2.0), "local", "v1") == key  # 2 and 2.0 are one limit


def test_an_entry_round_trips_without_its_verdict(tmp_path):
    cache = ResultCache(tmp_path)
    assert cache.path == tmp_path / "executions.sqlite"
    odd = "caf\u00e9 \udcff\n" + "x" * 100_000  # a lone surrogate (undecodable program output) survives
    cache.put("k", _stored(odd))
    got = cache.get("k")
    assert (got.status, got.stdout, got.stderr, got.exit_code, got.memory_bytes) == (Status.OK, odd, "warn", 0, 9 << 20)
    assert got.passed is True and got.cached  # a verdict put is kept: run_batch puts only program judges' ones
    cache.put("k2", _stored(odd, passed=None))
    assert cache.get("k2").passed is None  # the usual entry: judged afresh for whatever output a caller expects
    assert cache.get("absent") is None
    cache.close()
    named = ResultCache(tmp_path / "other.sqlite")  # a file name is taken as is
    assert named.path == tmp_path / "other.sqlite" and len(named) == 0
    named.close()


def test_machine_failures_are_never_stored(tmp_path):
    cache = ResultCache(tmp_path)
    cache.put_many([("bad", _stored(status=Status.SANDBOX_ERROR)), ("ok", _stored()),
                    ("slow", _stored(status=Status.TIMEOUT))])
    assert len(cache) == 2 and cache.get("bad") is None and cache.get("slow").status == Status.TIMEOUT
    cache.close()


def test_many_keys_are_read_in_chunks(tmp_path):
    cache = ResultCache(tmp_path)
    cache.put_many([(f"k{i}", _stored(str(i))) for i in range(1200)])
    found = cache.get_many([f"k{i}" for i in range(0, 1300)])  # more than one chunk of 500, some absent
    assert len(found) == 1200 and found["k1199"].stdout == "1199" and "k1250" not in found
    cache.close()


WRITER = r"""
import sys
from acodium.execute import ExecutionResult, Status
from acodium.execute.cache import ResultCache
cache = ResultCache(sys.argv[1])
for i in range(200):
    cache.put(f"{sys.argv[2]}-{i}", ExecutionResult(status=Status.OK, passed=None, stdout=sys.argv[2] * i))
    assert cache.get(f"{sys.argv[2]}-{i}").stdout == sys.argv[2] * i
cache.close()
"""


def test_processes_and_threads_writing_one_cache_lose_nothing(tmp_path):
    import threading

    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name], stderr=subprocess.PIPE, text=True)
             for name in "ab"]
    cache = ResultCache(tmp_path)

    def thread_writer(name):  # each thread its own connection
        cache.put_many([(f"{name}-{i}", _stored(name * i)) for i in range(200)])

    threads = [threading.Thread(target=thread_writer, args=(name,)) for name in "cd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    found = cache.get_many([f"{name}-{i}" for name in "abcd" for i in range(200)])
    assert len(found) == 800 and all(found[f"{n}-{i}"].stdout == n * i for n in "abcd" for i in range(200))
    assert cache.damaged == 0
    cache.close()


@pytest.mark.parametrize("error, message", [
    ("database or disk is full", r"There is no room left to write the execution cache .*: free some disk space"),
    ("database is locked", r"stayed locked by another process \(database is locked\): run again when it is done"),
    ("file is not a database", r"is damaged \(file is not a database\): delete it \(it is only a cache\)"),
])
def test_each_sqlite_failure_is_its_own_sentence(tmp_path, error, message):
    cache = ResultCache(tmp_path)
    with pytest.raises(UserError, match=message + r".*--no_cache"):
        with cache._sqlite():
            raise sqlite3.OperationalError(error)
    cache.close()
