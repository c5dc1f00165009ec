"""A real Ray cluster of several nodes on this machine (`ray.cluster_utils.Cluster`), for the ray
executor's tests and bench/ray_scaling.py.

Each node is a raylet of its own with its own CPUs, object store and worker processes, as
on separate machines (only the network is the loopback). A node's start can fail on a
loaded machine: the raylet gives its dashboard agent 15 s to report its ports (fixed in
Ray 2.60's raylet) and the agent's imports take longer when other work holds the cores.
`start_cluster` tries again (up to `attempts` times per node, a little later each time), ending
the processes a failed start left behind, and says how long the cluster took.
"""

from __future__ import annotations

import os
import signal
import time


# What a node needs here and no more: no log monitor (log_to_driver is off), and on the head no
# dashboard nor autoscaler monitor. Fewer Python processes importing Ray at once: a start that fits
# the raylet's 15 s more often on a loaded machine.
LEAN = {"include_log_monitor": False}
LEAN_HEAD = {**LEAN, "include_dashboard": False, "no_monitor": True}


def _descendants() -> set[int]:
    """Our process's descendants (from /proc): the processes a node's start made."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _attempt(start, attempts: int, what: str):
    last = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(5.0 * attempt)  # a loaded machine may be less loaded in a moment
        before = _descendants()
        try:
            return start()
        except Exception as e:  # noqa: BLE001 - Ray says "timed out during startup"; tried again
            last = e
            for pid in _descendants() - before:  # what the failed start left running
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
    raise RuntimeError(f"The {what} of the Ray test cluster did not start in {attempts} attempts: {last}")


def start_cluster(nodes: int = 2, cpus: int = 1, attempts: int = 8):
    """A head and `nodes - 1` worker nodes of `cpus` CPUs each, connected (ray.init) as this process's
    cluster: (cluster, [worker node handles], seconds it took)."""
    import ray
    from ray.cluster_utils import Cluster

    started = time.monotonic()
    # Ray starts its workers at nice 15 (on a machine of its own, the raylet keeps the upper hand); here
    # they share the machine with other work and with the local executor they are compared with: on equal terms.
    os.environ.setdefault("RAY_worker_niceness", "0")
    cluster = _attempt(lambda: Cluster(initialize_head=True, head_node_args={"num_cpus": cpus, **LEAN_HEAD}),
                       attempts, "head node")
    workers = [_attempt(lambda: cluster.add_node(num_cpus=cpus, **LEAN), attempts, f"node {i + 2}")
               for i in range(nodes - 1)]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, logging_level="WARNING")
    return cluster, workers, time.monotonic() - started


def add_node(cluster, cpus: int = 1, attempts: int = 8):
    """One more worker node, started as `start_cluster` starts them."""
    node = _attempt(lambda: cluster.add_node(num_cpus=cpus, **LEAN), attempts, "added node")
    cluster.wait_for_nodes()
    return node


def stop_cluster(cluster) -> None:
    import ray

    ray.shutdown()
    cluster.shutdown()
