"""Evaluate a checkpoint: the student with its adapter and the base model both
answer every row of the validation (or test) split, greedily, and each answer
is scored against the teacher's output from the split file.

The same `ModelHost` the Chat screen uses does the work (so the base model is
loaded once and the adapter swapped in place), under the "evaluation" lease.
All adapter answers come first, then all base answers: one swap each way.
Each pass decodes its rows together (`ModelHost.answer_all`), with the same
greedy answers as one at a time. Last, each model's perplexity on a short
general text (`core.evaluate.general`): the forgetting check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill_tui.core import paths
from distill_tui.core.curate.feedback import row_ids_for_inputs
from distill_tui.core.dataset import jsonl
from distill_tui.core.dataset.export import verify_split
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import evals, general, metrics
from distill_tui.core.project import Workspace
from distill_tui.core.train.checkpoints import Checkpoint
from distill_tui.engine.chat.session import Message, ModelHost, Target

SPLITS = ("valid", "test")
# (done, total, who) after each answer; called on the MLX thread.
ProgressFn = Callable[[int, int, str], None]


@dataclass
class SplitRow:
    prompt: list[Message]  # everything before the answer, as training saw it
    input: str  # the user turn
    reference: str


def load_split(ws: Workspace, split: str) -> list[SplitRow]:
    """Rows of data/<split>.jsonl in either mlx-lm format."""
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r} (use {' or '.join(SPLITS)})")
    path = paths.data_dir(ws.root) / f"{split}.jsonl"
    if not path.is_file():
        raise UserError(f"{path}: no {split} split yet (export the dataset first)")
    verify_split(path.parent)
    return read_rows(path)


def read_rows(path: Path) -> list[SplitRow]:
    """The rows of one exported split file, in either mlx-lm format."""
    out = []
    for n, line in jsonl.split(jsonl.read(path)):
        if not line.strip():
            continue
        try:
            out.append(_parse(jsonl.loads(line)))
        except (ValueError, KeyError, TypeError, IndexError) as e:
            raise UserError(f"{path}:{n}: not an mlx-lm chat or completions record ({e})") from None
    return out


def _parse(rec: dict) -> SplitRow:
    if "messages" in rec:
        msgs = rec["messages"]
        if msgs[-1]["role"] != "assistant":
            raise KeyError("last message is not the assistant's")
        users = [m for m in msgs[:-1] if m["role"] == "user"]
        return SplitRow(list(msgs[:-1]), str(users[-1]["content"]), str(msgs[-1]["content"]))
    return SplitRow(
        [{"role": "user", "content": rec["prompt"]}], str(rec["prompt"]), str(rec["completion"])
    )


def _budget(reference: str, max_tokens: int) -> int:
    """Tokens to allow for one answer. A token is at least one character for
    nearly every tokenizer, so len(reference) + slack always fits a correct
    answer, and a rambling wrong one is cut short instead of running to
    max_tokens (the common case for a base model). The slack covers the end
    token and spacing; a larger one only makes a pretrained base model's
    chatty answers longer to generate (on a CPU, most of an eval's time)."""
    return max(1, min(max_tokens, len(reference) + 8))


def evaluate(
    ws: Workspace,
    host: ModelHost,
    checkpoint: Checkpoint,
    *,
    split: str = "valid",
    limit: int | None = None,
    max_tokens: int = 512,
    include_base: bool = True,
    progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
    save: bool = True,
    judge: bool = False,
    judge_max_cost_usd: float | None = None,
    judge_teacher: Any = None,
) -> evals.EvalResult:
    """Answer and score the split. With `judge`, the teacher then grades the
    adapter's answers (after the MLX lease is let go, so a local teacher can
    take it) within `judge_max_cost_usd` (None: no cap)."""
    rows = load_split(ws, split)
    if limit is not None:
        rows = rows[: max(0, limit)]
    if not rows:
        raise UserError(f"the {split} split is empty")
    ids = row_ids_for_inputs(ws.store, [r.input for r in rows])
    fmt = ws.settings.task.output_format
    items = [evals.EvalItem(i, ids.get(r.input), r.input, r.reference) for i, r in enumerate(rows)]
    adapter = Target.of(checkpoint)
    passes = [(evals.ADAPTER, adapter)]
    # Without the base (`--no-base`), a preference run still meets its SFT
    # parent: the column its verdict and flips are judged against.
    sft = sft_start(ws, checkpoint)
    if sft is not None:
        passes.append((evals.SFT, Target.of(sft)))
    if include_base:
        passes.append((evals.BASE, adapter.base()))
    total = len(rows) * len(passes)
    done = 0
    stopped = False
    pair_acc: dict[str, float] = {}
    pair_rows = 0
    general_ppl: dict[str, float] = {}
    general_tokens = 0
    with host.mlx.lease("evaluation"):
        for who, target in passes:
            # The rows decode together, each scored (and counted) as it ends.
            def answered(i: int, text: str, _finish: str, who: str = who) -> None:
                nonlocal done
                item = items[i]
                item.answers[who] = text
                item.scores[who] = metrics.score(text, rows[i].reference, fmt)
                done += 1
                if progress is not None:
                    progress(done, total, who)

            budgets = [_budget(r.reference, max_tokens) for r in rows]
            finished = host.answer_all(target, [r.prompt for r in rows], budgets, answered, stop)
            if not finished:
                stopped = True  # rows cut off mid-answer would score as wrong
                break
        if not stopped:
            pair_acc, pair_rows = _rank_pairs(ws, host, passes, progress, stop)
            general_ppl, general_tokens = _general(host, passes, adapter, stop)
    if stopped:
        # Compare like with like: keep only rows every model answered.
        need = {p for p, _ in passes}
        items = [i for i in items if set(i.scores) >= need]
    result = evals.EvalResult(
        checkpoint.run_id, checkpoint.name, split, fmt, items, stopped,
        pairs=pair_acc, pair_rows=pair_rows, general=general_ppl, general_tokens=general_tokens,
    )  # fmt: skip
    if judge and items and not stopped:
        from distill_tui.engine.chat.judge import judge as run_judge

        def judged(done: int, total: int) -> None:
            if progress is not None:
                progress(done, total, "judge")

        try:
            run_judge(
                ws,
                result,
                max_cost_usd=judge_max_cost_usd,
                teacher=judge_teacher,
                progress=judged,
                stop=stop,
            )
        except BaseException:
            # The answers cost minutes: keep them even when the judge fails.
            if save:
                result.judge = None
                for i in items:
                    i.scores.get(evals.ADAPTER, {}).pop(evals.JUDGE, None)
                    i.judge = None
                evals.save(ws.store, result)
            raise
    if save and items:
        evals.save(ws.store, result)
    return result


def _rank_pairs(
    ws: Workspace,
    host: ModelHost,
    passes: list[tuple[str, Target]],
    progress: ProgressFn | None,
    stop: threading.Event | None,
) -> tuple[dict[str, float], int]:
    """Each model's share of the held-out preference pairs (data/pref/) whose
    chosen answer it finds likelier; nothing when there are none, when the
    file is unreadable (the answers already paid for are kept) or when
    stopped part-way."""
    pairs = paths.pref_dir(ws.root) / "valid.jsonl"
    if not pairs.is_file():
        return {}, 0
    acc: dict[str, float] = {}
    n_pairs = 0
    for n, (who, target) in enumerate(passes):
        if stop is not None and stop.is_set():
            return {}, 0
        if progress is not None:
            progress(n, len(passes), "pairs")
        try:
            right, n_pairs = host.pair_accuracy(target, pairs, ws.settings.train.max_seq_length)
        except UserError:
            return {}, 0
        if not n_pairs:
            return {}, 0
        acc[who] = right / n_pairs
    return acc, n_pairs


def _general(
    host: ModelHost,
    passes: list[tuple[str, Target]],
    adapter: Target,
    stop: threading.Event | None,
) -> tuple[dict[str, float], int]:
    """The forgetting check: each model's perplexity on the package's general
    text, the base's always (also with `--no-base`: it is one forward pass
    over a few thousand tokens, no generation, and a rise means nothing
    without it). The base first, since the last pass left it in place;
    nothing when stopped part-way. No progress is reported: it takes a
    moment, and the front ends count answers."""
    from functools import partial

    from distill_tui.engine.chat.perplexity import perplexity

    models = dict(passes) | {evals.BASE: adapter.base()}
    order = [evals.BASE, *(w for w in (evals.SFT, evals.ADAPTER) if w in models)]
    measure = partial(perplexity, text=general.text(), max_tokens=general.MAX_TOKENS)
    out: dict[str, float] = {}
    tokens = 0
    for who in order:
        if stop is not None and stop.is_set():
            return {}, 0
        out[who], tokens = host.measure(models[who], measure)
    return out, tokens


def sft_start(ws: Workspace, checkpoint: Checkpoint) -> Checkpoint | None:
    """The SFT adapter a preference run started from, where it is still on
    disk: evaluation puts it between the base model and the run."""
    from distill_tui.core.train import checkpoints
    from distill_tui.core.train import runs as runs_db

    run = runs_db.get_run(ws.store, checkpoint.run_id)
    parent = run.config.get("from_run") if run is not None else None
    if not parent:
        return None
    try:
        return checkpoints.resolve(ws, str(parent), "latest")
    except UserError:
        return None  # deleted since: compare with the base alone


def default_probe_inputs(ws: Workspace, n: int = 4) -> list[list[Message]]:
    """Prompts to compare models on: validation rows first, then the task's
    examples, then a generic prompt."""
    prompts: list[list[Message]] = []
    for split in SPLITS:
        try:
            prompts += [r.prompt for r in load_split(ws, split)]
        except UserError:
            continue
    if len(prompts) < n:
        from distill_tui.engine.chat.session import build_messages, training_system_prompt

        system = training_system_prompt(ws)
        prompts += [build_messages(system, [], e.input) for e in ws.settings.task.examples]
        if not prompts:
            prompts.append(build_messages(system, [], "Hello"))
    return prompts[:n]
