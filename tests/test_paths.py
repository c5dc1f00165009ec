"""acodium.paths: folders read from the environment when asked, the cache layout, and a folder
that cannot be written refused before any work, in one sentence."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from acodium.errors import UserError
from acodium.paths import Caches, cache_dir, caches, data_dir, folder_problem



@pytest.fixture
def unwritable(tmp_path):
    """A folder this user cannot write in: a read-only one of our own, or (as root, who writes
    anywhere on a writable file system) /proc/sys, which even root cannot."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        yield locked
        locked.chmod(0o700)
        return
    if not Path("/proc/sys").is_dir() or os.access("/proc/sys", os.W_OK):
        pytest.skip("no folder here that this user cannot write in")
    yield Path("/proc/sys")


def test_data_dir_is_read_from_the_environment_when_asked(monkeypatch, tmp_path):
    monkeypatch.delenv("ACODIUM_DATA", raising=False)
    assert data_dir() == Path("data")
    monkeypatch.setenv("ACODIUM_DATA", str(tmp_path / "mine"))
    assert data_dir() == tmp_path / "mine"  # no reload: read on each call, not at import


def test_cache_dir_is_the_environment_else_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ACODIUM_CACHE", raising=False)
    assert cache_dir() == tmp_path / "home" / ".cache" / "acodium"
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    assert not (tmp_path / "c").exists()  # finding the folder creates nothing


def test_the_cache_layout_under_a_root(monkeypatch, tmp_path):
    assert caches(tmp_path) == Caches(executions=tmp_path / "executions", llm=tmp_path / "llm" / "responses.sqlite")
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "env"))
    assert caches().executions == tmp_path / "env" / "executions"  # default root: cache_dir()


def test_a_cache_folder_under_a_file_is_one_sentence(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("ACODIUM_CACHE", str(tmp_path / "file" / "cache"))
    with pytest.raises(UserError, match=r"^The cache folder .*file/cache cannot be written: .*file is not a folder; "
                                        r"set ACODIUM_CACHE elsewhere\.$"):
        cache_dir()
    with pytest.raises(UserError, match="cannot be written"):
        caches()  # the layout asks the same question


def test_an_unwritable_cache_folder_is_one_sentence(monkeypatch, unwritable):
    monkeypatch.setenv("ACODIUM_CACHE", str(unwritable / "acodium"))
    with pytest.raises(UserError, match=rf"^The cache folder {unwritable}/acodium cannot be written: {unwritable} is "
                                        r"not writable; set ACODIUM_CACHE elsewhere\.$"):
        cache_dir()
    monkeypatch.setenv("ACODIUM_CACHE", str(unwritable))
    with pytest.raises(UserError, match=f"{unwritable} is not writable"):
        cache_dir()


def test_folder_problem_looks_at_the_nearest_existing_folder(tmp_path, unwritable):
    assert folder_problem(tmp_path) is None
    assert folder_problem(tmp_path / "a" / "b" / "c") is None  # made later, under a writable folder
    assert not (tmp_path / "a").exists()
    (tmp_path / "f").write_text("")
    assert folder_problem(tmp_path / "f") == f"{tmp_path / 'f'} is not a folder"
    assert folder_problem(tmp_path / "f" / "x") == f"{tmp_path / 'f'} is not a folder"
    assert folder_problem(unwritable / "new" / "deeper") == f"{unwritable} is not writable"
    assert folder_problem(str(unwritable)) == f"{unwritable} is not writable"  # a string path too
