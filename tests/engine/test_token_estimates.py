"""The estimate counts inputs with the student's tokenizer when the student is
on this machine (never downloading it) and an Anthropic teacher's shared
prefix with count_tokens, and says which counts it used."""

from __future__ import annotations

import pytest
from support.hf_cache import cache_repo
from tokenizers import Tokenizer

from distill_tui.core.config import Example
from distill_tui.engine.generate.estimate import TURN_OVERHEAD, estimate

INPUTS = ["The app crashes when I open the settings page.", "I was charged twice, refund me."]


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache in a temp folder (HF_HUB_CACHE, as a user sets it)."""
    import huggingface_hub.constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def _project(ws, student: str, provider: str = "openai", inputs=INPUTS) -> None:
    s = ws.settings
    s.student.model = student
    s.teacher.provider, s.teacher.model = provider, "claude-haiku-4-5"
    s.task.instructions = "Classify the support ticket as billing, bug, feature or account."
    s.task.examples = [Example(input="I was charged twice", output="billing")]
    ws.store.add_inputs([(x, None) for x in inputs])


def _student_count(model_dir, text: str) -> int:
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    return len(tok.encode(text, add_special_tokens=False).ids)


def test_inputs_are_counted_with_a_local_students_tokenizer(workspace, tiny_model, hub_cache):
    _project(workspace, str(tiny_model))
    e = estimate(workspace)
    own = sum(_student_count(tiny_model, x) + TURN_OVERHEAD for x in INPUTS)
    assert e.input_tokens == own + 2 * e.prefix_tokens
    assert "inputs with the student's tokenizer" in e.describe()


def test_a_student_in_the_hub_cache_counts_and_nothing_is_downloaded(
    workspace, tiny_model, hub_cache
):
    files = {p.name: p for p in tiny_model.iterdir() if p.is_file()}
    cache_repo(hub_cache, "model", "mlx-community/tiny-qwen", files, "a" * 40)
    _project(workspace, "mlx-community/tiny-qwen")
    assert "inputs with the student's tokenizer" in estimate(workspace).describe()
    # The Train screen's preflight finds the cached student the same way.
    from distill_tui.core.train.preflight import model_layers

    assert model_layers("mlx-community/tiny-qwen") == 2

    before = sorted(p.name for p in hub_cache.iterdir())
    _project(workspace, "mlx-community/Qwen2.5-1.5B-Instruct-4bit")  # not downloaded
    e = estimate(workspace)
    assert "about 4 characters a token (student not downloaded)" in e.describe()
    assert e.input_tokens > 0
    assert sorted(p.name for p in hub_cache.iterdir()) == before  # nothing fetched


def test_an_anthropic_prefix_is_counted_by_count_tokens(workspace, fake, hub_cache):
    _project(workspace, "mlx-community/Qwen2.5-1.5B-Instruct-4bit", provider="anthropic")
    e = estimate(workspace)
    asked = [r for r in fake.requests if r["_path"] == "/v1/messages/count_tokens"]
    assert len(asked) == 1 and asked[0]["model"] == "claude-haiku-4-5"
    assert asked[0]["system"][0]["text"].startswith("Classify the support ticket")
    # The fake counts len/4 per block and 3 per turn; the "." turn is taken off.
    assert e.prefix_tokens == fake._count(asked[0]) - 1
    assert "prefix with Anthropic's count_tokens" in e.describe()
    assert not fake.message_requests  # counting is not generating


def test_without_a_key_the_prefix_falls_back_and_says_so(workspace, hub_cache, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    _project(workspace, "mlx-community/Qwen2.5-1.5B-Instruct-4bit", provider="anthropic")
    e = estimate(workspace)
    assert e.prefix_tokens > 0
    assert "prefix with about 4 characters a token" in e.describe()


def test_a_long_run_is_priced_per_request_not_at_the_long_context_rate(
    workspace, hub_cache, monkeypatch
):
    # claude-sonnet-4-5 doubles its input price above 200k tokens in one
    # request; 150 rows of ~2k tokens are 300k in all but 2k per request.
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    long = [f"ticket {i} " + "word " * 1600 for i in range(150)]
    _project(workspace, "mlx-community/Qwen2.5-1.5B-Instruct-4bit", "anthropic", long)
    workspace.settings.teacher.model = "claude-sonnet-4-5"
    one, run = estimate(workspace, 1), estimate(workspace, 150)
    assert run.input_tokens > 200_000
    assert run.cost_usd_max == pytest.approx(150 * one.cost_usd_max)
