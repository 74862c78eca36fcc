"""Preference data for the trainer: read data/pref/, tokenize with the
student's chat template (the prompt masked, as mlx-lm's `mask_prompt`), and
batch deterministically like `batches.iterate` (the same length-sorted groups
and seeded order, so a resumed run sees the batches it would have).

A DPO batch is (tokens, lengths, reference, positions) with the B chosen answers in rows
0..B-1 and their rejected answers in rows B..2B-1; a KTO batch adds each row's
label and weight. Call on the MLX thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from distill_tui.core.dataset import jsonl
from distill_tui.core.errors import UserError
from distill_tui.engine.train import batches


@dataclass
class PrefSet:
    """Tokenized rows: `seqs[i]` a list of token sequences sharing one prompt
    of `offsets[i]` tokens (chosen, rejected for DPO; one for KTO)."""

    seqs: list[list[list[int]]]
    offsets: list[int]
    labels: list[float]
    reference: list[list[float]]  # filled by `fill_reference`
    # Accepted SFT rows (sequence, prompt length) a DPO training batch carries
    # beside its pairs for the SFT term (`with_anchors`), in a seeded order.
    anchors: list[tuple[list[int], int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.seqs)

    def itemlen(self, i: int) -> int:
        return max(len(s) for s in self.seqs[i])


def _tokens(tokenizer: Any, rec: dict[str, Any], answer: str) -> tuple[list[int], int]:
    msgs = [{"role": "system", "content": rec["system"]}] if rec.get("system") else []
    msgs.append({"role": "user", "content": rec["prompt"]})
    prompt = tokenizer.apply_chat_template(msgs, add_generation_prompt=True)
    full = tokenizer.apply_chat_template([*msgs, {"role": "assistant", "content": answer}])
    return list(full), len(prompt)


def load(path: Path, tokenizer: Any, kind: str) -> PrefSet:
    """`kind` "pairs" reads {prompt, chosen, rejected}; "kto" {prompt, completion, label}."""
    out = PrefSet([], [], [], [])
    if not path.is_file():
        return out
    for n, line in jsonl.split(jsonl.read(path)):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            answers = [rec["chosen"], rec["rejected"]] if kind == "pairs" else [rec["completion"]]
            label = 1.0 if kind == "pairs" or rec["label"] is True else 0.0
            if not isinstance(rec["prompt"], str) or not all(isinstance(a, str) for a in answers):
                raise TypeError("prompt and answers must be text")
        except (ValueError, KeyError, TypeError) as e:
            raise UserError(f"{path}:{n}: not a preference row ({e})") from None
        seqs = [_tokens(tokenizer, rec, a) for a in answers]
        out.seqs.append([s for s, _ in seqs])
        out.offsets.append(min(o for _, o in seqs))
        out.labels.append(label)
    return out


def with_anchors(data: PrefSet, sft_train: Path, tokenizer: Any, seed: int) -> PrefSet:
    """`data` with the accepted rows of the SFT split as anchors: a DPO step
    adds as many of them as it has pairs to its SFT term, so the term keeps
    every label and answer where SFT left it, not only the chosen answers of
    the pairs (which lean to what the student got wrong: on the demo 36 of 45
    of its mistakes were "bug" tickets, and an SFT term on those alone taught
    it to say "bug")."""
    if not sft_train.is_file():
        return data
    rows: list[tuple[list[int], int]] = []
    for n, line in jsonl.split(jsonl.read(sft_train)):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if "messages" in rec:
                msgs = rec["messages"]
                prompt = tokenizer.apply_chat_template(msgs[:-1], add_generation_prompt=True)
                full = tokenizer.apply_chat_template(msgs)
            else:
                prompt = tokenizer.encode(rec["prompt"])
                full = tokenizer.encode(rec["prompt"] + rec["completion"])
        except (ValueError, KeyError, TypeError, IndexError) as e:
            where = f"{sft_train}:{n}"
            raise UserError(f"{where}: not an mlx-lm chat or completions row ({e})") from None
        rows.append((list(full), len(prompt)))
    order = np.random.default_rng(seed).permutation(len(rows))
    data.anchors = [rows[int(i)] for i in order]
    return data


def kto_weights(labels: list[float]) -> tuple[float, float]:
    """(desirable, undesirable) weights balanced to the counts (TRL: the
    weighted ratio between 1:1 and 4:3; here 1:1)."""
    good = sum(1 for x in labels if x > 0)
    bad = len(labels) - good
    if not good or not bad:
        raise UserError(
            f"KTO needs desirable and undesirable rows: {good} accepted and {bad} rejected"
            " answers exported; accept and reject rows on the Curate screen and export again"
        )
    return 1.0, good / bad


def make_batch(
    data: PrefSet,
    rows: list[int],
    max_seq_length: int,
    weights: tuple[float, float] | None,
    position: int | None = None,
) -> tuple[Any, ...]:
    """Stack each row's sequences side by side: [all first; all second...];
    with `position` (the batch's place in training) and anchors, as many
    anchor rows after them, chosen by the position (so a resumed run sees the
    same ones)."""
    import mlx.core as mx

    width = len(data.seqs[rows[0]])
    seqs = [data.seqs[i][k] for k in range(width) for i in rows]
    offsets = [data.offsets[i] for _ in range(width) for i in rows]
    ref = [data.reference[i][k] for k in range(width) for i in rows] if data.reference else []
    if position is not None and data.anchors and weights is None:
        n = len(data.anchors)
        for j in range(len(rows)):
            seq, offset = data.anchors[(position * len(rows) + j) % n]
            seqs.append(seq)
            offsets.append(offset)
            ref.append(0.0)
    lengths = [min(len(s), max_seq_length) for s in seqs]
    w = 1 + batches.PAD_TO * ((max(lengths) + batches.PAD_TO - 1) // batches.PAD_TO)
    cols = min(w, max_seq_length)
    arr = np.zeros((len(seqs), cols), np.int32)
    for j, s in enumerate(seqs):
        arr[j, : lengths[j]] = s[: lengths[j]]
    # The target positions of each answer (see pref_loss.sequence_logps),
    # clipped into the row; the loss masks the clipped ones.
    k = max(1, max(n - o + 1 for n, o in zip(lengths, offsets, strict=True)))
    pos = np.array([[o - 1 + i for i in range(k)] for o in offsets], np.int32)
    pos = np.clip(pos, 0, cols - 2)
    out: tuple[Any, ...] = (
        mx.array(arr),
        mx.array(list(zip(offsets, lengths, strict=True))),
        mx.array(ref if len(ref) == len(seqs) else [0.0] * len(seqs), dtype=mx.float32),
        mx.array(pos),
    )
    if weights is not None:
        labels = [data.labels[i] for i in rows]
        out += (
            mx.array(labels, dtype=mx.float32),
            mx.array([weights[0] if x > 0 else weights[1] for x in labels], dtype=mx.float32),
        )
    return out


def iterate(
    data: PrefSet,
    batch_size: int,
    max_seq_length: int,
    *,
    weights: tuple[float, float] | None = None,
    **kw: Any,
) -> Iterator[tuple[Any, ...]]:
    """`batches.iterate` (same keywords: seed, loop, start, rank, size,
    on_rows) for preference rows; `weights` makes KTO batches. A training
    iteration (loop) of a set with anchors adds them to each DPO batch."""
    at: list[int] = [0]
    seen = kw.pop("on_rows", None)

    def on_rows(pos: int, rows: list[int]) -> None:
        at[0] = pos
        if seen is not None:
            seen(pos, rows)

    loop = bool(kw.get("loop"))
    return batches.iterate(
        data,
        batch_size,
        max_seq_length,
        make=lambda rows: make_batch(data, rows, max_seq_length, weights, at[0] if loop else None),
        on_rows=on_rows,
        **kw,
    )


def nothing_to_train(data: PrefSet, max_seq_length: int) -> str | None:
    """The preflight's message when `max_seq_length` cuts every answer off
    (a run would train on 0 tokens and report "finished"), else None."""
    from distill_tui.core.train.preflight import nothing_to_train as message
    from distill_tui.core.train.preflight import trained_tokens

    for seqs, offset in zip(data.seqs, data.offsets, strict=True):
        if any(trained_tokens(len(s), offset, max_seq_length) for s in seqs):
            return None
    return message(max_seq_length, min(data.offsets, default=0)) if data.seqs else None


def fill_reference(
    model: Any,
    data: PrefSet,
    batch_size: int,
    max_seq_length: int,
    stop: threading.Event | None = None,
) -> None:
    """The reference log-probability of every sequence, from the model as it
    is now (the SFT policy), once, in the eval mode the policy starts from.
    Returns early, the rest left at 0, once `stop` is set: the run then stops
    before its first step (a SIGTERM is acted on between batches)."""
    import mlx.core as mx

    from distill_tui.engine.train.pref_loss import sequence_logps

    model.eval()
    data.reference = [[0.0] * len(s) for s in data.seqs]
    order = batches.length_order(data)
    for i in range(0, len(order), batch_size):
        if stop is not None and stop.is_set():
            break
        rows = order[i : i + batch_size]
        tokens, lengths, _, positions = make_batch(data, rows, max_seq_length, None)
        logps, _ = sequence_logps(model, tokens, lengths, positions)
        mx.eval(logps)
        values = logps.tolist()
        width = len(data.seqs[rows[0]])
        for k in range(width):
            for j, r in enumerate(rows):
                data.reference[r][k] = float(values[k * len(rows) + j])
    model.train()
