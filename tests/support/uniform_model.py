"""A tiny local teacher whose every token is equally likely: the random-weight
Qwen2 of distill_tui/demo/tiny.py with a small vocabulary and its final norm
zeroed, so every logit is 0. Its end tokens (3 of about 300 ids) then end
some turns within 64 tokens and not others, and a fixed seed says which:
what Magpie's stop at the end of turn needs, where the plain tiny model
almost never ends a turn. Call on the MLX thread."""

from __future__ import annotations

from pathlib import Path


def build_uniform_model(path: Path) -> Path:
    import mlx.core as mx

    from distill_tui.demo.tiny import build_tiny_model

    out = build_tiny_model(path, vocab_size=300)
    weights = mx.load(str(out / "model.safetensors"))
    assert isinstance(weights, dict)
    weights["model.norm.weight"] = mx.zeros_like(weights["model.norm.weight"])
    mx.save_safetensors(str(out / "model.safetensors"), weights, metadata={"format": "mlx"})
    return out
