"""The execution backends by name, one live instance per (name, options)."""

from __future__ import annotations

import atexit
import importlib
import threading

from ..errors import UserError
from .base import Backend

# name -> (module, class): each backend module defines one Backend subclass.
BACKENDS = {
    "local": ("acodium.execute.local", "LocalBackend"),
    "code_contests": ("acodium.execute.code_contests", "CodeContestsBackend"),
}

# Where a backend runs: "local" (this machine, the backend itself) or "ray" (the local sandbox on
# every node of a Ray cluster, driven from here: ray_executor.RayBackend).
EXECUTORS = ("local", "ray")
RAY_MISSING = "The ray executor needs Ray, which is not installed: pip install 'acodium[ray]'."

_instances: dict[tuple, Backend] = {}
_instances_lock = threading.Lock()


def get_backend(name: str = "local", **options) -> Backend:
    """The backend called `name` ("local" or "code_contests"), built with `options`.

    Backends hold worker processes, so one instance per (name, options) is kept and
    reused for the life of the process (closed at exit). Local options: `sandbox=False`
    (run unsandboxed: explicit opt-in, warns on every run), `workers`, `python`,
    `tmp_bytes`.
    """
    if isinstance(name, Backend):
        return name
    if name not in BACKENDS:
        raise UserError(f"Unknown execution backend {name!r}: choose one of {', '.join(BACKENDS)}.")
    key = (name, tuple(sorted(options.items())))
    with _instances_lock:
        backend = _instances.get(key)
        if backend is None or getattr(backend, "_closed", False):
            module, cls = BACKENDS[name]
            backend = getattr(importlib.import_module(module), cls)(**options)
            _instances[key] = backend
        return backend


def get_executor(name: str, **options) -> Backend:
    """The driver's end of executor `name` ("ray"): a Backend whose `run_many` spreads jobs over the
    cluster's nodes. Options: `backend` (the one each node runs, "local") and the local backend's own
    (`python3`). One lives at a time in a process (it holds every node's CPUs): asking for one with
    other options closes the one before. Closed at exit."""
    if name != "ray":
        raise UserError(f"Unknown executor {name!r}: choose one of {', '.join(EXECUTORS)}.")
    key = ("executor:" + name, tuple(sorted(options.items())))
    with _instances_lock:
        backend = _instances.get(key)
        if backend is None or getattr(backend, "_closed", False):
            for other in [k for k in _instances if k[0] == key[0] and k != key]:
                _instances.pop(other).close()
            try:
                module = importlib.import_module("acodium.execute.ray_executor")
            except ImportError as e:
                if str(getattr(e, "name", "")).split(".")[0] == "ray":
                    raise UserError(RAY_MISSING) from None
                raise
            backend = module.RayBackend(**options)
            _instances[key] = backend
        return backend


@atexit.register
def _close_backends() -> None:
    for backend in list(_instances.values()):
        try:
            backend.close()
        except Exception:  # noqa: BLE001 - the process is exiting
            pass
    _instances.clear()
