"""The Anthropic teacher: the official SDK's async client, one request per row.

The SDK's own retries are off (`max_retries=0`): the queue retries instead, so
every attempt is counted on the row, rate-limit waits pause the whole queue
and a permanent error stops the run at once. The key and base URL come from
the SDK's environment handling (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`),
never from a project file.
"""

from __future__ import annotations

import json
import os
from typing import Any

import anthropic

from distill_tui.core.config import Teacher as TeacherSettings
from distill_tui.core.errors import UserError
from distill_tui.core.generate.pricing import Usage
from distill_tui.engine.generate.teachers.base import (
    Completion,
    Prompt,
    bad_answer,
    empty_answer,
    request_hash,
)
from distill_tui.engine.generate.teachers.base import (
    classify as base_classify,
)

EPHEMERAL = {"type": "ephemeral"}


def build_request(prompt: Prompt, settings: TeacherSettings) -> dict[str, Any]:
    """The Messages API body. The cache breakpoint sits on the last block of
    the shared prefix (the last example's answer, or the system text), so
    instructions and examples are billed at the cache-read rate after the
    first request."""
    system: list[dict[str, Any]] = []
    if prompt.system:
        system.append({"type": "text", "text": prompt.system})
    messages: list[dict[str, Any]] = []
    for q, a in prompt.examples:
        messages.append({"role": "user", "content": [{"type": "text", "text": q}]})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": a}]})
    if messages:
        messages[-1]["content"][-1]["cache_control"] = EPHEMERAL
    elif system:
        system[-1]["cache_control"] = EPHEMERAL
    messages.append({"role": "user", "content": [{"type": "text", "text": prompt.input}]})
    body: dict[str, Any] = {
        "model": settings.model,
        "max_tokens": settings.max_tokens,
        # No temperature: the Messages API of SDK 2.x no longer takes one, so
        # [teacher] temperature applies to the OpenAI-compatible and local teachers.
        "messages": messages,
    }
    if system:
        body["system"] = system
    return body


def usage_of(u: Any) -> Usage:
    read = int(getattr(u, "cache_read_input_tokens", 0) or 0)
    write = int(getattr(u, "cache_creation_input_tokens", 0) or 0)
    # Anthropic's input_tokens excludes cached tokens; ours includes them.
    return Usage(
        input_tokens=int(u.input_tokens or 0) + read + write,
        output_tokens=int(u.output_tokens or 0),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def text_of(message: Any) -> str:
    return "".join(getattr(b, "text", "") for b in message.content if b.type == "text")


def classify(e: Exception) -> Exception:
    """Map an SDK error to TransientError (retry) or PermanentError (stop)."""
    return base_classify(e, anthropic, "anthropic")


def make_client(settings: TeacherSettings, timeout: float) -> anthropic.AsyncAnthropic:
    if not (os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")):
        raise UserError(
            "ANTHROPIC_API_KEY is not set: export it in the shell that runs distill-tui "
            "(it is never stored in the project)"
        )
    kwargs: dict[str, Any] = {"max_retries": 0, "timeout": timeout}
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    return anthropic.AsyncAnthropic(**kwargs)


class AnthropicTeacher:
    provider = "anthropic"
    batch_size = 1

    def __init__(self, settings: TeacherSettings, *, timeout: float = 120.0) -> None:
        self.settings = settings
        self.model = settings.model
        self.name = f"anthropic:{settings.model}"
        self.client = make_client(settings, timeout)

    async def complete(self, prompt: Prompt) -> Completion:
        body = build_request(prompt, self.settings)
        try:
            msg = await self.client.messages.create(**body)
        except anthropic.APIError as e:
            raise classify(e) from None
        except json.JSONDecodeError as e:  # a 200 whose body is not JSON
            raise bad_answer(e) from None
        if not isinstance(
            msg, anthropic.types.Message
        ):  # the SDK hands back a non-JSON body as text
            raise bad_answer(msg)
        text = text_of(msg)
        if not text.strip():
            raise empty_answer(msg.stop_reason)
        return Completion(
            text=text,
            usage=usage_of(msg.usage),
            stop_reason=msg.stop_reason,
            prompt_hash=request_hash(body),
        )

    async def complete_batch(self, prompts: list[Prompt]) -> list[Completion]:
        return [await self.complete(p) for p in prompts]

    async def aclose(self) -> None:
        await self.client.close()
