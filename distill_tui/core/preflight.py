"""Checks before training: rows longer than max_seq_length after templating,
and a peak-memory estimate for the student, batch size and sequence length
against the machine's memory, with suggestions when it will not fit.

The engine measures the token lengths and the model's sizes; the arithmetic
and the advice live here so they are testable without MLX.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field


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
    # Problems training cannot start with (it would learn nothing).
    blocking: list[str] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return self.estimate_gb <= 0.75 * self.machine_gb


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


def run_preflight(
    lengths: Sequence[int],
    shape: ModelShape,
    *,
    max_seq_length: int,
    batch_size: int,
    trainable_params: int,
    grad_checkpoint: bool,
    machine_gb: float | None = None,
    offsets: Sequence[int] | None = None,
) -> Preflight:
    """`offsets`: where each row's completion starts (the masked prompt's
    length), to find rows max_seq_length leaves nothing to learn from."""
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
    blocking: list[str] = []
    offsets = offsets if offsets is not None else [0] * len(lengths)
    empty = [
        off
        for n, off in zip(lengths, offsets, strict=True)
        if not trained_tokens(n, off, max_seq_length)
    ]
    if lengths and len(empty) == len(lengths):
        blocking.append(nothing_to_train(max_seq_length, min(empty)))
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
    if len(lengths) < batch_size:
        problems.append(
            f"only {len(lengths)} training rows for batch size {batch_size}; "
            "mlx-lm needs at least one full batch"
        )
        suggestions.append(f"lower batch size to {max(1, len(lengths))} or accept more rows")
    budget = 0.75 * machine_gb
    if machine_gb and est > budget:
        problems.append(
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
        blocking=blocking,
    )
