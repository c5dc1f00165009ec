"""acodium: generate, execute and judge solutions to CodeContests problems.

Imports stay lazy so that `import acodium` is instant: `acodium.evaluate(...)`
(the notebook entry point of `acodium.evaluate`, a callable module) loads
the evaluation stack only when first used.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {"evaluate": "acodium.evaluate"}


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(_LAZY[name])
    raise AttributeError(f"module 'acodium' has no attribute {name!r}")
