"""Reading loss histories the way the guide asks a user to read them by eye.

`warning_signs` turns train and validation loss histories into the guide's
warning signs, in words: overfitting (validation rising while training
falls), a loss that is not decreasing (learning rate too low or a data
problem), and a loss that oscillates, spikes or becomes NaN (learning rate too
high). `EarlyStopper` decides when to stop and which evaluation is the best.
Pure Python, so the trainer, the Train screen and the tests share it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# (iteration, loss) pairs, oldest first.
History = Sequence[tuple[int, float]]


@dataclass(frozen=True)
class Sign:
    kind: str  # "nan", "spike", "oscillating", "not_decreasing", "overfitting"
    iter: int
    message: str


def _finite(history: History) -> list[tuple[int, float]]:
    return [(i, v) for i, v in history if math.isfinite(v)]


def _nan_sign(name: str, history: History) -> Sign | None:
    for it, v in history:
        if not math.isfinite(v):
            return Sign(
                "nan",
                it,
                f"{name} loss became {v} at iteration {it}: the learning rate is "
                "probably too high; lower it (try 3-10x smaller) and start again",
            )
    return None


def _spike(train: list[tuple[int, float]]) -> Sign | None:
    """A report far above the level of the reports just before it."""
    for k in range(3, len(train)):
        window = sorted(v for _, v in train[max(0, k - 5) : k])
        median = window[len(window) // 2]
        it, v = train[k]
        if median > 0 and v > 1.5 * median and v - median > 0.3:
            return Sign(
                "spike",
                it,
                f"training loss spiked to {v:.3f} at iteration {it} (from about "
                f"{median:.3f}): the learning rate may be too high",
            )
    return None


def _oscillating(train: list[tuple[int, float]], window: int = 8) -> Sign | None:
    """Many direction changes with steps large against the loss level."""
    if len(train) < window:
        return None
    recent = [v for _, v in train[-window:]]
    diffs = [b - a for a, b in zip(recent, recent[1:], strict=False)]
    flips = sum(1 for a, b in zip(diffs, diffs[1:], strict=False) if a * b < 0)
    level = sum(recent) / len(recent)
    swing = sum(abs(d) for d in diffs) / len(diffs)
    net = abs(recent[-1] - recent[0])
    if flips >= window - 3 and level > 0 and swing > 0.1 * level and swing > 2 * net / window:
        return Sign(
            "oscillating",
            train[-1][0],
            f"training loss is oscillating (swings of about {swing:.3f} around "
            f"{level:.3f}): the learning rate may be too high",
        )
    return None


def _not_decreasing(train: list[tuple[int, float]], min_reports: int = 6) -> Sign | None:
    if len(train) < min_reports:
        return None
    third = max(2, len(train) // 3)
    first = sum(v for _, v in train[:third]) / third
    last = sum(v for _, v in train[-third:]) / third
    if last >= first * 0.98:
        return Sign(
            "not_decreasing",
            train[-1][0],
            f"training loss is not decreasing ({first:.3f} -> {last:.3f}): the "
            "learning rate may be too low, or the data has a problem (check the "
            "completions and the prompt masking)",
        )
    return None


def _overfitting(
    train: list[tuple[int, float]], val: list[tuple[int, float]], rises: int = 2
) -> Sign | None:
    """Validation rose at least `rises` evaluations in a row above its best
    while training loss kept falling over the same stretch."""
    if len(val) < rises + 1:
        return None
    best_k = min(range(len(val)), key=lambda k: val[k][1])
    tail = val[best_k:]
    if len(tail) < rises + 1:
        return None
    if not all(b[1] > a[1] for a, b in zip(tail[-rises - 1 :], tail[-rises:], strict=False)):
        return None
    start_it = val[best_k][0]
    before = [v for i, v in train if i <= start_it]
    after = [v for i, v in train if i > start_it]
    if not before or not after:
        return None
    if min(after) >= before[-1] and after[-1] >= before[-1]:
        return None
    best_it, best_v = val[best_k]
    last_it, last_v = val[-1]
    return Sign(
        "overfitting",
        last_it,
        f"overfitting: validation loss rose from {best_v:.3f} (iteration {best_it}) to "
        f"{last_v:.3f} while training loss kept falling; the best adapter is kept, "
        "stop now or use fewer iterations / more data",
    )


def warning_signs(train: History, val: History = ()) -> list[Sign]:
    """Every warning sign visible in the histories, most serious first."""
    signs: list[Sign] = []
    for name, hist in (("training", train), ("validation", val)):
        s = _nan_sign(name, hist)
        if s:
            signs.append(s)
    t, v = _finite(train), _finite(val)
    for check in (_overfitting(t, v), _spike(t), _oscillating(t), _not_decreasing(t)):
        if check:
            signs.append(check)
    return signs


@dataclass
class EarlyStopper:
    """Stop after `patience` evaluations without a validation improvement of
    at least `min_delta`; patience 0 never stops. Its fields are plain
    numbers so a checkpoint can save and restore them."""

    patience: int = 0
    min_delta: float = 0.0
    best_loss: float | None = None
    best_iter: int | None = None
    bad_evals: int = 0

    def update(self, iteration: int, loss: float) -> tuple[bool, bool]:
        """Record one evaluation; return (improved, should_stop)."""
        improved = math.isfinite(loss) and (
            self.best_loss is None or loss < self.best_loss - self.min_delta
        )
        if improved:
            self.best_loss, self.best_iter, self.bad_evals = loss, iteration, 0
        else:
            self.bad_evals += 1
        stop = self.patience > 0 and self.bad_evals >= self.patience
        return improved, stop

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "patience": self.patience,
            "min_delta": self.min_delta,
            "best_loss": self.best_loss,
            "best_iter": self.best_iter,
            "bad_evals": self.bad_evals,
        }

    @classmethod
    def from_dict(cls, d: dict) -> EarlyStopper:
        return cls(**d)


def best_eval(val: History) -> tuple[int, float] | None:
    """The (iteration, loss) of the lowest finite validation loss."""
    finite = _finite(val)
    return min(finite, key=lambda p: p[1]) if finite else None


def chosen_falling(history: History, evals: int = 3, drop: float = 1.0) -> Sign | None:
    """The chosen answers' mean log-probability fell at each of the last
    `evals` evaluations and by more than `drop` nats in all: DPO is pushing
    both answers down, not the rejected one below the chosen (TRL's warning);
    a positive sft_weight counters it."""
    h = _finite(history)
    if len(h) <= evals:
        return None
    last = h[-evals - 1 :]
    if all(b[1] < a[1] for a, b in zip(last, last[1:], strict=False)):
        if last[0][1] - last[-1][1] > drop:
            it = last[-1][0]
            return Sign(
                "chosen_falling",
                it,
                f"the chosen answers' log-probability fell steadily to {last[-1][1]:.1f}"
                f" at iteration {it} (from {last[0][1]:.1f}): raise sft_weight or lower"
                " the learning rate",
            )
    return None
