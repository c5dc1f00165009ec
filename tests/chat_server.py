"""A real OpenAI-compatible HTTP server on 127.0.0.1 for the generation tests.

It speaks `GET /v1/models` and `POST /v1/chat/completions` well enough for the
`openai` client, and lets a test script it:

- `reply_for(marker, *replies)`: a request whose messages contain `marker`
  (say, a problem's statement) gets these replies, in turn;
- `script(*actions)`: the next chat requests get these actions first, one
  each: `Status(429, retry_after=0.05)`, `Status(500)`, `Slow(seconds)`,
  `Malformed(body, content_type)`, `Reply(text)`, `Drop(how)` (the connection
  ends mid-reply, while the server stays up);
- `delay`: seconds every reply takes (to see concurrency);
- `responder`: a function of the request body giving the reply text (None: the
  rules above decide), e.g. a `FlowScript` answering each stage of the flow;
- `models`: the model names it knows (others get the server's 404);
- `api_key`: when set, other keys get a 401.

It counts what it receives (`chat_requests`, `requests`, arrival times, the
largest number of chat requests in flight at once) so tests can assert on the
server side that a cached run made no request at all.

`wrap(code, style)` wraps a program the ways models do.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Status:
    code: int
    retry_after: float | None = None
    message: str = "scripted error"


@dataclass
class Slow:
    seconds: float
    text: str | None = None  # the reply after the wait (None: the usual one)


@dataclass
class Malformed:
    body: bytes
    content_type: str = "application/json"


@dataclass
class Reply:
    text: str


@dataclass
class Drop:
    """The connection ends mid-reply: `close` before any byte, `reset` (a TCP RST), or `partial`
    (the headers and half the body, then close)."""

    how: str = "close"


WRAP_STYLES = ("python_fence", "bare_fence", "prose", "no_fence", "two_blocks", "main_wrapper", "cpp_fence")


def wrap(code: str, style: str) -> str:
    """A program wrapped the way a model might reply with it."""
    code = code.rstrip("\n")
    if style == "python_fence":
        return f"```python\n{code}\n```"
    if style == "bare_fence":
        return f"```\n{code}\n```"
    if style == "prose":
        return (
            "Let me think about this problem step by step. We read the input and compute "
            "the answer directly.\n\nHere is the complete solution:\n\n"
            f"```python\n{code}\n```\n\nThe algorithm runs within the limits. "
            "For the first example it prints the expected output."
        )
    if style == "no_fence":
        return f"Here is my solution:\n\n{code}\n\nThis should pass all the tests."
    if style == "two_blocks":
        return (
            "First a helper I considered:\n\n```python\ndef helper(x):\n    return x\n```\n\n"
            f"The full program:\n\n```python\n{code}\n```\n\nExample input:\n\n```\n1 2\n3\n```\n"
        )
    if style == "main_wrapper":
        body = "\n".join("    " + line if line.strip() else "" for line in code.split("\n"))
        return f"```python\ndef main():\n{body}\n\n\nif __name__ == \"__main__\":\n    main()\n```"
    if style == "cpp_fence":
        return f"```cpp\n{code}\n```"
    raise ValueError(style)


class ChatServer:
    """Start with `start()` (a free port on 127.0.0.1, a daemon thread); `url` is the base_url."""

    def __init__(self, models=("test-model",), api_key: str | None = None):
        self.models = set(models)
        self.api_key = api_key
        self.delay = 0.0
        self.default_reply = "I am not sure how to solve this."
        self.responder = None
        self._rules: list[tuple[str, list[str], list[int]]] = []
        self._script: deque = deque()
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.chat_bodies: list[dict] = []
        self.arrivals: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._connections: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- scripting --------------------------------------------------------

    def reply_for(self, marker: str, *replies: str) -> None:
        self._rules.append((marker, list(replies), [0]))

    def script(self, *actions) -> None:
        with self._lock:
            self._script.extend(actions)

    @property
    def chat_requests(self) -> int:
        return len(self.chat_bodies)

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.chat_bodies.clear()
            self.arrivals.clear()
            self.max_in_flight = 0

    # ---- lifecycle --------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "ChatServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def setup(self):
                super().setup()
                with server._lock:
                    server._connections.add(self.connection)

            def finish(self):
                with server._lock:
                    server._connections.discard(self.connection)
                super().finish()

            def do_GET(self):
                server._handle(self, "GET")

            def do_POST(self):
                server._handle(self, "POST")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), name="chat-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop open connections (as a crashed server would)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        with self._lock:
            connections, self._connections = self._connections, set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # ---- protocol ---------------------------------------------------------

    def _send(self, h: BaseHTTPRequestHandler, code: int, body: bytes, content_type="application/json",
              headers=None) -> None:
        h.send_response(code)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        try:
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def _error(self, h, code: int, message: str, headers=None, kind="invalid_request_error", err_code=None):
        body = json.dumps({"error": {"message": message, "type": kind, "param": None, "code": err_code}})
        self._send(h, code, body.encode(), headers=headers)

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append((method, h.path))
        if self.api_key is not None and h.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._error(h, 401, "Incorrect API key provided.", kind="invalid_api_key")
        if method == "GET" and h.path.rstrip("/") == "/v1/models":
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in sorted(self.models)]
            return self._send(h, 200, json.dumps({"object": "list", "data": data}).encode())
        if method == "POST" and h.path.rstrip("/") == "/v1/chat/completions":
            return self._chat(h, json.loads(raw or b"{}"))
        return self._error(h, 404, f"No route {method} {h.path}.")

    def _chat(self, h, body: dict) -> None:
        with self._lock:
            self.chat_bodies.append(body)
            self.arrivals.append(time.monotonic())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            action = self._script.popleft() if self._script else None
        try:
            if body.get("model") not in self.models:
                return self._error(h, 404, f"The model `{body.get('model')}` does not exist.",
                                   err_code="model_not_found")
            text = None
            if isinstance(action, Status):
                headers = {"retry-after": f"{action.retry_after}"} if action.retry_after is not None else {}
                return self._error(h, action.code, action.message, headers=headers, kind="server_error")
            if isinstance(action, Malformed):
                return self._send(h, 200, action.body, content_type=action.content_type)
            if isinstance(action, Drop):
                return self._drop(h, action.how)
            if isinstance(action, Slow):
                time.sleep(action.seconds)
                text = action.text
            if isinstance(action, Reply):
                text = action.text
            if self.delay:
                time.sleep(self.delay)
            if text is None:
                text = self._reply_text(body)
            prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
            usage = {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(text) // 4}
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            reply = {
                "id": f"chatcmpl-{len(self.chat_bodies)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop", "logprobs": None}],
                "usage": usage,
            }
            self._send(h, 200, json.dumps(reply).encode())
        finally:
            with self._lock:
                self.in_flight -= 1

    def _drop(self, h: BaseHTTPRequestHandler, how: str) -> None:
        if how == "partial":
            body = json.dumps({"id": "chatcmpl-cut", "object": "chat.completion", "choices": []}).encode()
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
        elif how not in ("close", "reset"):
            raise ValueError(how)
        h.close_connection = True
        if how == "reset":  # closed with SO_LINGER 0: the peer gets a reset, not an orderly end
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            h.connection.shutdown(socket.SHUT_RDWR)
        h.connection.close()

    def _reply_text(self, body: dict) -> str:
        if self.responder is not None:
            text = self.responder(body)
            if text is not None:
                return text
        content = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        with self._lock:
            for marker, replies, turn in self._rules:
                if marker in content:
                    text = replies[turn[0] % len(replies)]
                    turn[0] += 1
                    return text
        return self.default_reply


# What each stage of acodium/prompts/flow.toml asks for, as the flow sends it.
FLOW_STAGE_MARKERS = (
    ("fix", "It fails this test."),
    ("reflect", "`self_reflection`"),
    ("explain_tests", "`tests_explanations`"),
    ("possible_solutions", "`possible_solutions`"),
    ("choose_solution", "choose the one to implement"),
    ("model_tests", "with one key, `tests`"),
    ("initial_code", "program that solves the problem"),
)


def flow_stage(body: dict) -> str | None:
    """The flow stage a chat request comes from (its first user message says), or None."""
    first = next((str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user"), "")
    return next((stage for stage, marker in FLOW_STAGE_MARKERS if marker in first), None)


class FlowScript:
    """Replies for the stages of the flow, for `ChatServer.responder`.

    `replies[stage]` is a list used in turn (the last one repeats), or a function of
    the request body. Thinking stages not given get a well-formed default reply;
    requests from outside the flow get None (the server's other rules answer).
    `asked` lists the stage of every request, in order.
    """

    DEFAULTS = {
        "reflect": "self_reflection:\n- The goal is stated in the problem.\n- Read the input carefully.\n",
        "explain_tests": "tests_explanations:\n- input: |\n    see above\n  output: |\n    see above\n"
                         "  explanation: |\n    It follows from the rules.\n",
        "possible_solutions": "possible_solutions:\n- name: Direct\n  content: Compute the answer directly.\n"
                              "  is_brute_force: false\n- name: Greedy\n  content: Take what is best now.\n"
                              "- name: Try everything\n  content: Enumerate.\n  is_brute_force: true\n",
        "choose_solution": "name: Direct\ncontent: Compute the answer directly.\nwhy: simplest\n",
        "model_tests": "tests:\n- input: |\n    1\n  output: |\n    1\n",
    }

    def __init__(self, **replies):
        self.replies = {**self.DEFAULTS, **replies}
        self.turns: dict[str, int] = {}
        self.asked: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, body: dict) -> str | None:
        stage = flow_stage(body)
        if stage is None:
            return None
        with self._lock:
            self.asked.append(stage)
            turn = self.turns.get(stage, 0)
            self.turns[stage] = turn + 1
        reply = self.replies.get(stage, "")
        if callable(reply):
            return reply(body)
        if isinstance(reply, str):
            return reply
        return reply[min(turn, len(reply) - 1)]


try:  # the fixture, for test modules that `from chat_server import chat_server`
    import pytest

    @pytest.fixture
    def chat_server():
        server = ChatServer().start()
        try:
            yield server
        finally:
            server.stop()
except ImportError:  # used outside pytest
    pass
