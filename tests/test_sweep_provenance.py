"""Provenance: the versions, commit, code and data hashes a sweep's manifest records."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from acodium.sweep.provenance import (
    PACKAGE_ROOT,
    PACKAGES,
    code_fingerprint,
    environment_info,
    file_sha256,
    git_commit,
    package_versions,
)

REPO = Path(__file__).resolve().parents[1]


# ---- versions -----------------------------------------------------------------------------------


def test_versions_are_pythons_and_each_installed_packages():
    versions = package_versions()
    assert versions["python"] == platform.python_version()
    assert set(versions) == {"python", *PACKAGES}
    assert versions["pandas"] == metadata.version("pandas")
    assert versions["pyyaml"] == metadata.version("PyYAML")
    assert versions["acodium"] == metadata.version("acodium")


def test_a_package_that_is_not_installed_has_no_version():
    assert package_versions(["no-such-package-acodium-test", "click"]) == {
        "python": platform.python_version(),
        "no-such-package-acodium-test": None,
        "click": metadata.version("click"),
    }


# ---- git ----------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "tracked.py").write_text("x = 1\n")
    git(root, "add", "tracked.py")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_the_commit_is_heads_and_a_clean_tree_is_not_dirty(repo):
    assert git_commit(repo) == {"commit": git(repo, "rev-parse", "HEAD"), "dirty": False}
    assert len(git_commit(repo)["commit"]) == 40


def test_a_changed_tracked_file_makes_the_tree_dirty_an_untracked_one_does_not(repo):
    (repo / "notes.txt").write_text("scratch")
    assert git_commit(repo)["dirty"] is False
    (repo / "tracked.py").write_text("x = 2\n")
    assert git_commit(repo)["dirty"] is True
    git(repo, "commit", "-q", "-am", "second")
    assert git_commit(repo) == {"commit": git(repo, "rev-parse", "HEAD"), "dirty": False}


def test_outside_a_repository_there_is_no_commit(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_commit(plain) is None
    assert git_commit(tmp_path / "does-not-exist") is None


def test_reading_the_commit_changes_nothing(repo):
    before = git(repo, "status", "--porcelain", "--ignored")
    git_commit(repo)
    assert git(repo, "status", "--porcelain", "--ignored") == before


def test_the_environment_names_acodiums_own_checkout():
    info = environment_info()
    assert info["versions"] == package_versions()
    expected = git_commit(REPO)
    assert info["git"] == expected
    if expected is not None:  # a checkout (not an unpacked archive)
        assert expected["commit"] == git(REPO, "rev-parse", "HEAD")


# ---- the code's fingerprint ---------------------------------------------------------------------


@pytest.fixture
def package(tmp_path):
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "a.py").write_text("A = 1\n")
    (root / "sub" / "prompts.toml").write_text("[p]\nx = 1\n")
    (root / "README.txt").write_text("not code")
    return root


def test_the_code_fingerprint_follows_python_and_toml_sources_only(package):
    first = code_fingerprint(package)
    assert code_fingerprint(package) == first  # deterministic
    (package / "README.txt").write_text("changed, but not code")
    (package / "data.json").write_text("{}")
    assert code_fingerprint(package) == first
    (package / "sub" / "prompts.toml").write_text("[p]\nx = 2\n")
    second = code_fingerprint(package)
    assert second != first
    (package / "b.py").write_text("")  # a new, empty module is a change too
    assert code_fingerprint(package) != second


def test_moving_a_module_changes_the_fingerprint(package):
    before = code_fingerprint(package)
    (package / "a.py").rename(package / "sub" / "a.py")
    assert code_fingerprint(package) != before


def test_the_default_fingerprint_is_of_the_acodium_package():
    assert PACKAGE_ROOT == REPO / "acodium"
    assert code_fingerprint() == code_fingerprint(REPO / "acodium")


def test_a_files_hash_is_the_sha256_of_its_bytes(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b"{\"cells\": []}\n")
    assert file_sha256(path) == hashlib.sha256(b"{\"cells\": []}\n").hexdigest()
