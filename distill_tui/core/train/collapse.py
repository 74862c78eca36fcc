"""The collapse guard of a preference run, as pure decisions on numbers the
trainer measures at each evaluation.

DPO raises the margin between the chosen and the rejected answer; nothing in
its loss stops it from pushing both down (Rafailov et al. 2024, "From r to
Q*"; Pal et al. 2024, "Smaug", who name it the failure of DPO on pairs with a
small edit distance, exactly what curation's edits are). On the demo at SFT's
learning rate the chosen answers' log-probability fell from -0.1 to -39.4
while the pair accuracy read 1.00, and every answer ran on (`bugbugbug...`).

Two signs, each enough:
- the chosen answers' mean log-probability per token fell more than
  `CHOSEN_DROP` nats below the reference (the SFT start). One nat a token is a
  chosen answer every token of which became e (2.7) times less likely than
  where the run started. On the demo a healthy run (learning rate 2e-5, SFT
  term 1) moved it by +0.01 to +0.17; at SFT's 5e-4 with no SFT term it fell
  3.8 by iteration 7, with exact match at 0.125 (docs/preferences.md).
- the held-out answers stopped ending: at least half of them ran to their
  token budget, 25 points more than at the start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CHOSEN_DROP = 1.0  # nats per token below the reference
RUN_ON_SHARE = 0.5
RUN_ON_RISE = 0.25


@dataclass(frozen=True)
class Reading:
    iter: int
    chosen_drift: float  # mean (policy - reference) log-prob per chosen token
    run_on: float | None = None  # share of held-out answers that did not end


def collapsed(reading: Reading, start_run_on: float | None = None) -> str | None:
    """The one-line message when the run collapsed at this reading, else None."""
    drift = reading.chosen_drift
    why = []
    if math.isfinite(drift) and drift < -CHOSEN_DROP:
        why.append(
            f"the chosen answers' log-probability fell {-drift:.1f} nats a token below the SFT"
            f" start (the guard stops at {CHOSEN_DROP:g})"
        )
    elif not math.isfinite(drift):
        why.append("the chosen answers' log-probability is no longer a number")
    if reading.run_on is not None:
        base = start_run_on or 0.0
        if reading.run_on >= RUN_ON_SHARE and reading.run_on - base >= RUN_ON_RISE:
            why.append(
                f"{reading.run_on:.0%} of the held-out answers no longer end (at the start"
                f" {base:.0%})"
            )
    if not why:
        return None
    return f"collapse at iteration {reading.iter}: " + "; ".join(why)


def stopped_line(reason: str, kept_iter: int | None) -> str:
    """The one line a collapsed run ends with: why, what was kept, what to change."""
    kept = (
        f"kept the weights of iteration {kept_iter}, the last evaluation before the fall"
        if kept_iter is not None
        else "nothing trained before the fall was kept"
    )
    return (
        f"{reason}. Stopped; {kept}. Lower the learning rate or raise the SFT term"
        " (--learning-rate, --sft-weight; on the Train form: Pref LR, SFT term)"
    )


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a share (good at small n and at 0 or 1)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    d = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, mid - half), min(1.0, mid + half)
