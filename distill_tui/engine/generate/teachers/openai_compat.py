"""An OpenAI-compatible chat-completions teacher (OpenAI, Gemini's compatible
endpoint, Ollama, LM Studio, vLLM, `mlx_lm.server`) through the official
`openai` client, with its own retries off so the queue counts and paces them.

The key comes from `OPENAI_API_KEY`; local servers need none, so a placeholder
is sent when it is unset. The base URL is `[teacher] base_url` or
`OPENAI_BASE_URL`.

The output cap goes out as `max_completion_tokens` to OpenAI's own API (its
reasoning models refuse `max_tokens`, which it has deprecated) and as
`max_tokens` elsewhere, the field every compatible server reads; a server
that refuses `max_tokens` and names `max_completion_tokens` (an OpenAI proxy)
gets the other field from then on. Errors carry the server's own message.
"""

from __future__ import annotations

import json
import os
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from distill_tui.core.config import Teacher as TeacherSettings
from distill_tui.core.generate.pricing import Usage
from distill_tui.engine.generate.teachers.base import (
    Completion,
    Prompt,
    TransientError,
    bad_answer,
    empty_answer,
    request_hash,
    server_message,
)
from distill_tui.engine.generate.teachers.base import (
    classify as base_classify,
)

# Hosts that take only `max_completion_tokens` for some models.
OPENAI_HOSTS = {"api.openai.com"}


def build_request(prompt: Prompt, settings: TeacherSettings) -> dict[str, Any]:
    """The request as hashed and stored; `OpenAITeacher` may rename its
    `max_tokens` on the wire, which leaves the hash alone."""
    # Providers that cache prompts (OpenAI, vLLM) match on a shared prefix, so
    # the instructions and examples come first and unchanged.
    return {
        "model": settings.model,
        "max_tokens": settings.max_tokens,
        "temperature": settings.temperature,
        "messages": prompt.messages(),
    }


def usage_of(u: Any) -> Usage:
    if u is None:
        return Usage()
    details = getattr(u, "prompt_tokens_details", None)
    cached = int(getattr(details, "cached_tokens", 0) or 0) if details else 0
    return Usage(
        input_tokens=int(u.prompt_tokens or 0),
        output_tokens=int(u.completion_tokens or 0),
        cache_read_tokens=cached,
    )


def classify(e: Exception) -> Exception:
    """Map an SDK error to TransientError (retry) or PermanentError (stop)."""
    return base_classify(e, openai, "openai-compatible")


def _wants_completion_tokens(e: openai.BadRequestError) -> bool:
    msg = server_message(e)
    return "max_tokens" in msg and "max_completion_tokens" in msg


class OpenAITeacher:
    provider = "openai"
    batch_size = 1

    def __init__(self, settings: TeacherSettings, *, timeout: float = 120.0) -> None:
        self.settings = settings
        self.model = settings.model
        self.name = f"openai:{settings.model}"
        kwargs: dict[str, Any] = {
            "max_retries": 0,
            "timeout": timeout,
            "api_key": os.environ.get("OPENAI_API_KEY") or "not-needed",
        }
        if settings.base_url:
            kwargs["base_url"] = settings.base_url
        self.client = openai.AsyncOpenAI(**kwargs)
        self.completion_tokens_field = self.client.base_url.host in OPENAI_HOSTS

    def wire_body(self, body: dict[str, Any]) -> dict[str, Any]:
        if not self.completion_tokens_field:
            return body
        wire = dict(body)
        wire["max_completion_tokens"] = wire.pop("max_tokens")
        return wire

    async def complete(self, prompt: Prompt) -> Completion:
        body = build_request(prompt, self.settings)
        try:
            wire = self.wire_body(body)
            try:
                resp = await self.client.chat.completions.create(**wire)
            except openai.BadRequestError as e:
                if "max_tokens" not in wire or not _wants_completion_tokens(e):
                    raise
                self.completion_tokens_field = True
                resp = await self.client.chat.completions.create(**self.wire_body(body))
        except openai.APIError as e:
            raise classify(e) from None
        except json.JSONDecodeError as e:  # a 200 whose body is not JSON
            raise bad_answer(e) from None
        if not isinstance(resp, ChatCompletion):  # a non-JSON body comes back as text
            raise bad_answer(resp)
        if not resp.choices:
            raise TransientError("the endpoint returned no choices", kind="answer")
        choice = resp.choices[0]
        if not (choice.message.content or "").strip():
            raise empty_answer(choice.finish_reason)
        return Completion(
            text=choice.message.content or "",
            usage=usage_of(resp.usage),
            stop_reason=choice.finish_reason,
            prompt_hash=request_hash(body),
        )

    async def complete_batch(self, prompts: list[Prompt]) -> list[Completion]:
        return [await self.complete(p) for p in prompts]

    async def aclose(self) -> None:
        await self.client.close()


def served_models(base_url: str, timeout_s: float = 3.0) -> list[str]:
    """The model names an OpenAI-compatible server lists at `/models` (under
    its base URL, `.../v1`), or [] when it does not answer or lists none:
    the Task screen offers them when the provider is switched to one. For a
    server on this machine or network: no proxy, no key."""
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(base_url.rstrip("/") + "/models", timeout=timeout_s) as r:
            data = json.loads(r.read(1_000_000)).get("data") or []
    except (OSError, ValueError, AttributeError):
        return []
    return [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]
