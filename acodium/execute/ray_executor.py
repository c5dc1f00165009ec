"""The ray executor: the local sandbox on every node of a Ray cluster, driven from this process.

`Execution(executor="ray")` (`--executor ray`) makes `get_backend()` return a `RayBackend`:
the driver's end of one `ray_node.NodeSandbox` actor per node, each holding that node's
`LocalBackend` with one sandboxed worker per CPU the node offers. `run_batch` above it is
the local executor's, unchanged: it dedupes jobs, reads and writes the execution cache,
decides verdicts and slow positives, and the evaluation driver writes the run folder. Only
this process writes files; a node only runs jobs and sends back their results, which are
the local backend's own (verdicts identical to the local executor's on the same work).

The cluster is found the way Ray finds it: an already connected `ray.init()`, else
`RAY_ADDRESS`, else a cluster started on this machine by `ray start` (`address="auto"`),
else a Ray started here for this process (docs/scale.md).

Backpressure: at most `IN_FLIGHT_PER_CPU` jobs per CPU are sent ahead (one running on
each worker, one waiting in the actor), so the object store never holds more than that
of a pool, however large; the rest wait here as the caller's own job list.

Failures: a job whose node dies (its actor, its raylet, the machine) is sent again to
another node, its lost results never counted; the node is left out, and nodes that join
later (or come back) are given an actor the next time one is needed. A driver killed
mid-run resumes from its run folder like a local run. A node whose sandbox differs
(another `LocalBackend.version()`: runtimes, acodium) is left out with a warning: its
results would be filed under another cache key.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import socket
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

from ..errors import UserError
from .base import Backend
from .judges import ProgramChecker
from .registry import RAY_MISSING
from .types import ExecutionResult, Job

IN_FLIGHT_PER_CPU = 2
START_TIMEOUT_S = 300.0  # for a node's actor to start its sandbox (imports, first worker; loaded machines)
NODES_WAIT_S = 120.0  # with every node lost, how long to wait for one to join before giving up
FAILURES_BEFORE_LEFT_OUT = 3  # a node that failed this often gets no new actor
LOOK_S = 30.0  # how often a run looks for nodes that joined the cluster


class RayExecutorWarning(UserWarning):
    """A Ray node was left out, or said something while starting its sandbox."""


def _ray():
    try:
        import ray
    except ImportError:
        raise UserError(RAY_MISSING) from None
    return ray


def connect() -> bool:
    """Connect to the cluster the way Ray finds one (see the module docstring): whether a Ray
    was started here for this process (then it is shut down with the backend)."""
    ray = _ray()
    if ray.is_initialized():
        return False
    quiet = dict(log_to_driver=False, logging_level=logging.WARNING)
    address = os.environ.get("RAY_ADDRESS")
    try:
        if address:
            _reachable(address)  # Ray itself keeps trying a dead address for minutes
            ray.init(**quiet)  # Ray reads RAY_ADDRESS itself
            return False
        try:
            ray.init(address="auto", **quiet)
            return False
        except ConnectionError:  # no cluster on this machine: one of our own
            pass
        try:
            ray.init(include_dashboard=False, **quiet)
        except Exception as e:  # noqa: BLE001 - Ray's own words, in one sentence
            raise UserError(f"A Ray could not be started on this machine ({_first_line(e)}): start one with "
                            "`ray start --head` and run again, or name a cluster with RAY_ADDRESS.") from None
        return True
    except ConnectionError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"Cannot reach the Ray cluster at RAY_ADDRESS={address} ({first.rstrip('.')}).") from None


def _reachable(address: str, timeout_s: float = 5.0) -> None:
    """A ConnectionError at once when RAY_ADDRESS names a host:port that nothing answers on."""
    host, _, port = address.strip().rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return  # "auto", a ray:// client address: Ray's to judge
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as e:
        raise ConnectionError(f"nothing answers at {host}:{port}: {e.strerror or e}") from None


@dataclass
class _Node:
    """A node running our actor, as the driver sees it."""

    node_id: str
    actor: Any
    cpus: int
    host: str = ""
    in_flight: dict = field(default_factory=dict)  # object ref -> index of the job in the current run_many
    compiles: int = 0  # as its actor last counted them


class RayBackend(Backend):
    """The driver's end of the sandboxes on every node of a Ray cluster (see the module docstring).

    Its `name` is "local": the programs run in the local sandbox, and its results are filed
    under the same cache keys as the local executor's when the nodes' sandbox is this one.
    Options: `backend` (what each node runs: "local") and the local backend's own (`python3`).
    Every node's CPUs are taken for its sandbox's workers while the backend lives; `run_many`'s
    `workers` bounds the programs run at once.
    """

    name = "local"
    kind = "ray"
    runs_program_judges = True

    def __init__(self, backend: str = "local", **options):
        if backend != "local":
            raise UserError(f"The ray executor runs the local sandbox on every node, not the {backend} backend: "
                            "use the local backend with it.")
        ray = _ray()
        self._closed = False
        self._started = connect()
        from .ray_node import NodeSandbox

        self._actor_class = ray.remote(NodeSandbox)
        self._options = options
        self._nodes: dict[str, _Node] = {}
        self._starting: dict = {}  # hello ref -> (node id, actor, cpus, when asked)
        self._failures: collections.Counter[str] = collections.Counter()
        self._usage: dict[str, dict] = {}
        self._resubmitted = 0
        self._version: str | None = None
        self._missing: dict[str, str | None] = {}
        self._address = ray.get_runtime_context().gcs_address
        self._looked = 0.0
        self._only: set[str] | None = None  # `use_nodes`
        self.refresh(initial=True)
        if not self._nodes:
            raise UserError(f"The Ray cluster at {self._address} has no node with a CPU free to run programs on.")

    # -- nodes -----------------------------------------------------------------------

    def refresh(self, initial: bool = False) -> None:
        """Actors on the nodes that joined the cluster (or came back) since, waited for until their
        sandbox has started. `run_many` also looks every LOOK_S, without waiting."""
        ray = _ray()
        self._start_actors()
        if self._starting:
            ready, _ = ray.wait(list(self._starting), num_returns=len(self._starting), timeout=START_TIMEOUT_S)
            self._greet(ready, initial)
        self._expire(force=True)

    def nodes(self) -> dict[str, dict]:
        """The nodes running sandboxes now: id -> {"host", "cpus"}."""
        return {n.node_id: {"host": n.host, "cpus": n.cpus} for n in self._nodes.values()}

    def use_nodes(self, node_ids: Iterable[str] | None) -> None:
        """Send jobs to these nodes only (None: to every node); their actors stay, holding their CPUs.
        For measuring (bench/ray_scaling.py: one node against two) or sparing a node for a while."""
        self._only = set(node_ids) if node_ids is not None else None

    def _usable(self) -> list[_Node]:
        return [n for n in self._nodes.values() if self._only is None or n.node_id in self._only]

    def _start_actors(self) -> None:
        """An actor on every live node with a CPU that has none (and has not failed too often)."""
        ray = _ray()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self._looked = time.monotonic()
        known = set(self._nodes) | {node_id for node_id, _, _, _ in self._starting.values()}
        for info in ray.nodes():
            node_id, cpus = info.get("NodeID"), int(info.get("Resources", {}).get("CPU", 0))
            if (not info.get("Alive") or cpus < 1 or node_id in known
                    or self._failures[node_id] >= FAILURES_BEFORE_LEFT_OUT):
                continue
            actor = self._actor_class.options(
                num_cpus=cpus, max_concurrency=IN_FLIGHT_PER_CPU * cpus + 2, max_restarts=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
            ).remote(cpus, self._options)
            self._starting[actor.hello.remote()] = (node_id, actor, cpus, time.monotonic())

    def _greet(self, ready: list, initial: bool = False) -> None:
        """The hellos that came back: each node's sandbox taken into use, or left out (at the start, a
        sandbox that fails is an error: the cluster is not set up for acodium)."""
        ray = _ray()
        hellos = []
        for ref in ready:
            node_id, actor, cpus, _ = self._starting.pop(ref)
            try:
                hellos.append((ray.get(ref), actor, cpus))
            except ray.exceptions.RayError as e:
                hellos.append(({"node": node_id, "error": _first_line(e), "version": ""}, actor, cpus))
        failed = [h for h, _, _ in hellos if h.get("error")]
        if failed and initial:
            for _, actor, _ in hellos:
                ray.kill(actor)
            h = failed[0]
            raise UserError(f"acodium's sandbox could not start on Ray node {h['node'][:12]}"
                            f"{' (' + h['host'] + ')' if h.get('host') else ''}: {h['error'].rstrip('.')}.")
        if self._version is None:  # the sandbox most CPUs run sets the version, the cache key
            by_cpus = collections.Counter()
            for h, _, cpus in hellos:
                if not h.get("error"):
                    by_cpus[h["version"]] += cpus
            if by_cpus:
                self._version = by_cpus.most_common(1)[0][0]
        for h, actor, cpus in hellos:
            if h.get("error") or h["version"] != self._version:
                why = h.get("error") or f"its sandbox is {h['version']}, the others' {self._version}"
                warnings.warn(f"Ray node {h['node'][:12]} is left out: {why}.", RayExecutorWarning, stacklevel=4)
                ray.kill(actor)
                self._failures[h["node"]] = FAILURES_BEFORE_LEFT_OUT
                continue
            for said in h.get("warnings", []):
                warnings.warn(f"Ray node {h['node'][:12]}: {said}", RayExecutorWarning, stacklevel=4)
            self._missing = self._missing or h.get("missing", {})
            self._nodes[h["node"]] = _Node(h["node"], actor, cpus, h.get("host", ""))
            counts = self._usage.setdefault(h["node"], {"host": h.get("host", ""), "cpus": cpus, "jobs": 0,
                                                        "tests": 0, "compiles": 0})
            counts["cpus"] = cpus

    def _expire(self, force: bool = False) -> None:
        """Actors whose sandbox did not start within START_TIMEOUT_S (`force`: now): left out."""
        ray = _ray()
        for ref, (node_id, actor, cpus, asked) in list(self._starting.items()):
            if force or time.monotonic() - asked > START_TIMEOUT_S:
                del self._starting[ref]
                ray.kill(actor)
                self._failures[node_id] += 1
                warnings.warn(f"Ray node {node_id[:12]} did not start acodium's sandbox within {START_TIMEOUT_S:g} s "
                              f"(are its {cpus} CPUs taken?): it is left out.", RayExecutorWarning, stacklevel=4)

    def _lose(self, node: _Node, queue: collections.deque) -> None:
        """A node whose job failed: its jobs in flight go back to the front of the queue, the node is
        left out until it has an actor again (`_start_actors`)."""
        ray = _ray()
        self._nodes.pop(node.node_id, None)
        self._failures[node.node_id] += 1
        lost = sorted(node.in_flight.values())
        self._resubmitted += len(lost)
        queue.extendleft(reversed(lost))
        node.in_flight.clear()
        try:
            ray.kill(node.actor)
        except Exception:  # noqa: BLE001 - gone with its node
            pass

    def _wait_for_nodes(self, waiting: int) -> None:
        """With no node left: actors on nodes that join (or are back) within NODES_WAIT_S, else a UserError."""
        ray = _ray()
        if self._only is not None and self._nodes and not self._usable():
            raise UserError("None of the Ray nodes this executor was told to use (use_nodes) is running "
                            "acodium's sandboxes any more.")
        deadline = time.monotonic() + NODES_WAIT_S
        while not self._nodes:
            if time.monotonic() > deadline:
                raise UserError(f"Every Ray node running acodium's sandboxes was lost and none joined within "
                                f"{NODES_WAIT_S:g} s ({waiting} job(s) not run): what finished is kept, and the same "
                                "command resumes once the cluster has nodes again.")
            self._start_actors()
            if self._starting:
                ready, _ = ray.wait(list(self._starting), num_returns=1, timeout=1.0)
                self._greet(ready)
                self._expire()
            else:
                time.sleep(1.0)

    # -- Backend ---------------------------------------------------------------------

    def version(self) -> str:
        return self._version or ""

    def missing_runtime(self, language: str) -> str | None:
        return self._missing.get(language)

    def default_workers(self) -> int:
        return sum(n.cpus for n in self._usable()) or 1

    def usage(self) -> dict:
        return {"kind": self.kind, "address": self._address, "resubmitted": self._resubmitted,
                "nodes": {node: dict(counts) for node, counts in self._usage.items()}}

    def run(self, job: Job) -> list[ExecutionResult]:
        for _, results in self.run_many([job]):
            return results
        return []

    def run_many(self, jobs: Sequence[Job], workers: int | None = None) -> Iterator[tuple[int, list[ExecutionResult]]]:
        """Jobs to the nodes, at most IN_FLIGHT_PER_CPU per CPU at a time (and per worker of `workers`, when
        fewer), each to the node with the most room; (index, results) as each comes back. A job lost with
        its node is sent again; nodes that join are looked for every LOOK_S."""
        ray = _ray()
        if self._closed:
            raise UserError("This execution backend has been closed.")
        queue = collections.deque(range(len(jobs)))
        owner: dict = {}  # object ref -> its node
        try:
            while queue or owner:
                if not self._usable():
                    self._wait_for_nodes(len(queue))
                if time.monotonic() - self._looked > LOOK_S:
                    self._start_actors()
                bound = IN_FLIGHT_PER_CPU * (workers or self.default_workers())
                while queue and len(owner) < bound:
                    node = max(self._usable(), key=lambda n: n.cpus * IN_FLIGHT_PER_CPU - len(n.in_flight))
                    if len(node.in_flight) >= node.cpus * IN_FLIGHT_PER_CPU:
                        break
                    index = queue.popleft()
                    ref = node.actor.run.remote(_to_send(jobs[index]))
                    node.in_flight[ref] = index
                    owner[ref] = node
                ready, _ = ray.wait(list(owner) + list(self._starting), num_returns=1, timeout=5.0)
                if ready:
                    rest = [r for r in owner if r not in ready]
                    more, _ = ray.wait(rest, num_returns=len(rest), timeout=0) if rest else ([], [])
                    ready += more
                self._greet([r for r in ready if r in self._starting])
                self._expire()
                for ref in ready:
                    node = owner.pop(ref, None)
                    if node is None or ref not in node.in_flight:
                        continue  # a hello, or its node was lost already: the job went back to the queue
                    try:
                        results, compiles = ray.get(ref)
                    except ray.exceptions.RayTaskError as e:  # our code failed on the node: say so here
                        if isinstance(getattr(e, "cause", None), UserError):
                            raise UserError(str(e.cause)) from None  # one sentence, as on one machine
                        raise e.as_instanceof_cause() from None
                    except ray.exceptions.RayError as e:  # the node, its actor or its objects are gone
                        warnings.warn(f"Ray node {node.node_id[:12]} was lost ({_first_line(e)}); its "
                                      f"{len(node.in_flight)} job(s) in flight run elsewhere.",
                                      RayExecutorWarning, stacklevel=2)
                        for other in node.in_flight:
                            owner.pop(other, None)
                        self._lose(node, queue)
                        self._start_actors()
                        continue
                    index = node.in_flight.pop(ref)
                    counts = self._usage[node.node_id]
                    counts["jobs"] += 1
                    counts["tests"] += len(results)
                    counts["compiles"] += max(0, compiles - node.compiles)
                    node.compiles = max(node.compiles, compiles)
                    yield index, results
        finally:
            for ref in owner:  # the caller stopped early: jobs not yet run are not run
                try:
                    ray.cancel(ref)
                except Exception:  # noqa: BLE001 - already finished or gone
                    pass
            for node in self._nodes.values():
                node.in_flight.clear()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            ray = _ray()
            if not ray.is_initialized():  # Ray's own exit hook ran first (it kills a driver's actors itself):
                self._nodes.clear()       # a call into a shut-down Ray may crash the process
                self._starting.clear()
                return
            for node in self._nodes.values():
                try:
                    ray.kill(node.actor)
                except Exception:  # noqa: BLE001 - gone already
                    pass
            for _, actor, _, _ in self._starting.values():
                ray.kill(actor)
            self._nodes.clear()
            self._starting.clear()
            if self._started and ray.is_initialized():
                ray.shutdown()
        except UserError:
            pass


def _to_send(job: Job) -> Job:
    """What a node needs of a job: its expected outputs only where the node judges (a job that stops at
    its first failure, a checker program); `run_batch` judges every other run here, from its output."""
    if job.expected is None or job.stop_on_first_failure or isinstance(job.checker, ProgramChecker):
        return job
    return dataclasses.replace(job, expected=None)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__).rstrip(".")
