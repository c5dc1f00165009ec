"""What a sweep's manifest records so a result can be traced: versions, commit, code, data.

A figure is only worth what its provenance says: the package versions and git
commit it ran at, a hash of acodium's own source (a run whose code changed is
run again rather than reused), and a content hash of the problems it loaded
(`acodium.data.dataset_fingerprint`, recorded by the notebook itself).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

# The packages whose versions decide a result (the manifest lists each, None when absent).
PACKAGES = (
    "acodium", "datasets", "pandas", "numpy", "pyarrow", "matplotlib", "papermill",
    "nbformat", "nbclient", "ipykernel", "openai", "click", "pyyaml",
)
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # acodium/
REPO_ROOT = PACKAGE_ROOT.parent


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Python's version and each package's installed version (None when not installed)."""
    versions: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(path: str | os.PathLike = ".") -> dict[str, Any] | None:
    """The commit the code ran at, and whether the working tree had changes (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def environment_info() -> dict[str, Any]:
    """The versions and the git state of acodium's repository, as one manifest entry."""
    return {"versions": package_versions(), "git": git_commit(REPO_ROOT)}


def code_fingerprint(root: str | os.PathLike = PACKAGE_ROOT) -> str:
    """A hash of acodium's own source (every .py and .toml of the package): what a run's code was."""
    root = Path(root)
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml") and p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """The hash of one file's bytes (a notebook as it was run)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
