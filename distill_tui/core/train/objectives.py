"""What a preference run (DPO or KTO) trains with, apart from SFT's settings.

A preference run starts from an SFT adapter that already fits the task; SFT's
learning rate (the demo's 5e-4) and an SFT term of 0 drive the chosen answers'
likelihood down with the rejected ones until the student answers garbage (the
classic DPO likelihood collapse). So a preference run has its own settings in
`[train]`, used instead of SFT's:

- `pref_learning_rate` 2e-5: DPO wants a learning rate one to two orders of
  magnitude below SFT's (TRL's DPOConfig defaults to 1e-6 for full weights;
  an adapter takes more); measured on the demo (docs/preferences.md).
- `sft_weight` 1.0: the chosen answer's NLL added to the loss (RPO, Pang et
  al. 2024; TRL's `rpo_alpha = 1.0`), which keeps its likelihood up.
- `pref_epochs` 2: the length in passes over the pairs, not in SFT's
  iterations (20 steps of 4 pairs over 13 pairs is six epochs).

A flag given on the command line for one run (`--learning-rate`, `--iters`,
`--epochs`) wins over these, so a user who knows what they do can still say so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from distill_tui.core import config as cfg

PREFERENCE = ("dpo", "kto")
# A preference run evaluates at least this many times (the start, then
# evenly), so the collapse guard and the task-scored best can act in a short run.
MIN_EVALS = 4


def is_preference(objective: str) -> bool:
    return objective in PREFERENCE


# On-policy distillation (engine/train/onpolicy.py): the student's own samples
# scored by a local teacher; it trains with SFT's settings.
ONPOLICY = "onpolicy"


def reads_sft_split(objective: str) -> bool:
    """SFT and on-policy runs read data/ (on-policy: the accepted rows'
    inputs); DPO and KTO read data/pref/."""
    return objective in ("sft", ONPOLICY)


def pref_iters(epochs: float, rows: int, batch_size: int) -> int:
    """Steps for `epochs` passes over `rows` pairs (or KTO rows)."""
    return max(1, math.ceil(epochs * max(rows, 1) / max(batch_size, 1)))


def effective(train: cfg.Train, rows: int, explicit: Iterable[str] = ()) -> cfg.Train:
    """The settings a run of `train.objective` really uses: SFT's unchanged;
    a preference run's learning rate from `pref_learning_rate`, its length
    from `pref_epochs` over `rows`, and an evaluation cadence that gives at
    least MIN_EVALS evaluations - except where `explicit` names a field the
    user set for this run (a command-line flag)."""
    if not is_preference(train.objective):
        return train
    given = set(explicit)
    update: dict[str, float | int] = {}
    if "learning_rate" not in given:
        update["learning_rate"] = train.pref_learning_rate
    if "iters" not in given:
        update["iters"] = pref_iters(train.pref_epochs, rows, train.batch_size)
    iters = int(update.get("iters", train.iters))
    if "steps_per_eval" not in given:
        update["steps_per_eval"] = max(1, min(train.steps_per_eval, -(-iters // MIN_EVALS)))
    every = int(update.get("steps_per_eval", train.steps_per_eval))
    if "steps_per_report" not in given:
        update["steps_per_report"] = max(1, min(train.steps_per_report, every))
    return train.replace(**update)


def differs(train: cfg.Train) -> list[str]:
    """What a preference run of these settings uses instead of SFT's, short
    enough for one line at 80 columns (the Train form's hint)."""
    return [
        f"LR {train.pref_learning_rate:g} (SFT {train.learning_rate:g})",
        f"{train.pref_epochs:g} epochs of pairs (SFT {train.iters} iters)",
        f"SFT term {train.sft_weight:g}",
    ]


# Fewer held-out pairs than this and a pair accuracy means nothing (one pair
# reads 0 or 1; ten give a 95% interval about 0.5 wide): the count is said
# instead. The held-out pairs are those whose input is in the SFT split's
# valid or test side (leak-free); `distill-tui pairs` adds the student's
# mistakes on those inputs to them.
MIN_PAIRS = 10


def pair_accuracy_text(accuracy: float | None, pairs: int | None) -> str:
    """'pairs 1: too few to measure', or the accuracy with its 95% interval
    (Wilson) when there are enough pairs for it to mean something."""
    from distill_tui.core.train.collapse import wilson

    n = pairs or 0
    if n < MIN_PAIRS or accuracy is None or math.isnan(accuracy):
        return f"pairs {n}: too few pairs to measure (fewer than {MIN_PAIRS})"
    lo, hi = wilson(round(accuracy * n), n)
    return f"pairs {n}: accuracy {accuracy:.2f} [{lo:.2f}, {hi:.2f}]"


def evaluation_parts(
    *,
    task_score: float | None,
    start_score: float | None,
    pair_accuracy: float | None,
    pairs: int | None,
    reward_margin: float | None,
    chosen_drift: float | None,
    metric: str = "",
    rows: str = "",
) -> list[str]:
    """A preference run's evaluation in words, the task first (`metric` and
    `rows` say more of it where there is room): what `train` prints and the
    Train monitor shows."""
    parts = []
    if task_score is not None:
        start = f" (start {start_score:.3f})" if start_score is not None else ""
        name = f" {metric}" if metric else ""
        parts.append(f"task{name} {task_score:.3f}{start}{rows}")
    if pairs is not None:  # None: an on-policy run, which has no pairs
        parts.append(pair_accuracy_text(pair_accuracy, pairs))
    if pairs:
        parts.append(f"margin {reward_margin or 0:+.2f}")
    if chosen_drift is not None:
        parts.append(f"chosen {chosen_drift:+.2f} nats/token vs start")
    return parts
