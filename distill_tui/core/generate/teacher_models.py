"""Which model names suit which teacher provider, for the Task screen's
provider switch: a Claude id is no name for an OpenAI-compatible server or a
local MLX model, and another server's name is none for Anthropic's API. A
name that does not suit is cleared and the field says what goes there."""

from __future__ import annotations

# What the model field asks for, by provider (its placeholder once cleared).
WANTED = {
    "anthropic": "a Claude model id, e.g. claude-sonnet-4-6",
    "openai": "the server's model name (a local server's /v1/models lists them)",
    "mlx": "a Hugging Face id or a model folder",
}


def suits(provider: str, model: str) -> bool:
    """Whether `model` can name a model of `provider` (an empty name never does)."""
    if not model.strip():
        return False
    claude = model.strip().lower().startswith("claude")
    return claude if provider == "anthropic" else not claude
