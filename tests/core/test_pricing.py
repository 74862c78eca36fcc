"""Prices from genai-prices with the project's [teacher.prices] on top; an
unknown price is unknown, never $0."""

from __future__ import annotations

import pytest

from distill_tui.core.config import Price
from distill_tui.core.generate.pricing import Usage, cost, fmt_spend, fmt_usd, price_for

MILLION = Usage(input_tokens=1_000_000, output_tokens=1_000_000)


def usd(model: str, provider: str, **kw) -> float | None:
    return cost(MILLION, price_for(model, provider=provider, **kw))


def test_each_model_gets_its_own_price_not_a_prefixs():
    # Our old prefix table gave gpt-5-nano gpt-5's price, claude-opus-4-6
    # opus-4's (15, 75) and gpt-4o-2024-05-13 gpt-4o's.
    assert usd("gpt-5-nano", "openai") < usd("gpt-5", "openai") / 10
    assert usd("claude-opus-4-6", "anthropic") == pytest.approx(5 + 25)
    assert usd("gpt-4o-2024-05-13", "openai") == pytest.approx(5 + 15)
    assert usd("gpt-4o", "openai") == pytest.approx(2.5 + 10)
    # A dated snapshot still finds its model.
    assert usd("claude-haiku-4-5-20251001", "anthropic") == pytest.approx(1 + 5)


def test_cache_reads_and_batches_are_cheaper():
    p = price_for("claude-haiku-4-5", provider="anthropic")
    fresh = cost(Usage(input_tokens=1_000_000), p)
    cached = cost(Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000), p)
    assert fresh == pytest.approx(1.0) and cached == pytest.approx(0.1)
    assert cost(Usage(input_tokens=1_000_000), p, batch=True) == pytest.approx(0.5)


def test_the_projects_prices_come_first():
    mine = {"gpt-5-nano": Price(input=1.0, output=2.0), "my-model": Price(input=0, output=0)}
    assert cost(MILLION, price_for("gpt-5-nano", mine, provider="openai")) == 3.0
    local = price_for("my-model", mine, provider="openai", base_url="http://127.0.0.1:8080/v1")
    assert cost(MILLION, local) == 0.0


def test_unknown_is_unknown_and_local_mlx_is_free():
    assert price_for("no-such-model", provider="anthropic") is None
    # A local OpenAI-compatible server (Ollama, mlx_lm.server) has no price.
    assert price_for("qwen2.5:7b", provider="openai", base_url="http://localhost:11434/v1") is None
    assert cost(MILLION, None) is None
    assert usd("mlx-community/Qwen2.5-7B-Instruct-4bit", "mlx") == 0.0
    # A hosted OpenAI-compatible endpoint is found by its URL.
    gemini = "https://generativelanguage.googleapis.com/v1beta/openai/"
    assert usd("gemini-2.5-flash", "openai", base_url=gemini) > 0


def test_unknown_is_written_as_unknown():
    assert fmt_usd(None) == "unknown" and fmt_usd(0.0) == "$0.0000"
    assert fmt_spend(0.0, 30) == "unknown (30 without a price)"
    assert fmt_spend(1.2, 3) == "$1.2000 + unknown (3 without a price)"
    assert fmt_spend(1.2, 0) == "$1.2000"


def test_a_store_from_before_keeps_its_answers_and_can_hold_an_unknown_cost(tmp_path):
    import sqlite3

    from distill_tui.core.store import MIGRATIONS, Store

    path = tmp_path / "distill.db"
    old = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        old.executescript(script)
    old.execute("PRAGMA user_version = 2")
    old.execute(
        "INSERT INTO rows (id, input, input_sha, status, created_at, updated_at)"
        " VALUES (1, 'x', 'h', 'done', 0, 0)"
    )
    old.execute(
        "INSERT INTO generations (row_id, output, teacher, prompt_hash, cost_usd, created_at)"
        " VALUES (1, 'y', 'anthropic:claude-haiku-4-5', 'p', 0.5, 0)"
    )
    old.commit()
    old.close()
    store = Store(path)
    store.conn.execute(
        "INSERT INTO generations (row_id, output, teacher, prompt_hash, cost_usd, created_at)"
        " VALUES (1, 'z', 'openai:local', 'p', NULL, 0)"
    )
    counts = store.counts()
    assert counts["cost_usd"] == 0.5 and counts["cost_unknown"] == 1


def test_a_price_typed_on_the_task_screen_reads_back_as_typed():
    from distill_tui.core.generate.pricing import parse_price, price_text

    assert parse_price("") is None and parse_price("  ") is None
    assert parse_price("0") == Price(input=0, output=0)
    assert parse_price("3 / 15") == Price(input=3, output=15)
    assert price_text(parse_price("3/15")) == "3 / 15" and price_text(parse_price("0")) == "0"
    for bad, why in (("abc", "not a price"), ("-1", "0 or more"), ("1 2 3", "one price")):
        with pytest.raises(ValueError, match=why):
            parse_price(bad)
    with pytest.raises(ValueError):
        parse_price("nan")
