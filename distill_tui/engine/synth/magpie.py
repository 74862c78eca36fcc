"""Magpie-style inputs (issue 22 item 6): an aligned local model writes the
user's turn itself (Xu et al. 2024, "Magpie"). The chat template is rendered
with a system message (the task and a short description drawn from its
example inputs) and a sentinel user message, and cut where the sentinel
starts: the pre-query prefix. Sampling from it at MAGPIE_TEMPERATURE (top_p
0.95) until the end-of-turn token gives one candidate input per sample.

Candidates pass the filter every teacher-written input passes
(core/synth/candidates.py); the survivors are pending rows with origin
"synth" and source "synth: magpie", so the Queue answers them. They belong to
no topic (`rows.topic_id` NULL): a "magpie" leaf in the tree would be filled
by the tree's own requests. Only the local MLX teacher can do this: an API
answers as the assistant and never continues the template's raw text.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from distill_tui.core.config import Task
from distill_tui.core.errors import UserError
from distill_tui.core.generate import side_costs
from distill_tui.core.generate.pricing import Usage
from distill_tui.core.project import Workspace
from distill_tui.core.synth.candidates import CandidateFilter, Dropped
from distill_tui.engine.generate.teachers.mlx_local import MLXTeacher
from distill_tui.engine.synth.input_filter import make_filter
from distill_tui.engine.synth.topics import (
    ORIGIN,
    PURPOSE,
    STOP_DUP_SHARE,
    SYNTH_TEMPERATURE,
    LeafResult,
    check_ready,
    session_lock,
)

MAGPIE_TEMPERATURE = SYNTH_TEMPERATURE
TOP_P = 0.95
SOURCE = "synth: magpie"
LEAF = "magpie"  # the name its coverage line goes by
UNFINISHED = "unfinished"  # reached max_tokens before the end of the turn
MAX_N = 500
MAX_SHOWN = 3  # example inputs quoted in the system message
_CLIP = 200  # characters of one quoted example
SENTINEL = "\x00MAGPIE-USER-TURN\x00"
NOT_LOCAL = (
    'Magpie needs the local MLX teacher ([teacher] provider = "mlx"): it samples the user\'s'
    " turn from the model's own chat template; the topic tree works with any teacher"
)


def check_local(ws: Workspace) -> None:
    if ws.settings.teacher.provider != "mlx":
        raise UserError(f"{NOT_LOCAL} (this project's teacher is {ws.settings.teacher.provider!r})")


def magpie_system(task: Task) -> str:
    """The task's instructions and what its users send: the input description
    if there is one, the example inputs' typical length and a few of them."""
    inputs = [e.input.strip() for e in task.examples if e.input.strip()]
    what = task.input_description.strip() or "inputs"
    about = f"Users send {what}"
    if inputs:
        words = int(statistics.median(len(t.split()) for t in inputs))
        shown = [" ".join(t.split())[:_CLIP] for t in inputs[:MAX_SHOWN]]
        about += f", about {words} words long, like these:\n" + "\n".join(f"- {t}" for t in shown)
    else:
        about += "."
    return f"{task.instructions.strip()}\n\n{about}"


def pre_query_prefix(tokenizer: Any, system: str, model: str) -> str:
    """The template's text up to where the user's text starts, after `system`."""
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(
            f"Magpie needs a chat template: the local teacher {model!r} has none (no"
            " chat_template in its tokenizer_config.json); use the topic tree instead"
        )
    messages = [{"role": "system", "content": system}, {"role": "user", "content": SENTINEL}]
    try:
        text = tokenizer.apply_chat_template(messages, tokenize=False)
    except Exception as e:  # noqa: BLE001 - a template's own refusal (raise_exception)
        msg = " ".join(str(e).split())[:200]
        raise UserError(f"the chat template of {model!r} refused a system message: {msg}") from None
    if not isinstance(text, str) or SENTINEL not in text:
        raise UserError(f"the chat template of {model!r} does not show the user's text")
    return text[: text.index(SENTINEL)]


def default_max_tokens(task: Task) -> int:
    """Room for a user turn: twice the longest example input (about four
    characters a token), 64 to 1,024 tokens."""
    longest = max((len(e.input) for e in task.examples), default=0) // 4
    return max(64, min(1024, 2 * longest))


@dataclass
class Turn:
    text: str
    ended: bool  # stopped at an end-of-turn token, not at max_tokens
    tokens: int


@dataclass
class Sampled:
    prefix: str
    prefix_tokens: int
    turns: list[Turn]


def sample_turns(
    model: Any,
    tokenizer: Any,
    prefix: str,
    n: int,
    *,
    max_tokens: int,
    temperature: float = MAGPIE_TEMPERATURE,
    seed: int | None = None,
) -> Sampled:
    """`n` user turns sampled from `prefix` together (on the MLX thread). The
    tokenizer's `eos_token_ids` are the end tokens the local teacher stops at."""
    import mlx.core as mx
    from mlx_lm import batch_generate
    from mlx_lm.sample_utils import make_sampler

    from distill_tui.engine.models.end_tokens import end_texts

    if seed is not None:
        mx.random.seed(seed)
    ids = list(tokenizer.encode(prefix, add_special_tokens=False))
    resp = batch_generate(
        model,
        tokenizer,
        [ids] * n,
        max_tokens=max_tokens,
        return_token_ids=True,
        sampler=make_sampler(temp=temperature, top_p=TOP_P),
    )
    ends = end_texts(tokenizer, set(tokenizer.eos_token_ids))
    turns = []
    for text, toks in zip(resp.texts, resp.token_ids or [], strict=True):
        # An end token spelt out in ordinary pieces ends the turn too.
        cuts = [i for m in ends if (i := text.find(m)) >= 0]
        ended = len(toks) < max_tokens or bool(cuts)
        turns.append(Turn(text[: min(cuts)] if cuts else text, ended, len(toks)))
    return Sampled(prefix, len(ids), turns)


@dataclass
class MagpieResult:
    leaf: LeafResult = field(default_factory=lambda: LeafResult(LEAF))
    batches: int = 0
    prefix: str = ""  # the template's text the turns were sampled from
    prefix_tokens: int = 0
    ended: int = 0  # turns that stopped at the end-of-turn token
    seconds: float = 0.0
    stopped: bool = False
    last_duplicates: int = 0  # in the latest batch

    @property
    def kept(self) -> int:
        return self.leaf.kept

    @property
    def written(self) -> int:
        return self.leaf.written

    def duplicate_rate(self) -> float | None:
        return self.leaf.duplicates / self.written if self.written else None

    def summary(self) -> str:
        rate = self.duplicate_rate()
        return (
            f"{self.kept} new input(s) in the queue from {self.written} user turn(s) sampled"
            f" (Magpie, {self.ended} ended their turn)"
            + (f", {rate:.0%} duplicates dropped" if rate is not None else "")
            + f", {self.batches} batch(es) in {self.seconds:.0f} s, local: $0"
            + ("; stopped" if self.stopped else "")
        )


ProgressFn = Callable[[MagpieResult], None]


async def magpie_async(
    ws: Workspace,
    n: int,
    *,
    teacher: MLXTeacher | None = None,
    max_tokens: int | None = None,
    seed: int | None = None,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> MagpieResult:
    """Sample `n` user turns from the local teacher's template, in batches of
    `local_batch_size`; queue those the filter keeps. Stops early, as a leaf
    does, when more than half of a batch were duplicates. Holds the runner
    lock, as the topic tree's synthesis does."""
    check_local(ws)
    check_ready(ws)
    if not 1 <= n <= MAX_N:
        raise UserError(f"ask for 1 to {MAX_N} Magpie inputs, not {n}")
    with session_lock(ws):
        return await _magpie(ws, n, teacher, max_tokens, seed, progress, stop)


async def _magpie(
    ws: Workspace,
    n: int,
    teacher: MLXTeacher | None,
    max_tokens: int | None,
    seed: int | None,
    progress: ProgressFn | None,
    stop: threading.Event | None,
) -> MagpieResult:
    s = ws.settings
    limit = max_tokens or default_max_tokens(s.task)
    temp = max(s.teacher.temperature, MAGPIE_TEMPERATURE)
    system = magpie_system(s.task)
    own = teacher is None
    t = teacher or MLXTeacher(s.teacher)
    check = make_filter(ws)
    result = MagpieResult()
    leaf = result.leaf
    leaf.dropped[UNFINISHED] = 0
    start = time.monotonic()
    try:
        with t.session():
            prefix = await t.with_model(lambda _m, tok: pre_query_prefix(tok, system, t.model))
            result.prefix = prefix
            while leaf.asked < n:
                if stop is not None and stop.is_set():
                    result.stopped = True
                    break
                k = min(t.batch_size, n - leaf.asked)
                sample = partial(
                    sample_turns,
                    prefix=prefix,
                    n=k,
                    max_tokens=limit,
                    temperature=temp,
                    seed=None if seed is None else seed + result.batches,
                )
                _take(ws, check, await t.with_model(sample), result)
                result.seconds = time.monotonic() - start
                if progress is not None:
                    progress(result)
                if result.last_duplicates > STOP_DUP_SHARE * k:
                    leaf.stopped = "stopped early: mostly duplicates"
                    break
    finally:
        if own:
            await t.aclose()
    result.seconds = time.monotonic() - start
    return result


def _take(ws: Workspace, check: CandidateFilter, got: Sampled, result: MagpieResult) -> None:
    """Filter one batch's turns, queue the survivors and count the rest."""
    k = len(got.turns)
    result.batches += 1
    result.prefix_tokens = got.prefix_tokens
    out = sum(t.tokens for t in got.turns)
    side_costs.record(ws.store, PURPOSE, Usage(got.prefix_tokens * k, out), 0.0)
    ended = [t.text.strip() for t in got.turns if t.ended]
    result.ended += len(ended)
    report = check.filter(ended)
    result.last_duplicates = report.duplicates
    report.dropped += [Dropped(t.text.strip(), UNFINISHED) for t in got.turns if not t.ended]
    leaf = result.leaf
    leaf.asked += k
    leaf.written += k
    leaf.kept += ws.store.add_inputs([(t, SOURCE) for t in report.kept], ORIGIN).added
    for d in report.dropped:
        leaf.dropped[d.reason] = leaf.dropped.get(d.reason, 0) + 1


def magpie(ws: Workspace, n: int, **kwargs: object) -> MagpieResult:
    """Blocking form for workers and the CLI."""
    return asyncio.run(magpie_async(ws, n, **kwargs))  # type: ignore[arg-type]
