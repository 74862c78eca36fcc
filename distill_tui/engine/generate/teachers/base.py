"""What every teacher has in common: the prompt built from the task, the hash
of the exact request, the normalised answer, and the two kinds of failure the
queue distinguishes (retry it, or stop the run)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from distill_tui.core.config import Task
from distill_tui.core.errors import UserError
from distill_tui.core.generate.pricing import Usage


@dataclass(frozen=True)
class Prompt:
    """Instructions and few-shot examples are the prefix every request shares
    (and the part providers cache); the input is the last user turn."""

    system: str
    examples: tuple[tuple[str, str], ...]
    input: str

    def messages(self) -> list[dict[str, str]]:
        """Chat messages for OpenAI-style APIs and chat templates."""
        out: list[dict[str, str]] = []
        if self.system:
            out.append({"role": "system", "content": self.system})
        for q, a in self.examples:
            out += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        out.append({"role": "user", "content": self.input})
        return out


def system_text(task: Task) -> str:
    parts = [task.instructions.strip()]
    if task.input_description.strip():
        parts.append(f"Input: {task.input_description.strip()}")
    if task.output_description.strip():
        parts.append(f"Output: {task.output_description.strip()}")
    if task.output_format == "json":
        parts.append("Answer with one JSON value and nothing else.")
    return "\n\n".join(p for p in parts if p)


def build_prompt(task: Task, input_text: str) -> Prompt:
    return Prompt(
        system=system_text(task),
        examples=tuple((e.input, e.output) for e in task.examples),
        input=input_text,
    )


def request_hash(request: dict[str, Any]) -> str:
    """sha256 of the request body as sent (canonical JSON), so a changed
    instruction, example or parameter shows up as a different hash."""
    blob = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class Completion:
    text: str
    usage: Usage
    stop_reason: str | None
    prompt_hash: str
    latency_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class TransientError(Exception):
    """Worth retrying: rate limits, overload, 5xx, timeouts, dropped connections,
    an answer that is not what the API promises (bad JSON, HTML, empty).

    `kind` is "connection" or "timeout" when no answer came at all (the queue
    stops after a few in a row), "status" for an HTTP error, "answer" for a
    bad answer."""

    def __init__(
        self, message: str, retry_after: float | None = None, kind: str = "status"
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.kind = kind


def bad_answer(body: object) -> TransientError:
    """A 200 whose body is not the API's JSON (an HTML error page from a proxy,
    a truncated body): a failed attempt with a clear reason. `body` is the
    parse error, or the text the SDK returned instead of a message."""
    what = f"{type(body).__name__}: {body}" if isinstance(body, Exception) else repr(body)
    return TransientError(f"the teacher's answer was not valid JSON ({what[:80]})", kind="answer")


def empty_answer(stop_reason: str | None) -> TransientError:
    return TransientError(
        f"the teacher's answer was empty (stop reason: {stop_reason or 'none'})", kind="answer"
    )


class PermanentError(UserError):
    """Retrying cannot help and every other row would fail the same way (bad
    key, unknown model, malformed request): the run stops with this message."""


@runtime_checkable
class Teacher(Protocol):
    """A request-at-a-time teacher (`complete`) or a batched one
    (`batch_size` > 1 and `complete_batch`); the queue handles both."""

    name: str  # "provider:model", stored with every generation
    model: str
    provider: str
    batch_size: int

    async def complete(self, prompt: Prompt) -> Completion: ...

    async def complete_batch(self, prompts: list[Prompt]) -> list[Completion]: ...

    async def aclose(self) -> None: ...


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds, float allowed)."""
    if headers is None:
        return None
    for key, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(key)
        if raw is None:
            continue
        try:
            return max(float(raw) * scale, 0.0)
        except ValueError:
            continue
    return None


def server_message(e: Any) -> str:
    """The server's own words from an SDK status error, whatever its shape:
    `{"error": {"message": ...}}` (Anthropic, OpenAI, Ollama), `{"error": "..."}`
    (mlx_lm.server), `{"message": ...}` (vLLM) or a plain-text body."""
    body = getattr(e, "body", None)
    msg: Any = None
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = (err.get("message") or err.get("detail")) if isinstance(err, dict) else err
        msg = msg or body.get("message") or body.get("detail")
    elif isinstance(body, str):
        msg = body
    if not msg:
        try:
            msg = e.response.text
        except Exception:  # noqa: BLE001 - no response, or a body already consumed
            msg = None
    msg = msg or getattr(e, "message", "") or ""
    return " ".join(str(msg).split())[:500]


TRANSIENT_STATUS = {408, 409, 429}


def classify(e: Exception, sdk: Any, label: str) -> Exception:
    """Map an error of an official SDK (`anthropic` or `openai`: the same
    error classes) to TransientError (retry) or PermanentError (stop);
    anything else is returned as it is. `label` names the provider in the
    permanent error's text."""
    if isinstance(e, sdk.APIStatusError):
        status = e.status_code  # type: ignore[attr-defined]
        msg = server_message(e)
        if status in TRANSIENT_STATUS or status >= 500:
            return TransientError(
                f"HTTP {status}: {msg}",
                parse_retry_after(e.response.headers),  # type: ignore[attr-defined]
            )
        return PermanentError(f"{label}: {describe_status(status, msg)}")
    if isinstance(e, sdk.APITimeoutError):
        return TransientError("request timed out", kind="timeout")
    if isinstance(e, sdk.APIConnectionError):
        return TransientError(f"connection error: {e}", kind="connection")
    return e


def describe_status(status: int, message: str) -> str:
    hints = {
        401: "authentication failed: check the API key in the environment",
        403: "permission denied for this key",
        404: "not found: check the model name and base URL",
        400: "the provider rejected the request",
    }
    head = hints.get(status, f"HTTP {status}")
    return f"{head} ({message})" if message else head
