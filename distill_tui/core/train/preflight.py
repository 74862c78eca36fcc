"""Checks before training. Errors are what makes mlx-lm fail at the start
(more LoRA layers than the student has, fewer rows than one batch, prompts
that leave no completion inside max_seq_length, a peak-memory estimate above
the whole machine); problems are what trains but badly (truncated rows,
memory near the limit). Each comes with a suggestion.

The engine measures the token lengths and the model's sizes; the arithmetic
and the advice live here so they are testable without MLX.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from distill_tui.core import gguf_header, paths


@dataclass(frozen=True)
class ModelShape:
    """What the memory estimate needs to know about the student."""

    params: int  # total parameters
    bytes_per_param: float  # 0.5-0.6 for 4-bit, 2 for bf16, 4 for fp32
    hidden_size: int
    num_layers: int
    vocab_size: int


@dataclass(frozen=True)
class Preflight:
    rows: int
    too_long: list[tuple[int, int]]  # (row index in train.jsonl, tokens)
    longest: int
    max_seq_length: int
    estimate_gb: float
    machine_gb: float
    problems: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # training would fail at start
    valid_rows: int = 0
    model_layers: int = 0

    @property
    def fits(self) -> bool:
        return self.estimate_gb <= 0.75 * self.machine_gb


def model_layers(model: str) -> int | None:
    """The student's transformer layer count from its config.json, without
    loading it: a local folder, or a Hugging Face id already in the local
    cache, or a GGUF file's header; None when it cannot be known yet (not
    downloaded)."""
    if paths.is_gguf(model):
        return gguf_header.block_count(Path(model).expanduser())
    folder = paths.local_model_dir(model)
    if folder is None:
        return None
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict):
        return None
    # Multimodal configs keep the language model's sizes in text_config.
    for c in (config, config.get("text_config") or {}):
        for key in ("num_hidden_layers", "n_layer", "num_layers"):
            if isinstance(c.get(key), int):
                return int(c[key])
    return None


def layers_error(num_layers: int, layers: int | None) -> str | None:
    """Why `num_layers` cannot train this student, or None when it can."""
    if layers is None or num_layers <= layers:
        return None
    return (
        f"num_layers {num_layers} is more than the student's {layers} layers: "
        f"use 1 to {layers}, or -1 for all"
    )


def machine_memory_gb() -> float:
    """Physical memory; on Apple silicon it is shared with the GPU."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):
        return 0.0


def estimate_peak_gb(
    shape: ModelShape,
    *,
    batch_size: int,
    seq_len: int,
    trainable_params: int,
    grad_checkpoint: bool,
) -> float:
    """A deliberately rough upper estimate of training's peak memory.

    Weights, plus fp32 trainable parameters with their gradients and Adam's two
    moments (16 bytes each), plus activations kept for the backward pass (about
    34 bytes per hidden unit per token per layer in mixed precision, only one
    layer's worth plus the layer inputs with gradient checkpointing), plus the
    logits and their gradient in fp32.
    """
    weights = shape.params * shape.bytes_per_param
    optimizer = trainable_params * 16
    tokens = batch_size * seq_len
    per_layer = 34 * shape.hidden_size * tokens
    if grad_checkpoint:
        activations = per_layer + 2 * shape.hidden_size * tokens * shape.num_layers
    else:
        activations = per_layer * shape.num_layers
    logits = 2 * 4 * tokens * shape.vocab_size
    return (weights + optimizer + activations + logits) / 1e9


def trained_tokens(length: int, offset: int, max_seq_length: int) -> int:
    """Tokens of one row mlx-lm's loss counts: positions from the prompt's
    end (`offset`, 0 unless the prompt is masked) up to the row's length cut
    to max_seq_length (mlx-lm's `default_loss` mask)."""
    return max(0, min(length, max_seq_length) - max(offset, 1))


def nothing_to_train(max_seq_length: int, shortest_prompt: int) -> str:
    return (
        f"max_seq_length {max_seq_length} cuts off every completion: the shortest prompt"
        f" is {shortest_prompt} tokens, so training would see 0 tokens (a NaN loss);"
        f" raise max_seq_length above {shortest_prompt}"
    )


# More passes over the training rows than this is a typo or a mistake (600
# iterations over 12 rows): said before a run, not refused.
MANY_EPOCHS = 50


def run_preflight(
    lengths: Sequence[int],
    shape: ModelShape,
    *,
    max_seq_length: int,
    batch_size: int,
    trainable_params: int,
    grad_checkpoint: bool,
    machine_gb: float | None = None,
    num_layers: int = -1,
    valid_rows: int = 0,
    offsets: Sequence[int] | None = None,
    iters: int | None = None,
) -> Preflight:
    """`lengths` are the templated token counts of the training rows;
    `offsets` where each row's completion starts (the masked prompt's length,
    0 without mask_prompt), to find rows max_seq_length leaves nothing to
    learn from."""
    machine_gb = machine_memory_gb() if machine_gb is None else machine_gb
    too_long = [(i, n) for i, n in enumerate(lengths) if n > max_seq_length]
    longest = max(lengths, default=0)
    # Batches are padded to the longest row (capped at max_seq_length).
    seq = min(max(longest, 1), max_seq_length)
    est = estimate_peak_gb(
        shape,
        batch_size=batch_size,
        seq_len=seq,
        trainable_params=trainable_params,
        grad_checkpoint=grad_checkpoint,
    )
    problems: list[str] = []
    suggestions: list[str] = []
    errors: list[str] = []
    bad_layers = layers_error(num_layers, shape.num_layers or None)
    if bad_layers:
        errors.append(bad_layers)
        suggestions.append(f"set Layers to -1 (all {shape.num_layers}) or fewer")
    offsets = offsets if offsets is not None else [0] * len(lengths)
    empty = [
        off
        for n, off in zip(lengths, offsets, strict=True)
        if not trained_tokens(n, off, max_seq_length)
    ]
    if lengths and len(empty) == len(lengths):
        errors.append(nothing_to_train(max_seq_length, min(empty)))
    elif empty:
        problems.append(
            f"{len(empty)} of {len(lengths)} training rows have no completion tokens left"
            f" after truncation to max_seq_length {max_seq_length}; they teach nothing"
        )
    if too_long:
        problems.append(
            f"{len(too_long)} of {len(lengths)} training rows are longer than "
            f"max_seq_length {max_seq_length} tokens (longest {longest}) and will be "
            "truncated, cutting off the end of the completion"
        )
        suggestions.append(
            f"raise max_seq_length to {longest} if memory allows, or shorten or "
            "reject those rows in Curate"
        )
    epochs = iters * batch_size / len(lengths) if iters and lengths else 0.0
    if epochs > MANY_EPOCHS:
        problems.append(
            f"iters {iters} is {epochs:,.0f} epochs of {len(lengths)} train rows at batch size"
            f" {batch_size}; usual is 1-10, and this many passes learn the rows by heart"
        )
        three = max(1, round(3 * len(lengths) / batch_size))
        suggestions.append(f"set iterations to {three} (3 epochs), or accept and export more rows")
    for split, n in (("training", len(lengths)), ("validation", valid_rows)):
        if n < batch_size and (split == "training" or n):
            errors.append(
                f"only {n} {split} rows for batch size {batch_size}; "
                "mlx-lm needs at least one full batch"
            )
            suggestions.append(f"lower batch size to {max(1, n)} or accept and export more rows")
    budget = 0.75 * machine_gb
    if machine_gb and est > budget:
        (errors if est > machine_gb else problems).append(
            f"estimated peak memory {est:.1f} GB is more than the {budget:.1f} GB "
            f"a {machine_gb:.0f} GB machine can give training"
        )
        for bs in range(batch_size - 1, 0, -1):
            e = estimate_peak_gb(
                shape,
                batch_size=bs,
                seq_len=seq,
                trainable_params=trainable_params,
                grad_checkpoint=grad_checkpoint,
            )
            if e <= budget:
                suggestions.append(f"lower batch size to {bs} (about {e:.1f} GB)")
                break
        if not grad_checkpoint:
            e = estimate_peak_gb(
                shape,
                batch_size=batch_size,
                seq_len=seq,
                trainable_params=trainable_params,
                grad_checkpoint=True,
            )
            suggestions.append(f"turn on gradient checkpointing (about {e:.1f} GB)")
        suggestions.append("use a smaller or more quantized student, or fewer LoRA layers")
    return Preflight(
        rows=len(lengths),
        too_long=too_long,
        longest=longest,
        max_seq_length=max_seq_length,
        estimate_gb=est,
        machine_gb=machine_gb,
        problems=problems,
        suggestions=suggestions,
        errors=errors,
        valid_rows=valid_rows,
        model_layers=shape.num_layers,
    )
