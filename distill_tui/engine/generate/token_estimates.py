"""Token counts for the estimate shown before a run, from real tokenizers where
one is at hand, else about four characters a token, and always saying which.

- Each row's own input: the student's tokenizer (`tokenizer.json`, read with
  `tokenizers`), when the student is on this machine: a folder, a Hub id
  already in the Hugging Face cache, or a GGUF file already converted.
  Nothing is downloaded or converted for an estimate.
  It is the student's count, not the teacher's; it is the tokenizer the
  dataset will be trained with, and closer than a character rule.
- The shared prefix (instructions and examples) for an Anthropic teacher:
  the Messages API's own `count_tokens`, which is free. Once per estimate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from distill_tui.core import paths
from distill_tui.core.config import Project

CHARS_PER_TOKEN = 4
COUNT_TIMEOUT_S = 10.0

Counter = Callable[[str], int]


def approx_tokens(text: str) -> int:
    return max(1, len(text) // CHARS_PER_TOKEN)


@lru_cache(maxsize=4)
def _tokenizer(path: str, mtime: float) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


def student_counter(project_root: Path, model: str) -> tuple[Counter | None, str]:
    """A counter with the student's tokenizer and the basis to show, or None
    and the reason the character rule is used instead."""
    resolved = paths.resolve_model(project_root, model)
    if paths.is_gguf(resolved):
        # A GGUF student: its tokenizer is in the folder its conversion left.
        from distill_tui.engine.models.gguf import converted_folder

        folder = converted_folder(Path(resolved))
        if folder is None:
            why = "GGUF student not converted yet" if Path(resolved).is_file() else "no such file"
            return None, f"about {CHARS_PER_TOKEN} characters a token ({why})"
    else:
        folder = paths.local_model_dir(resolved)
    if folder is None:
        return None, f"about {CHARS_PER_TOKEN} characters a token (student not downloaded)"
    file = folder / "tokenizer.json"
    try:
        tok = _tokenizer(str(file), file.stat().st_mtime)
    except Exception:  # noqa: BLE001 - no tokenizer.json, or one tokenizers cannot read
        return None, f"about {CHARS_PER_TOKEN} characters a token (no tokenizer.json)"

    def count(text: str) -> int:
        return len(tok.encode(text, add_special_tokens=False).ids)

    return count, "the student's tokenizer"


def anthropic_prefix_tokens(settings: Project) -> int | None:
    """Tokens of the shared prefix by Anthropic's `count_tokens`, or None when
    it cannot be asked (no key, no network, an error): the caller falls back."""
    import os

    import anthropic

    from distill_tui.engine.generate.teachers.anthropic import build_request
    from distill_tui.engine.generate.teachers.base import build_prompt

    t = settings.teacher
    if not (os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")):
        return None
    # The request for a one-character input: the prefix plus that turn.
    body = build_request(build_prompt(settings.task, "."), t)
    params = {k: body[k] for k in ("model", "system", "messages") if k in body}
    where = t.base_url or os.environ.get("ANTHROPIC_BASE_URL")
    key = json.dumps([where, params], sort_keys=True)
    if key in _prefix_counts:  # the Queue screen asks again on every change
        return _prefix_counts[key]
    kwargs: dict[str, Any] = {"max_retries": 1, "timeout": COUNT_TIMEOUT_S}
    if t.base_url:
        kwargs["base_url"] = t.base_url
    try:
        with anthropic.Anthropic(**kwargs) as client:
            n = int(client.messages.count_tokens(**params).input_tokens)
    except (anthropic.APIError, ValueError, TypeError, json.JSONDecodeError):
        return None
    _prefix_counts[key] = max(n - 1, 0)
    return _prefix_counts[key]


_prefix_counts: dict[str, int] = {}
