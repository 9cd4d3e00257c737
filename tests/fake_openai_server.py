"""A tiny scripted LLM server on loopback: OpenAI-compatible chat completions and Ollama's chat API.

Tests point the real ``ChatOpenAI`` / ``ChatOllama`` clients at it, so the whole HTTP path (request shape,
auth header, SSE / NDJSON streaming, response parsing) is exercised without a network or a real model.

Replies are scripted like ``FakeChatModel``'s: used in order, the last one repeats. A reply is a string, a
callable taking the request JSON and returning a string, or an :class:`ErrorReply` (an HTTP error status).
Every request received is recorded in :attr:`FakeLLMServer.requests`.

Use the ``fake_llm_server`` fixture: ``from fake_openai_server import fake_llm_server_fixture  # noqa: F401``
in a test module (pytest puts ``tests/`` on ``sys.path``, as it has no ``__init__.py``), then::

    def test_x(fake_llm_server):
        fake_llm_server.script("Hello there.")
        model = ChatOpenAI(base_url=fake_llm_server.openai_base_url, api_key="k", model="m")
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class ErrorReply:
    """Answer with an HTTP error instead of a completion (to test retries and error handling)."""

    status: int = 500
    message: str = "scripted failure"


Reply = str | Callable[[dict[str, Any]], str] | ErrorReply
"""A scripted reply: the text, a function of the request JSON returning the text, or an HTTP error."""


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    json: dict[str, Any] = field(default_factory=dict)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages the client sent (both APIs use ``messages``)."""
        return list(self.json.get("messages", []))


def split_words(text: str) -> list[str]:
    """Stream pieces: word by word, each later word keeping its leading space, like FakeChatModel."""
    words = text.split(" ")
    return [word if i == 0 else " " + word for i, word in enumerate(words)]


class FakeLLMServer:
    """A ``ThreadingHTTPServer`` on 127.0.0.1 (free port) serving scripted chat replies."""

    def __init__(self, *replies: Reply) -> None:
        self.replies: list[Reply] = list(replies) or ["OK"]
        self.requests: list[RecordedRequest] = []
        self.calls = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL, e.g. for ``ChatOllama(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """Base URL for OpenAI clients (they append ``/chat/completions``)."""
        return self.url + "/v1"

    def start(self) -> FakeLLMServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-llm-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting -----------------------------------------------------------------------------------------

    def script(self, *replies: Reply) -> FakeLLMServer:
        """Replace the scripted replies and restart the count (recorded requests are kept)."""
        with self._lock:
            self.replies = list(replies) or ["OK"]
            self.calls = 0
        return self

    def next_reply(self, request: RecordedRequest) -> str | ErrorReply:
        with self._lock:
            self.requests.append(request)
            reply = self.replies[min(self.calls, len(self.replies) - 1)]
            self.calls += 1
        if isinstance(reply, ErrorReply | str):
            return reply
        return str(reply(request.json))

    @property
    def last(self) -> RecordedRequest:
        """The most recent request."""
        return self.requests[-1]


def _handler_for(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path in ("/v1/models", "/models"):
                self._send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
            elif path == "/api/tags":
                self._send_json(200, {"models": [{"name": "fake", "model": "fake"}]})
            elif path in ("/", "/api/version"):
                self._send_json(200, {"version": "0.0.0-fake"})
            else:
                self._send_json(404, {"error": f"no route {path}"})

        def do_POST(self) -> None:
            path = self.path.split("?")[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send_json(400, {"error": "invalid JSON"})
                return
            request = RecordedRequest("POST", path, {k.lower(): v for k, v in self.headers.items()}, body)
            if path in ("/v1/chat/completions", "/chat/completions"):
                self._openai(request)
            elif path == "/api/chat":
                self._ollama(request)
            else:
                self._send_json(404, {"error": f"no route {path}"})

        # -- OpenAI -------------------------------------------------------------------------------------

        def _openai(self, request: RecordedRequest) -> None:
            reply = server.next_reply(request)
            if isinstance(reply, ErrorReply):
                self._send_json(reply.status, {"error": {"message": reply.message, "type": "server_error"}})
                return
            model = request.json.get("model", "fake")
            ident, created = f"chatcmpl-fake{server.calls}", int(time.time())
            prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in request.messages)
            usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(reply.split()),
                "total_tokens": prompt_tokens + len(reply.split()),
            }
            if not request.json.get("stream"):
                self._send_json(
                    200,
                    {
                        "id": ident,
                        "object": "chat.completion",
                        "created": created,
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply},
                                "logprobs": None,
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": usage,
                    },
                )
                return

            def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
                return {
                    "id": ident,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                }

            def events() -> Iterator[bytes]:
                yield _sse(chunk({"role": "assistant", "content": ""}, None))
                for piece in split_words(reply):
                    yield _sse(chunk({"content": piece}, None))
                yield _sse(chunk({}, "stop"))
                if (request.json.get("stream_options") or {}).get("include_usage"):
                    yield _sse({**chunk({}, None), "choices": [], "usage": usage})
                yield b"data: [DONE]\n\n"

            self._send_stream("text/event-stream", events())

        # -- Ollama -------------------------------------------------------------------------------------

        def _ollama(self, request: RecordedRequest) -> None:
            reply = server.next_reply(request)
            if isinstance(reply, ErrorReply):
                self._send_json(reply.status, {"error": reply.message})
                return
            model = request.json.get("model", "fake")
            created = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
            final = {
                "model": model,
                "created_at": created,
                "done": True,
                "done_reason": "stop",
                "total_duration": 1_000_000,
                "load_duration": 1_000,
                "prompt_eval_count": sum(len(str(m.get("content", "")).split()) for m in request.messages),
                "prompt_eval_duration": 1_000,
                "eval_count": len(reply.split()),
                "eval_duration": 1_000,
            }
            if request.json.get("stream") is False:
                self._send_json(200, {**final, "message": {"role": "assistant", "content": reply}})
                return

            def lines() -> Iterator[bytes]:
                for piece in split_words(reply):
                    message = {"role": "assistant", "content": piece}
                    yield _ndjson({"model": model, "created_at": created, "message": message, "done": False})
                yield _ndjson({**final, "message": {"role": "assistant", "content": ""}})

            self._send_stream("application/x-ndjson", lines())

        # -- plumbing -----------------------------------------------------------------------------------

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, content_type: str, parts: Iterator[bytes]) -> None:
            """Chunked transfer encoding, one HTTP chunk per event, flushed as it goes."""
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            for part in parts:
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _ndjson(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode() + b"\n"


@pytest.fixture(name="fake_llm_server")
def fake_llm_server_fixture() -> Iterator[FakeLLMServer]:
    """A started :class:`FakeLLMServer` replying "OK" until a test calls ``.script(...)``; stopped afterwards.

    Import it as ``fake_llm_server_fixture`` (``# noqa: F401``) and ask for ``fake_llm_server`` in tests:
    importing the fixture under its own name would make ruff flag every test argument as a redefinition.
    """
    with FakeLLMServer() as server:
        yield server


fake_llm_server = fake_llm_server_fixture
"""The same fixture under the name it is requested by, for ``from fake_openai_server import fake_llm_server``."""
