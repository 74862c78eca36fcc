"""The ship probes: greedy answers of a shipped model against the fused MLX
model's, on the same prompts, and what a difference means.

A difference whose first differing token was a near-tie for the fused model
(the shipped model's token within `NEAR_TIE_LOGITS` of the fused model's own,
in the fused model's logits) is numerical noise that any rounding of the
weights (F16, Q8_0) may flip; it is counted apart and said,
so a random-weight model (or the 0.1-logit Q8_0 miss measured in llama.cpp)
is not reported as a wrong file. A difference beyond that is a file that
answers differently, and the ship fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill_tui.engine.chat.session import Message, ModelHost, Target
from distill_tui.engine.mlx_thread import MLXThread, mlx_thread

PROBE_TOKENS = 32
# Logits, at the first differing token; Q8_0 moves a logit by a few hundredths
# on the demo's student, and the one miss llama.cpp showed was 0.1 apart.
NEAR_TIE_LOGITS = 0.25


@dataclass(frozen=True)
class ProbeResult:
    probes: int
    agree: int
    ties: int  # differences that start at a near-tie of the fused model

    @property
    def differ(self) -> int:
        """Differences beyond what rounding explains."""
        return self.probes - self.agree - self.ties


def greedy_answers(model: str | Path, probes: list[list[Message]]) -> list[str]:
    """Greedy answers, decoded together (the same text as one at a time: the
    batched evaluation's real-model test holds it). Call holding a lease."""
    answers: dict[int, str] = {}
    ModelHost().answer_all(
        Target(str(model)),
        probes,
        [PROBE_TOKENS] * len(probes),
        lambda i, text, _why: answers.__setitem__(i, text),
    )
    return [answers[i] for i in range(len(probes))]


def first_difference_gap(
    model: Any, tokenizer: Any, messages: list[Message], reference: str, shipped: str
) -> float:
    """How far, in the fused model's logits, the shipped model's token lies
    below the fused model's own at the first token where the answers part
    (an end token where one answer is a prefix of the other). Call on the
    MLX thread."""
    import mlx.core as mx

    from distill_tui.engine.models.end_tokens import end_token_ids

    prompt = list(tokenizer.apply_chat_template(messages, add_generation_prompt=True))
    ta = tokenizer.encode(reference, add_special_tokens=False)
    tb = tokenizer.encode(shipped, add_special_tokens=False)
    same = 0
    while same < min(len(ta), len(tb)) and ta[same] == tb[same]:
        same += 1
    logits = model(mx.array(prompt + ta[:same])[None])[0, -1].astype(mx.float32)
    ends = sorted(end_token_ids(tokenizer))  # where the app stops an answer

    def logit(tokens: list[int]) -> float:
        if same < len(tokens):
            return float(logits[tokens[same]])
        return max(float(logits[e]) for e in ends)  # that answer ended here

    return logit(ta) - logit(tb)


def _gaps(
    fused: Path, probes: list[list[Message]], pairs: list[tuple[int, str, str]]
) -> list[float]:
    from mlx_lm import load

    model, tokenizer = load(str(fused))[:2]
    return [first_difference_gap(model, tokenizer, probes[i], a, b) for i, a, b in pairs]


def compare(
    fused: Path,
    shipped: list[str],
    reference: list[str],
    probes: list[list[Message]],
    *,
    strip: bool = False,
    mlx: MLXThread | None = None,
) -> ProbeResult:
    """Count agreeing answers, and differences that begin at a near-tie of
    the fused model. Call holding a lease."""
    norm = (lambda s: s.strip()) if strip else (lambda s: s)
    differ = [
        (i, r, s)
        for i, (s, r) in enumerate(zip(shipped, reference, strict=True))
        if norm(s) != norm(r)
    ]
    gaps = (mlx or mlx_thread()).call(_gaps, fused, probes, differ) if differ else []
    ties = sum(g <= NEAR_TIE_LOGITS for g in gaps)
    return ProbeResult(len(probes), len(probes) - len(differ), ties)
