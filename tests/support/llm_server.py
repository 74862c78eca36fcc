"""A loopback HTTP server that speaks enough of the Anthropic Messages API
(non-streaming, and its free /v1/messages/count_tokens), the Message Batches
API and OpenAI chat completions for the real SDKs to run against it, and
injects faults on demand.

`reply`, when set, writes the answer text from the last user turn (tests of
judges and input writers need answers of a given shape); by default the answer
is `answer_for(text)`.

Faults are consumed in order, one per request: "429" (with retry-after),
"529", "500", "timeout" (answers after `slow_s`), "drop" (closes the socket
without answering), "400", "401", "404", "404-mlx" (a 404 whose body is
`{"error": "<text>"}`, as `mlx_lm.server` answers an unknown model), "html"
and "badjson" (a 200 whose body is not JSON), "empty" (a 200 with an empty
answer). `always` makes every request fail with one. `refuse_max_tokens`
makes chat completions refuse `max_tokens` as OpenAI's reasoning models do.
`cut_at_max_tokens` cuts a Messages answer longer than the request's
`max_tokens` (four characters a token) and says stop_reason "max_tokens", as
the API does.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# What mlx_lm.server answers for a model it cannot load (its words, shortened).
MLX_SERVER_404 = "Repository Not Found for url: https://huggingface.co/api/models/no/such-model"
# OpenAI's answer when a reasoning model is sent max_tokens.
OPENAI_MAX_TOKENS_400 = {
    "message": "Unsupported parameter: 'max_tokens' is not supported with this model."
    " Use 'max_completion_tokens' instead.",
    "type": "invalid_request_error",
    "param": "max_tokens",
    "code": "unsupported_parameter",
}


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if isinstance(b, dict))


def answer_for(text: str) -> str:
    """The fake teacher's deterministic answer."""
    return f"answer: {text[::-1]}"


@dataclass
class FakeLLM:
    latency_s: float = 0.0
    faults: deque[str] = field(default_factory=deque)
    always: str | None = None
    retry_after: str = "0.05"
    slow_s: float = 2.0
    batch_ready_after: int = 1  # polls before a batch ends
    reply: Callable[[str], str] | None = None  # last user text -> answer text
    refuse_max_tokens: bool = False
    cut_at_max_tokens: bool = False
    models: list[str] = field(default_factory=list)  # what GET /v1/models lists
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _seen_prefixes: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.faults = deque(self.faults)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self, "POST")

            def do_GET(self) -> None:  # noqa: N802
                fake._handle(self, "GET")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> FakeLLM:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def message_requests(self) -> list[dict[str, Any]]:
        return [
            r for r in self.requests if r.get("_path") in ("/v1/messages", "/v1/chat/completions")
        ]

    # -- dispatch ------------------------------------------------------------
    def _send(
        self, h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict | None = None
    ) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("content-type", "application/json")
        h.send_header("content-length", str(len(raw)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(raw)

    def _error(
        self, h: BaseHTTPRequestHandler, status: int, kind: str, headers: dict | None = None
    ) -> None:
        self._send(
            h,
            status,
            {"type": "error", "error": {"type": kind, "message": f"fake {kind}"}},
            headers,
        )

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        n = int(h.headers.get("content-length") or 0)
        body = json.loads(h.rfile.read(n) or b"{}") if n else {}
        path = h.path.split("?")[0]
        with self.lock:
            body["_path"] = path
            self.requests.append(body)
            self.headers.append({k.lower(): v for k, v in h.headers.items()})
            self.times.append(time.monotonic())
            is_gen = path in ("/v1/messages", "/v1/chat/completions", "/v1/messages/batches")
            fault = None
            if is_gen and method == "POST":
                fault = self.always or (self.faults.popleft() if self.faults else None)
        if self.latency_s:
            time.sleep(self.latency_s)
        if fault and self._fault(h, fault):
            return
        empty = fault == "empty"
        if path == "/v1/messages/count_tokens":
            self._send(h, 200, {"input_tokens": self._count(body)})
        elif path == "/v1/messages":
            self._send(h, 200, self._message(body, empty))
        elif path == "/v1/chat/completions" and self.refuse_max_tokens and "max_tokens" in body:
            self._send(h, 400, {"error": OPENAI_MAX_TOKENS_400})
        elif path == "/v1/chat/completions":
            self._send(h, 200, self._chat(body, empty))
        elif path == "/v1/messages/batches" and method == "POST":
            self._send(h, 200, self._batch_create(body))
        elif path.startswith("/v1/messages/batches/") and path.endswith("/results"):
            self._batch_results(h, path.split("/")[-2])
        elif path.startswith("/v1/messages/batches/"):
            self._send(h, 200, self._batch_get(path.split("/")[-1], poll=True))
        elif path == "/v1/models" and method == "GET":
            listed = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.models]
            self._send(h, 200, {"object": "list", "data": listed})
        else:
            self._error(h, 404, "not_found_error")

    def _fault(self, h: BaseHTTPRequestHandler, fault: str) -> bool:
        if fault == "429":
            self._error(h, 429, "rate_limit_error", {"retry-after": self.retry_after})
        elif fault == "529":
            self._error(h, 529, "overloaded_error")
        elif fault == "500":
            self._error(h, 500, "api_error")
        elif fault == "400":
            self._error(h, 400, "invalid_request_error")
        elif fault == "401":
            self._error(h, 401, "authentication_error")
        elif fault == "404":
            self._error(h, 404, "not_found_error")
        elif fault == "404-mlx":
            self._send(h, 404, {"error": MLX_SERVER_404})
        elif fault in ("html", "badjson"):
            # A 200 that is not the API's JSON: a proxy's error page, a cut body.
            html = fault == "html"
            raw = b"<html><body>502 Bad Gateway</body></html>" if html else b'{"id": '
            h.send_response(200)
            h.send_header("content-type", "text/html" if html else "application/json")
            h.send_header("content-length", str(len(raw)))
            h.end_headers()
            h.wfile.write(raw)
        elif fault == "empty":
            return False  # answered below, with no text
        elif fault == "timeout":
            time.sleep(self.slow_s)
            return False
        elif fault == "drop":
            h.close_connection = True
            h.connection.shutdown(2)
        else:
            return False
        return True

    def _answer(self, last: str) -> str:
        return self.reply(last) if self.reply is not None else answer_for(last)

    # -- Anthropic -------------------------------------------------------------
    def _usage(self, body: dict[str, Any]) -> dict[str, int]:
        system = _text_of(body.get("system", ""))
        msgs = body.get("messages", [])
        prefix = system + "".join(_text_of(m["content"]) for m in msgs[:-1])
        last = _text_of(msgs[-1]["content"]) if msgs else ""
        read = write = 0
        if prefix:
            with self.lock:
                if prefix in self._seen_prefixes:
                    read = _tokens(prefix)
                else:
                    self._seen_prefixes.add(prefix)
                    write = _tokens(prefix)
        return {
            "input_tokens": _tokens(last),
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": write,
        }

    def _count(self, body: dict[str, Any]) -> int:
        """/v1/messages/count_tokens: every text block, 3 tokens per turn."""
        msgs = body.get("messages", [])
        text = [_text_of(body.get("system", ""))] + [_text_of(m["content"]) for m in msgs]
        return sum(_tokens(t) for t in text if t) + 3 * len(msgs)

    def _message(self, body: dict[str, Any], empty: bool = False) -> dict[str, Any]:
        last = _text_of(body["messages"][-1]["content"])
        out = "" if empty else self._answer(last)
        stop = "end_turn"
        limit = body.get("max_tokens")
        if self.cut_at_max_tokens and isinstance(limit, int) and _tokens(out) > limit:
            out, stop = out[: 4 * limit], "max_tokens"
        usage = self._usage(body)
        usage["output_tokens"] = _tokens(out)
        return {
            "id": f"msg_{uuid.uuid4().hex[:12]}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "fake"),
            "content": [{"type": "text", "text": out}],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
        }

    # -- Message Batches ---------------------------------------------------------
    def _batch_create(self, body: dict[str, Any]) -> dict[str, Any]:
        bid = f"msgbatch_{uuid.uuid4().hex[:12]}"
        with self.lock:
            self.batches[bid] = {"requests": body["requests"], "polls": 0}
        return self._batch_get(bid, poll=False)

    def _batch_get(self, bid: str, poll: bool) -> dict[str, Any]:
        with self.lock:
            b = self.batches[bid]
            if poll:
                b["polls"] += 1
            ended = b["polls"] >= self.batch_ready_after
        n = len(b["requests"])
        return {
            "id": bid,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": {
                "processing": 0 if ended else n,
                "succeeded": n if ended else 0,
                "errored": 0,
                "canceled": 0,
                "expired": 0,
            },
            "created_at": "2025-01-01T00:00:00Z",
            "expires_at": "2025-01-02T00:00:00Z",
            "ended_at": "2025-01-01T01:00:00Z" if ended else None,
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{self.url}/v1/messages/batches/{bid}/results" if ended else None,
        }

    def _batch_results(self, h: BaseHTTPRequestHandler, bid: str) -> None:
        lines = []
        for req in self.batches[bid]["requests"]:
            result = {"type": "succeeded", "message": self._message(req["params"])}
            lines.append(json.dumps({"custom_id": req["custom_id"], "result": result}))
        raw = ("\n".join(lines) + "\n").encode()
        h.send_response(200)
        h.send_header("content-type", "application/binary")
        h.send_header("content-length", str(len(raw)))
        h.end_headers()
        h.wfile.write(raw)

    # -- OpenAI chat completions -----------------------------------------------
    def _chat(self, body: dict[str, Any], empty: bool = False) -> dict[str, Any]:
        msgs = body["messages"]
        last = _text_of(msgs[-1]["content"])
        out = "" if empty else self._answer(last)
        prompt = sum(_tokens(_text_of(m["content"])) for m in msgs)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": out},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": _tokens(out),
                "total_tokens": prompt + _tokens(out),
            },
        }


def serve_forever(latency_s: float = 0.0) -> None:  # pragma: no cover - manual use
    with FakeLLM(latency_s=latency_s) as fake:
        print(fake.url, flush=True)
        threading.Event().wait()


def closed_port() -> int:
    """A loopback port nothing listens on: a teacher that is down (connection refused)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
