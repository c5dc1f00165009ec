"""One node's end of the ray executor: a Ray actor owning that node's sandboxed workers.

`ray_executor.RayBackend` (the driver's end) starts one `NodeSandbox` per node of the
cluster, pinned to it, holding as many of the node's CPUs as it runs workers. The actor
holds a `LocalBackend` with one worker per CPU, the same sandbox the local executor
runs (bubblewrap, an empty environment, the worker's seccomp filter: nothing of the
actor's own process, its RAY_* variables or a key the driver holds, reaches a
candidate), and runs each job sent to it on one of those workers. Ray runs the calls of
a threaded actor in threads of its own, several at once, and the backend lends each
call a worker; the driver sends at most two jobs per CPU, so the workers never wait
for the next job and the node never holds more than that.

The actor writes nothing: results go back to the driver, which alone writes the cache
and the run folder. Its `LocalBackend` keeps the programs it compiled (C++, Java) for
the node's workers, so each is compiled once per node.

Nothing of Ray is imported here at module level: the core of acodium imports without
the [ray] extra, and `ray_executor` wraps `NodeSandbox` with `ray.remote`.
"""

from __future__ import annotations

import os
import socket
import warnings

from ..languages import RUNNABLE_LANGUAGES
from .types import ExecutionResult, Job


class NodeSandbox:
    """A node's sandboxed workers, as a Ray actor (see the module docstring).

    A sandbox that cannot start here (no bubblewrap, no user namespaces) is not an
    exception at creation, which Ray would only report as a dead actor: `hello` says why.
    """

    def __init__(self, cpus: int, options: dict):
        import ray

        self.node_id = ray.get_runtime_context().get_node_id()
        self.cpus = cpus
        self.backend = None
        self.error: str | None = None
        self.warnings: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                from .local import LocalBackend

                self.backend = LocalBackend(workers=cpus, **options)
                self.version = self.backend.version()
            except Exception as e:  # noqa: BLE001 - said to the driver, in its own words
                self.error = str(e) or type(e).__name__
                self.version = ""
        self.warnings = list(dict.fromkeys(str(w.message) for w in caught))

    def hello(self) -> dict:
        """Who and what this node is: its id and host, the sandbox's version (the cache key), the
        languages it cannot run, what went wrong starting it."""
        missing = {}
        if self.backend is not None:
            missing = {lang: self.backend.missing_runtime(lang) for lang in RUNNABLE_LANGUAGES}
        return {"node": self.node_id, "host": socket.gethostname(), "pid": os.getpid(), "cpus": self.cpus,
                "version": self.version, "error": self.error, "warnings": self.warnings, "missing": missing}

    def run(self, job: Job) -> tuple[list[ExecutionResult], int]:
        """One job on one of this node's workers: its results, and the programs compiled on this
        node so far (C++ and Java, each once: `LocalBackend.compiled`)."""
        return self.backend.run(job), self.backend.compiled.compiles

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()
