"""The teachers' terms table: each teacher id gets the line its own terms
call for, and a teacher the table does not know says so instead of guessing."""

from __future__ import annotations

import pytest

from distill_tui.core.ship.terms import teacher_terms_line

CASES = [
    ("anthropic", "claude-sonnet-4-6", None, "compete with Anthropic"),
    ("openai", "gpt-4.1", None, "compete with OpenAI"),
    # Open weights served by an OpenAI-compatible endpoint: the model's terms.
    ("openai", "llama3.3:70b", "http://127.0.0.1:11434/v1", 'start its name with "Llama"'),
    ("mlx", "mlx-community/Meta-Llama-3.1-70B-Instruct-4bit", None, "Built with Llama"),
    ("openai", "gemma-3-27b-it", "http://localhost:8080/v1", "Model Derivative"),
    ("mlx", "mlx-community/Qwen2.5-72B-Instruct-4bit", None, '"Built with Qwen"'),
]


@pytest.mark.parametrize("provider,model,base_url,expected", CASES)
def test_each_teacher_gets_the_line_its_terms_call_for(provider, model, base_url, expected):
    line = teacher_terms_line(provider, model, base_url)
    assert line.startswith("the terms you accepted say:")
    assert expected in line
    assert "source:" in line


def test_an_unknown_local_model_is_not_given_someone_elses_terms():
    line = teacher_terms_line("openai", "my-finetune", "http://127.0.0.1:8080/v1")
    assert line.startswith("no terms on record for openai:my-finetune")
    assert "OpenAI" not in line
    # The model id decides before the provider: Llama on an OpenAI-style URL.
    assert "OpenAI" not in teacher_terms_line("openai", "llama3.1:8b")
