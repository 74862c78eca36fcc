"""The forgetting check: perplexity of the base model and of the run on a
short general text that ships with the package, so a user sees whether the
student kept its general language while it learned the task.

The text (`general_text.txt` beside this module) is the first part of
chapter I, "Down the Rabbit-Hole", of Lewis Carroll's *Alice's Adventures in
Wonderland* (1865), typed after Project Gutenberg's eBook #11: public domain,
about 1,450 words (1,817 tokens with SmolLM2's tokenizer), plain English
prose that no distillation task here trains on. Dashes are written `--` so
the file is ASCII.

The measure is deterministic (the same text and weights give the same
figure), so a rise is the weights' doing, not noise of sampling. The engine
computes it (`engine.chat.perplexity`); this module reads the text, says the
figures in a line and decides when the rise deserves a warning.
"""

from __future__ import annotations

from importlib import resources

TEXT_FILE = "general_text.txt"
SOURCE = "the opening of Alice's Adventures in Wonderland (public domain)"
# The text is cut here: a few thousand tokens keep the check to one short
# forward pass per model, whatever the tokenizer.
MAX_TOKENS = 4096
# Warn above a 50% rise. The figure is deterministic, so any rise is the
# weights' doing; but every fine-tune moves it some, and a warning on every
# run would be ignored. Measured on the demo's student (SmolLM2-135M, 1,817
# tokens of this text, base 24.1): an 8-step LoRA run at 1e-3 that learned
# the tickets rose 23% at its best checkpoint and 51% at its latest, 8 steps
# of overfitting later; the demo's own defaults (20 steps at 5e-4, 8 layers)
# rose 190% (to 70.0). Past 1.5x the model gives general text a third less
# probability per token (0.41 nats more, averaged over thousands of tokens):
# the overfit checkpoints cross it, the one that stopped at its best does not.
WARN_RISE = 0.50


def text() -> str:
    return resources.files(__package__).joinpath(TEXT_FILE).read_text(encoding="utf-8")


def rise(perplexity: dict[str, float]) -> float | None:
    """The run's perplexity against the base's, as a fraction (0.25: 25%
    higher), or None when either is missing."""
    base, run = perplexity.get("base"), perplexity.get("adapter")
    if not base or run is None:
        return None
    return run / base - 1


def line(perplexity: dict[str, float], tokens: int = 0) -> str | None:
    """ "general perplexity base 12.31 -> run 12.90 (+4.8%) on 2,012 tokens
    of ...", or None when it was not measured."""
    if "adapter" not in perplexity:
        return None
    r = rise(perplexity)
    if r is None:
        out = f"general perplexity run {perplexity['adapter']:.2f}"
    else:
        out = (
            f"general perplexity base {perplexity['base']:.2f} -> run"
            f" {perplexity['adapter']:.2f} ({r:+.1%})"
        )
    if "sft" in perplexity:
        out += f", SFT start {perplexity['sft']:.2f}"
    where = f" on {tokens:,} tokens of" if tokens else " on"
    return out + f"{where} {SOURCE}"


def warning(perplexity: dict[str, float]) -> str | None:
    """The warning when the run's general perplexity rose by more than
    `WARN_RISE` over the base's, else None."""
    r = rise(perplexity)
    if r is None or r <= WARN_RISE:
        return None
    return (
        f"general perplexity rose {r:.0%} over the base model's (more than"
        f" {WARN_RISE:.0%}): the run may have lost some of its general language"
    )
