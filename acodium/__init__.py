"""acodium: generate, execute and judge solutions to CodeContests problems.

`acodium.evaluate(candidates, tests, k=...)` is the notebook entry point
(`acodium.evaluation.evaluate`); the stages are the subpackages and modules
(`acodium.data`, `acodium.generate`, `acodium.execute`, `acodium.evaluation`,
`acodium.select`, `acodium.metrics`, ...).
"""

from __future__ import annotations

__version__ = "0.1.0"


def __getattr__(name: str):
    """`acodium.evaluate`, loaded on first use: `import acodium` stays instant (the evaluation
    stack pulls in pandas, numpy and the executors, about a second)."""
    if name == "evaluate":
        from .evaluation.given_tests import evaluate

        globals()["evaluate"] = evaluate
        return evaluate
    raise AttributeError(f"module 'acodium' has no attribute {name!r}")
