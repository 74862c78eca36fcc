"""Teacher prices (USD per million tokens) and the cost of one generation.

Built-in prices cover the common hosted models; `[teacher.prices."MODEL"]` in
distill.toml overrides or adds entries. A model is matched by exact name first,
then by the longest known prefix (so dated snapshots such as
`claude-sonnet-4-5-20250929` find `claude-sonnet-4-5`). Local models cost 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from distill_tui.core.config import Price

# Anthropic bills cache reads at 0.1x and 5-minute cache writes at 1.25x the
# input price; OpenAI bills cached prompt tokens at 0.5x and has no write fee.
_ANTHROPIC = {
    "claude-opus-4-5": (5.0, 25.0),
    "claude-opus-4-1": (15.0, 75.0),
    "claude-opus-4": (15.0, 75.0),
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-3-7-sonnet": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-3-5-haiku": (0.8, 4.0),
    "claude-3-haiku": (0.25, 1.25),
}
_OPENAI = {
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1-nano": (0.1, 0.4),
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
}

BUILTIN: dict[str, Price] = {
    **{
        m: Price(input=i, output=o, cache_read=i * 0.1, cache_write=i * 1.25)
        for m, (i, o) in _ANTHROPIC.items()
    },
    **{
        m: Price(input=i, output=o, cache_read=i * 0.5, cache_write=i)
        for m, (i, o) in _OPENAI.items()
    },
}

FREE = Price(input=0.0, output=0.0, cache_read=0.0, cache_write=0.0)

# Message Batches are billed at half the price of every token class.
BATCH_DISCOUNT = 0.5


def price_for(
    model: str, overrides: Mapping[str, Price] | None = None, *, provider: str = ""
) -> Price | None:
    """The price of `model`, or None when unknown (the caller says so rather
    than pretending a run is free)."""
    if provider == "mlx":
        return overrides.get(model, FREE) if overrides else FREE
    table = {**BUILTIN, **(overrides or {})}
    if model in table:
        return table[model]
    # Strip a provider prefix such as "openai/gpt-4o" or "models/gemini-...".
    bare = model.rsplit("/", 1)[-1]
    best = max((k for k in table if bare.startswith(k)), key=len, default=None)
    return table[best] if best else None


@dataclass(frozen=True)
class Usage:
    """Tokens of one request. `input_tokens` counts every prompt token, cache
    reads and writes included; those two are also counted on their own."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


def cost(usage: Usage, price: Price | None, *, batch: bool = False) -> float:
    if price is None:
        return 0.0
    fresh = max(usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens, 0)
    read = price.cache_read if price.cache_read is not None else price.input
    write = price.cache_write if price.cache_write is not None else price.input
    usd = (
        fresh * price.input
        + usage.cache_read_tokens * read
        + usage.cache_write_tokens * write
        + usage.output_tokens * price.output
    ) / 1_000_000
    return usd * (BATCH_DISCOUNT if batch else 1.0)
