"""The local MLX teacher: mlx-lm in-process, on the one MLX thread.

The model is loaded once per run (not once per input, as a shell loop over
`mlx_lm.generate` does), inputs are decoded together with `batch_generate`,
and the key/value cache of the shared prefix (instructions and examples) is
computed once and handed to every prompt, so only each input's own tokens are
prefilled. A run holds the MLX lease, so training cannot start beside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from distill_tui.core.config import Teacher as TeacherSettings
from distill_tui.core.errors import UserError
from distill_tui.core.generate.pricing import Usage
from distill_tui.engine.generate.teachers.base import (
    Completion,
    PermanentError,
    Prompt,
    request_hash,
)
from distill_tui.engine.mlx_thread import MLXBusy, MLXThread, mlx_thread

LEASE = "the local teacher"
T = TypeVar("T")


class MLXTeacher:
    provider = "mlx"

    def __init__(self, settings: TeacherSettings, *, thread: MLXThread | None = None) -> None:
        self.settings = settings
        self.model = settings.model
        self.name = f"mlx:{settings.model}"
        self.batch_size = settings.local_batch_size
        self.prefix_cache = True
        self._thread = thread or mlx_thread()
        self._model: Any = None
        self._tok: Any = None
        self._end_texts: list[str] = []
        self._prefix: tuple[list[int], list[Any]] | None = None
        self.prefilled_tokens = 0  # prompt tokens actually computed, for the bench

    @contextmanager
    def session(self) -> Iterator[None]:
        """Hold the MLX lease for a whole run (raises MLXBusy if training runs)."""
        try:
            lease = self._thread.lease(LEASE)
            lease.__enter__()
        except MLXBusy as e:
            raise UserError(str(e)) from None
        try:
            yield
        finally:
            lease.__exit__(None, None, None)

    # -- on the MLX thread ---------------------------------------------------------
    def _load(self) -> None:
        if self._model is not None:
            return
        from mlx_lm import load

        local = Path(self.model).expanduser()
        try:
            # A folder on disk, else a Hugging Face repo id.
            from distill_tui.engine.models.gguf import mlx_path

            loaded = load(mlx_path(str(local)) if local.exists() else self.model)
            self._model, self._tok = loaded[0], loaded[1]
        except Exception as e:  # noqa: BLE001 - any load failure is the user's to fix
            raise PermanentError(f"cannot load local teacher {self.model!r}: {e}") from None
        # Stop on every end token the model declares, as chat does: an answer
        # stored with `<|endoftext|>` in it would be trained on.
        from distill_tui.engine.models.end_tokens import end_texts, end_token_ids

        ends = end_token_ids(self._tok)
        self._tok.eos_token_ids = ends
        self._end_texts = end_texts(self._tok, ends)

    def _ids(self, messages: list[dict[str, str]], generation: bool) -> list[int]:
        text = self._tok.apply_chat_template(
            messages, add_generation_prompt=generation, tokenize=False
        )
        return list(self._tok.encode(text, add_special_tokens=False))

    def _prefix_for(self, prompt: Prompt) -> tuple[list[int], list[Any]] | None:
        """The cached prefix of this task, computed once and reused while the
        instructions and examples stay the same."""
        import mlx.core as mx
        from mlx_lm.models.cache import make_prompt_cache

        shared = prompt.messages()[:-1]
        if not shared:
            return None
        ids = self._ids(shared, generation=False)
        if self._prefix is not None and self._prefix[0] == ids:
            return self._prefix
        cache = make_prompt_cache(self._model)
        step = 2048
        for i in range(0, len(ids), step):
            self._model(mx.array(ids[i : i + step])[None], cache=cache)
            mx.eval([c.state for c in cache])
        self.prefilled_tokens += len(ids)
        self._prefix = (ids, cache)
        return self._prefix

    def _generate(self, prompts: list[Prompt]) -> list[Completion]:
        import copy

        from mlx_lm import batch_generate
        from mlx_lm.sample_utils import make_sampler

        self._load()
        full = [self._ids(p.messages(), generation=True) for p in prompts]
        prefix = self._prefix_for(prompts[0]) if self.prefix_cache else None
        caches: list[Any] | None = None
        inputs = full
        cached = 0
        if prefix is not None and all(
            len(ids) > len(prefix[0]) and ids[: len(prefix[0])] == prefix[0] for ids in full
        ):
            cached = len(prefix[0])
            inputs = [ids[cached:] for ids in full]
            # batch_generate merges the caches without changing them, but a
            # copy keeps the stored prefix safe from any future in-place use.
            caches = [copy.deepcopy(prefix[1]) for _ in full]
        self.prefilled_tokens += sum(len(i) for i in inputs)
        s = self.settings
        resp = batch_generate(
            self._model,
            self._tok,
            inputs,
            prompt_caches=caches,
            max_tokens=s.max_tokens,
            return_token_ids=True,
            sampler=make_sampler(temp=s.temperature),
        )
        out = []
        for ids, text, toks in zip(full, resp.texts, resp.token_ids or [], strict=True):
            cuts = [i for m in self._end_texts if (i := text.find(m)) >= 0]
            text = text[: min(cuts)] if cuts else text
            body = {
                "model": self.model,
                "max_tokens": s.max_tokens,
                "temperature": s.temperature,
                "tokens": ids,
            }
            out.append(
                Completion(
                    text=text,
                    usage=Usage(len(ids), len(toks), cache_read_tokens=cached),
                    stop_reason="max_tokens" if len(toks) >= s.max_tokens else "end_turn",
                    prompt_hash=request_hash(body),
                )
            )
        return out

    def _unload(self) -> None:
        self._model = self._tok = self._prefix = None

    # -- async face for the queue ------------------------------------------------------
    async def complete_batch(self, prompts: list[Prompt]) -> list[Completion]:
        return await asyncio.wrap_future(self._thread.submit(self._generate, prompts))

    async def complete(self, prompt: Prompt) -> Completion:
        return (await self.complete_batch([prompt]))[0]

    async def with_model(self, fn: Callable[[Any, Any], T]) -> T:
        """`fn(model, tokenizer)` on the MLX thread, the model loaded once and
        its tokenizer stopping at every end token (Magpie samples from it)."""

        def run() -> T:
            self._load()
            return fn(self._model, self._tok)

        return await asyncio.wrap_future(self._thread.submit(run))

    async def aclose(self) -> None:
        await asyncio.wrap_future(self._thread.submit(self._unload))
