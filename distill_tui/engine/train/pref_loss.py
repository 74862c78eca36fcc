"""DPO and KTO losses over the completion tokens only, for mlx-lm's
`train(loss=...)`.

The reference model is the SFT policy the run starts from: its
log-probabilities are computed once before step 1 (`reference_logps`) and
travel in each batch as constants, so no second copy of the model is held.
Sequence log-probabilities sum the completion tokens the way mlx-lm's
`default_loss` masks with `mask_prompt`: `lengths[:, 0]` is where the answer
starts, `lengths[:, 1]` where the row ends. Call on the MLX thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Models whose logits are exactly head(model.model(inputs)) (mlx-lm's llama,
# qwen2, qwen3, mistral): the head runs on the completion positions only.
_PLAIN_HEAD = ("llama", "qwen2", "qwen3", "mistral")


def _head(model: Any) -> Any:
    args, inner = getattr(model, "args", None), getattr(model, "model", None)
    if inner is None or getattr(args, "model_type", None) not in _PLAIN_HEAD:
        return None
    if getattr(args, "tie_word_embeddings", False):
        return inner.embed_tokens.as_linear
    return getattr(model, "lm_head", None)


def sequence_logps(model: Any, tokens: Any, lengths: Any, positions: Any = None) -> tuple[Any, Any]:
    """(sum of completion-token log-probabilities, completion tokens) per row.

    `positions` (rows x K, from `pref_data.make_batch`) are the target
    positions of each row's answer: with them the vocabulary projection, the
    largest activation of a small model, is computed for those K positions
    instead of the whole row (as mlx-lm's loss does), so a DPO step's two
    answers cost little more memory than one SFT row."""
    import mlx.core as mx
    import mlx.nn as nn

    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    head = None if positions is None else _head(model)
    if head is None:
        logits = model(inputs).astype(mx.float32)
        steps = mx.arange(1, targets.shape[1] + 1)
        mask = mx.logical_and(steps >= lengths[:, 0:1], steps <= lengths[:, 1:])
    else:
        hidden = mx.take_along_axis(model.model(inputs), positions[..., None], axis=1)
        logits = head(hidden).astype(mx.float32)
        targets = mx.take_along_axis(targets, positions, axis=1)
        want = lengths[:, 0:1] - 1 + mx.arange(positions.shape[1])
        mask = mx.logical_and(want == positions, positions <= lengths[:, 1:] - 1)
    logp = -nn.losses.cross_entropy(logits, targets) * mask
    return logp.sum(axis=1), mask.sum(axis=1)


def dpo_terms(policy: Any, reference: Any, beta: float, b: int | None = None) -> dict[str, Any]:
    """Per-pair rewards from stacked [chosen; rejected] log-probabilities (b
    pairs; rows after 2b, anchors, are not pairs)."""
    b = policy.shape[0] // 2 if b is None else b
    chosen = beta * (policy[:b] - reference[:b])
    rejected = beta * (policy[b : 2 * b] - reference[b : 2 * b])
    return {
        "chosen_reward": chosen,
        "rejected_reward": rejected,
        "chosen_logp": policy[:b],
        "rejected_logp": policy[b : 2 * b],
    }


def make_dpo_loss(
    beta: float, sft_weight: float = 0.0, anchored: bool = False
) -> Callable[..., tuple[Any, Any]]:
    """loss(model, tokens, lengths, reference, positions): rows 0..B-1 chosen,
    B..2B-1 rejected; `anchored`: 2B..3B-1 accepted SFT rows, which the SFT
    term covers with the chosen answers (pref_data.with_anchors)."""
    import mlx.core as mx
    import mlx.nn as nn

    def loss(
        model: Any, tokens: Any, lengths: Any, reference: Any, positions: Any
    ) -> tuple[Any, Any]:
        logps, ntoks = sequence_logps(model, tokens, lengths, positions)
        b = tokens.shape[0] // (3 if anchored else 2)
        t = dpo_terms(logps, reference, beta, b)
        value = -nn.log_sigmoid(t["chosen_reward"] - t["rejected_reward"]).mean()
        if sft_weight:
            nll = -(logps[:b].sum() + logps[2 * b :].sum())
            count = ntoks[:b].sum() + ntoks[2 * b :].sum()
            value = value + sft_weight * nll / mx.maximum(count, 1)
        return value, ntoks.sum()

    return loss


def make_kto_loss(beta: float, sft_weight: float = 0.0) -> Callable[..., tuple[Any, Any]]:
    """loss(model, tokens, lengths, reference, positions, label, weight): label 1
    desirable.

    The KL reference point z is the batch mean of the policy/reference log
    ratio, clamped at 0 and not differentiated (TRL estimates it from
    mismatched completions; one batch of the same rows costs no extra pass)."""
    import mlx.core as mx

    def loss(
        model: Any,
        tokens: Any,
        lengths: Any,
        reference: Any,
        positions: Any,
        label: Any,
        weight: Any,
    ) -> tuple[Any, Any]:
        logps, ntoks = sequence_logps(model, tokens, lengths, positions)
        ratio = logps - reference
        z = mx.stop_gradient(mx.maximum(ratio.mean(), 0.0))
        good = 1 - mx.sigmoid(beta * (ratio - z))
        bad = 1 - mx.sigmoid(beta * (z - ratio))
        value = (weight * mx.where(label > 0, good, bad)).sum() / weight.sum()
        if sft_weight:
            nll = -(logps * label).sum() / mx.maximum((ntoks * label).sum(), 1)
            value = value + sft_weight * nll
        return value, ntoks.sum()

    return loss
