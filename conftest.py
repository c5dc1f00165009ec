"""Every test session, the notebooks run by nbval included: a cache folder of its own, and no one to click.

The notebooks cache where the command line does ($ACODIUM_CACHE, else
~/.cache/acodium) when their `cache_dir` is empty, as nbval runs them: the
session points ACODIUM_CACHE at a fresh folder, removed at its end, so a test
never reads or fills the user's cache. ACODIUM_BATCH tells notebooks that no
one is there to click (`acodium.explore.interactive`: no widgets). Both are
set before nbval starts a kernel, which inherits them.
"""

from __future__ import annotations

import os
import shutil
import tempfile


def pytest_configure(config):
    config.acodium_cache = tempfile.mkdtemp(prefix="acodium-test-cache-")
    os.environ["ACODIUM_CACHE"] = config.acodium_cache
    os.environ["ACODIUM_BATCH"] = "1"


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "acodium_cache", ""), ignore_errors=True)
