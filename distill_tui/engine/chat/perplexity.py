"""Perplexity of a model on a text: the forgetting check of an evaluation
(`core.evaluate.general` ships the text and says the figures).

The text's tokens are cut into windows of `WINDOW` tokens, scored a few
windows at a time in one forward pass each; every token after a window's
first is predicted from the window before it. Windows do not overlap, so the
first tokens of each see little context: the figure is higher than a
sliding window's, the same way for every model compared. Call on the MLX
thread (`ModelHost.measure`).
"""

from __future__ import annotations

import math
from typing import Any

WINDOW = 512
BATCH = 4  # windows per forward pass


def tokens(tokenizer: Any, text: str, max_tokens: int) -> list[int]:
    """The first `max_tokens` tokens of `text`, encoded a paragraph at a
    time: never more at once than the tokenizer's own length limit, past
    which Hugging Face tokenizers print a warning over the screen."""
    ids: list[int] = []
    for n, part in enumerate(text.split("\n\n")):
        piece = part if n == 0 else "\n\n" + part
        ids += tokenizer.encode(piece, add_special_tokens=n == 0)  # one BOS, at the start
        if len(ids) >= max_tokens:
            break
    return ids[:max_tokens]


def perplexity(
    model: Any, tokenizer: Any, text: str, max_tokens: int, window: int = WINDOW
) -> tuple[float, int]:
    """(perplexity, tokens predicted) of `model` on the first `max_tokens`
    tokens of `text`."""
    import mlx.core as mx
    import mlx.nn as nn

    ids = tokens(tokenizer, text, max_tokens)
    windows = [ids[i : i + window] for i in range(0, len(ids), window)]
    windows = [w for w in windows if len(w) > 1]
    if not windows:
        raise ValueError("the text is shorter than two tokens")
    nll = 0.0
    count = 0
    for start in range(0, len(windows), BATCH):
        chunk = windows[start : start + BATCH]
        width = max(map(len, chunk))
        x = mx.array([w + [0] * (width - len(w)) for w in chunk])
        lengths = mx.array([len(w) for w in chunk])
        logits = model(x[:, :-1]).astype(mx.float32)
        losses = nn.losses.cross_entropy(logits, x[:, 1:], reduction="none")
        # Padding predicts nothing: only positions before each window's end count.
        mask = mx.arange(width - 1)[None, :] < (lengths[:, None] - 1)
        nll += float((losses * mask).sum())
        count += int(mask.sum())
    return math.exp(nll / count), count
