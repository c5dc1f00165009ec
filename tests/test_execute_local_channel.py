"""The host's end of a local worker (`local_channel`): what it accepts as a reply, and what ends it.

The worker is played here by a thread on the other ends of two pipes, so that every
malformed, forged or late reply can be sent on purpose; the process behind the
`Worker` is a `sleep` in its own session (what `kill` ends). Against real sandboxed
workers, tests/test_sandbox_integrity.py checks the same guarantees.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import tempfile
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acodium.execute.local_channel import (
    MAX_BLOB,
    Worker,
    WorkerLost,
    _frame,
    _NoAnswer,
    _read_frame,
)


def raw_frame(header: bytes, blobs: list[bytes] = ()) -> bytes:
    parts = [struct.pack(">I", len(header)), header]
    for blob in blobs:
        parts += [struct.pack(">Q", len(blob)), blob]
    return b"".join(parts)


def reader(data: bytes):
    """`exact(n)` over bytes, as `_read_frame` wants it; how much was asked for is in `.asked`."""
    view = memoryview(data)

    def exact(n: int) -> bytes:
        if exact.asked + n > len(view):
            raise WorkerLost("the worker closed its channel")
        chunk = bytes(view[exact.asked:exact.asked + n])
        exact.asked += n
        return chunk
    exact.asked = 0
    return exact


class Peer:
    """The worker's side of the channel: answers each request with `answer(header, blobs) -> bytes`."""

    def __init__(self, answer, command=("sleep", "60")):
        request_r, self.request_w = os.pipe2(os.O_CLOEXEC)
        self.reply_r, reply_w = os.pipe2(os.O_CLOEXEC)
        self.request_r, self.reply_w = request_r, reply_w
        self.answer = answer
        self.seen: list[dict] = []
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(list(command), start_new_session=True, stdout=subprocess.PIPE)
        self.scratch = tempfile.mkdtemp(prefix="acodium-channel-test-")
        self.worker = Worker(self.proc, self.request_w, self.reply_r, self.stderr, self.scratch)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = os.read(self.request_r, n - len(data))
            if not chunk:
                raise WorkerLost("host gone")
            data += chunk
        return data

    def _serve(self):
        try:
            while True:
                header, blobs = _read_frame(self._exact)
                self.seen.append(header)
                reply = self.answer(header, blobs)
                if reply is None:  # hang up
                    os.close(self.reply_w)
                    return
                os.write(self.reply_w, reply)
        except (WorkerLost, OSError):
            return

    def send_unasked(self, data: bytes):
        os.write(self.reply_w, data)

    def close(self):
        self.worker.kill()
        self.proc.stdout.close()
        for fd in (self.request_r, self.reply_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.thread.join(timeout=5)


@pytest.fixture
def peer_with():
    peers = []

    def make(answer, **options):
        peers.append(Peer(answer, **options))
        return peers[-1]
    yield make
    for peer in peers:
        peer.close()


def alive(pid: int) -> bool:
    """Running or stopped, not a zombie waiting for its reaper."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def echo(header, blobs):
    """A well-behaved worker: repeats the request's number and sends the blobs back reversed."""
    return _frame({"ok": True, "seq": header["seq"], "op": header["op"]}, [b[::-1] for b in blobs])


# --- frames -------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(header=st.dictionaries(st.text(max_size=8).filter(lambda k: k != "blobs"),
                              st.one_of(st.integers(), st.text(), st.booleans(), st.none()), max_size=5),
       blobs=st.lists(st.binary(max_size=300), max_size=2))
def test_any_frame_reads_back_as_written(header, blobs):
    got_header, got_blobs = _read_frame(reader(_frame(header, blobs)))
    assert got_header == dict(header, blobs=len(blobs)) and got_blobs == blobs


def test_frames_round_trip():
    blobs = [b"", b"\x00\xff" * 1000]
    header, got = _read_frame(reader(_frame({"status": "OK", "n": [1, 2]}, blobs)))
    assert header == {"status": "OK", "n": [1, 2], "blobs": 2} and got == blobs
    assert _read_frame(reader(_frame({"ok": True})))[1] == []


@pytest.mark.parametrize("data, message", [
    (struct.pack(">I", (1 << 20) + 1), "malformed"),  # a header too long to be one
    (raw_frame(b"{not json"), "malformed"),
    (raw_frame(b"[1, 2]"), "malformed"),  # JSON, but not an object
    (raw_frame(b'{"blobs": 4}'), "malformed"),  # more parts than any reply has
    (raw_frame(b'{"blobs": -1}'), "malformed"),
    (raw_frame(b'{"blobs": "2"}'), "malformed"),
])
def test_a_malformed_frame_ends_the_worker(data, message):
    with pytest.raises(WorkerLost, match=message):
        _read_frame(reader(data))


def test_part_sizes_are_checked_before_reading():
    announced = raw_frame(b'{"blobs": 1}') + struct.pack(">Q", MAX_BLOB + 1)
    exact = reader(announced + b"x" * 64)
    with pytest.raises(WorkerLost, match=f"reply part of {MAX_BLOB + 1} bytes"):
        _read_frame(exact)
    assert exact.asked == len(announced)  # not one byte of the part was asked for
    big = _frame({"status": "OK"}, [b"y" * (MAX_BLOB + 1), b""])
    assert len(_read_frame(reader(big), max_blob=2 * MAX_BLOB)[1][0]) == MAX_BLOB + 1  # a request may allow more


def test_a_truncated_frame_is_a_lost_worker():
    whole = _frame({"status": "OK"}, [b"abc"])
    for cut in (2, 6, len(whole) - 1):
        with pytest.raises(WorkerLost):
            _read_frame(reader(whole[:cut]))


# --- requests and replies -------------------------------------------------------------------------

def test_each_request_gets_the_reply_that_repeats_its_number(peer_with):
    peer = peer_with(echo)
    for n in range(1, 4):
        header, blobs = peer.worker.request({"op": "run"}, [b"abc", b""], timeout=5)
        assert header["seq"] == n and blobs == [b"cba", b""]
    assert [h["seq"] for h in peer.seen] == [1, 2, 3]


def test_a_reply_to_another_request_ends_the_worker(peer_with):
    peer = peer_with(lambda h, b: _frame({"ok": True, "seq": h["seq"] - 1}))
    with pytest.raises(WorkerLost, match="answered another request"):
        peer.worker.request({"op": "load"}, [], timeout=5)


def test_a_reply_without_a_number_ends_the_worker(peer_with):
    peer = peer_with(lambda h, b: _frame({"ok": True}))
    with pytest.raises(WorkerLost, match="answered another request"):
        peer.worker.request({"op": "load"}, [], timeout=5)


def test_bytes_sent_unasked_end_the_worker_before_the_next_request(peer_with):
    peer = peer_with(echo)
    peer.worker.request({"op": "run"}, [], timeout=5)
    peer.send_unasked(_frame({"ok": True, "seq": 2}))  # a forged reply for the request to come
    time.sleep(0.05)
    with pytest.raises(WorkerLost, match="not asked for"):
        peer.worker.request({"op": "run"}, [], timeout=5)
    assert len(peer.seen) == 1  # the request was never sent


def test_a_second_frame_in_one_reply_ends_the_worker(peer_with):
    peer = peer_with(lambda h, b: echo(h, b) + echo(h, b))
    with pytest.raises(WorkerLost, match="more than one reply"):
        peer.worker.request({"op": "run"}, [], timeout=5)


def test_a_reply_may_come_in_pieces(peer_with):
    def slowly(header, blobs):
        data = echo(header, [b"0123456789" * 100])
        for i in range(0, len(data), 7):
            os.write(peer.reply_w, data[i:i + 7])
        return b""
    peer = peer_with(slowly)
    assert peer.worker.request({"op": "run"}, [b"x"], timeout=5)[1] == [b"0123456789"[::-1] * 100]


def test_silence_is_no_answer_and_is_not_wrapped(peer_with):
    peer = peer_with(lambda h, b: b"")  # never answers
    start = time.monotonic()
    with pytest.raises(_NoAnswer, match="stopped answering") as caught:
        peer.worker.request({"op": "run"}, [], timeout=0.3)
    assert 0.3 <= time.monotonic() - start < 3
    assert "worker stderr" not in str(caught.value)


def test_a_closed_channel_is_a_lost_worker_quoting_its_stderr(peer_with):
    peer = peer_with(lambda h, b: None)  # hangs up
    peer.stderr.write(b"Traceback ...\nMemoryError: the worker's last words\n")
    peer.stderr.flush()
    with pytest.raises(WorkerLost, match=r"(?s)closed its channel \(worker stderr: .*last words\)"):
        peer.worker.request({"op": "run"}, [], timeout=5)


def test_a_request_to_a_worker_gone_is_a_lost_worker(peer_with):
    peer = peer_with(echo)
    os.close(peer.request_r)  # nobody reads requests any more
    with pytest.raises(WorkerLost, match="gone"):
        peer.worker.request({"op": "run"}, [b"x" * 100_000], timeout=5)


def test_the_hello_is_read_without_a_request(peer_with):
    peer = peer_with(echo)
    peer.send_unasked(_frame({"ok": True, "cgroup": False}))
    assert peer.worker.read_reply(5) == ({"ok": True, "cgroup": False, "blobs": 0}, [])


# --- ending a worker --------------------------------------------------------------------------------

def test_kill_ends_the_process_group_and_removes_what_the_worker_held(peer_with):
    # The worker's process, and a child of it in its process group (as a test's processes are).
    peer = peer_with(echo, command=("sh", "-c", "sleep 60 & echo $!; wait"))
    worker = peer.worker
    child = int(peer.proc.stdout.readline())
    worker.kill()
    assert peer.proc.poll() == -9
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive(child)
    assert not os.path.exists(peer.scratch) and peer.stderr.closed
    worker.kill()  # a second kill is harmless
    with pytest.raises(WorkerLost):
        worker.request({"op": "run"}, [], timeout=1)


def test_stderr_text_is_what_the_worker_wrote(peer_with):
    peer = peer_with(echo)
    peer.stderr.write(json.dumps({"note": "é"}).encode() + b"\xff")
    assert peer.worker.stderr_text() == '{"note": "\\u00e9"}\ufffd'
