"""Teacher prices and the cost of one generation.

Prices come from `genai-prices` (Pydantic's maintained, monthly-updated table
of provider prices, with long-context tiers and cache rates), looked up by
provider and model the way that library matches names, so `gpt-5-nano` gets
its own price and not gpt-5's. `[teacher.prices."MODEL"]` in distill.toml
(USD per million tokens) comes first, matched by the exact model name.
Local MLX models cost 0. Anything else has no known price: its cost is None,
shown as unknown, and a budget cap refuses to run on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from distill_tui.core.config import Price

FREE = Price(input=0.0, output=0.0, cache_read=0.0, cache_write=0.0)

# Message Batches (Anthropic and OpenAI) are billed at half the price of every
# token class.
BATCH_DISCOUNT = 0.5

# Hosts whose prices genai-prices knows by provider id.
_OPENAI_HOSTS = {"api.openai.com"}


@dataclass(frozen=True)
class CatalogPrice:
    """A model found in genai-prices' table; costs are computed per request,
    so long-context tiers apply where a provider has them."""

    model: str
    provider_id: str | None = None
    provider_api_url: str | None = None


@dataclass(frozen=True)
class Usage:
    """Tokens of one request. `input_tokens` counts every prompt token, cache
    reads and writes included; those two are also counted on their own (the
    convention genai-prices uses too)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


def _catalog_cost(usage: Usage, price: CatalogPrice) -> float:
    import genai_prices

    u = genai_prices.Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
    )
    if price.provider_api_url is not None:
        calc = genai_prices.calc_price(u, price.model, provider_api_url=price.provider_api_url)
    else:
        calc = genai_prices.calc_price(u, price.model, provider_id=price.provider_id)
    return float(calc.total_price)


def _catalog(model: str, provider: str, base_url: str | None) -> CatalogPrice | None:
    if provider == "anthropic":
        found = CatalogPrice(model, provider_id="anthropic")
    elif provider == "openai" and (not base_url or urlparse(base_url).hostname in _OPENAI_HOSTS):
        found = CatalogPrice(model, provider_id="openai")
    elif provider == "openai":
        # Another OpenAI-compatible endpoint: genai-prices knows hosted ones
        # (Gemini, Groq, OpenRouter...) by URL; a local server is unknown.
        found = CatalogPrice(model, provider_api_url=base_url)
    else:
        found = CatalogPrice(model)
    try:
        _catalog_cost(Usage(), found)
    except LookupError:
        return None
    return found


def price_for(
    model: str,
    overrides: Mapping[str, Price] | None = None,
    *,
    provider: str = "",
    base_url: str | None = None,
) -> Price | CatalogPrice | None:
    """The price of `model`, or None when unknown (the caller says so rather
    than pretending a run is free)."""
    overrides = overrides or {}
    if model in overrides:
        return overrides[model]
    if provider == "mlx":
        return FREE
    return _catalog(model, provider, base_url)


def cost(usage: Usage, price: Price | CatalogPrice | None, *, batch: bool = False) -> float | None:
    """USD for one request, or None when the price is unknown."""
    if price is None:
        return None
    if isinstance(price, CatalogPrice):
        usd = _catalog_cost(usage, price)
    else:
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


def fmt_usd(usd: float | None, places: int = 4) -> str:
    """`$0.0123`, or `unknown` for a cost with no known price."""
    return "unknown" if usd is None else f"${usd:.{places}f}"


def fmt_spend(usd: float, unknown: int, places: int = 4) -> str:
    """A total over many requests, `unknown` of which had no known price:
    `$1.2000`, `unknown (30 without a price)`, `$1.2000 + unknown (3 without a price)`."""
    if not unknown:
        return f"${usd:.{places}f}"
    rest = f"unknown ({unknown} without a price)"
    return rest if usd == 0 else f"${usd:.{places}f} + {rest}"


def parse_price(text: str) -> Price | None:
    """A price as typed on the Task screen, USD per million tokens: `3 / 15`
    (input / output), `0.5` (both), or blank (None: no price of our own).
    Raises ValueError with a short reason for anything else."""
    parts = text.replace(",", " ").replace("/", " ").split()
    if not parts:
        return None
    if len(parts) > 2:
        raise ValueError("type one price, or input / output")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a price (e.g. 3 / 15, or 0 if free)") from None
    if any(n != n or n in (float("inf"), float("-inf")) or n < 0 for n in nums):
        raise ValueError("a price is a number of dollars, 0 or more")
    return Price(input=nums[0], output=nums[-1])


def price_text(price: Price | None) -> str:
    """The inverse of `parse_price`: `3 / 15`, `0`, or blank."""
    if price is None:
        return ""
    if price.input == price.output:
        return f"{price.input:g}"
    return f"{price.input:g} / {price.output:g}"
