"""A run against its parent on the same rows: which rows it fixed and which it
broke (flips), and whether the difference is beyond the noise of that many
rows (the verdict).

The parent is the base model for an SFT run and the SFT run a DPO/KTO run
started from. Both are judged on the metric `task_metric.verdict_metric`
picks: JSON fields for a JSON task, exact match otherwise. The verdict is
the exact two-sided sign test on the rows where the two differ (McNemar's
exact test: rows both got right or both got wrong say nothing about which is
better), at the 5% level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from distill_tui.core.evaluate import metrics
from distill_tui.core.evaluate.stats import sign_test

ALPHA = 0.05
BETTER, WORSE, SAME = "better", "worse", "no clear change"
VERDICTS = (BETTER, WORSE, SAME)
PARENT_NAMES = {"base": "the base model", "sft": "its SFT start"}
METRIC_NAMES = {metrics.EXACT: "exact match", metrics.JSON_FIELDS: "JSON fields"}


@dataclass(frozen=True)
class Flips:
    vs: str  # "base" | "sft"
    fixed: int  # the run right, its parent wrong
    regressed: int  # the run wrong, its parent right
    kept: int  # both right
    still_wrong: int  # both wrong

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def flips(run_right: Sequence[bool], parent_right: Sequence[bool], vs: str) -> Flips:
    pairs = list(zip(run_right, parent_right, strict=True))
    return Flips(
        vs,
        fixed=sum(1 for r, p in pairs if r and not p),
        regressed=sum(1 for r, p in pairs if p and not r),
        kept=sum(1 for r, p in pairs if r and p),
        still_wrong=sum(1 for r, p in pairs if not r and not p),
    )


@dataclass(frozen=True)
class Verdict:
    verdict: str  # BETTER | WORSE | SAME
    vs: str  # "base" | "sft"
    fixed: int
    regressed: int
    rows: int
    p: float  # the sign test's two-sided p-value
    run_score: float  # the metric's mean for the run and its parent on these rows
    parent_score: float
    metric: str = metrics.EXACT  # verdicts stored before it was named: exact match

    @property
    def net(self) -> int:
        return self.fixed - self.regressed

    def line(self) -> str:
        """One line for the evaluation view, the commands and the model card:
        "better than its SFT start: +6 rows of 32, beyond noise"."""
        parent = PARENT_NAMES.get(self.vs, self.vs)
        rows = "row" if abs(self.net) == 1 else "rows"
        figures = (
            f"{self.net:+d} {rows} of {self.rows} (fixed {self.fixed}, broke {self.regressed}; "
            f"{METRIC_NAMES.get(self.metric, self.metric)} {self.run_score:.3f}"
            f" vs {self.parent_score:.3f})"
        )
        if self.verdict == SAME:
            return f"no clear change from {parent}: {figures}, within noise (p={self.p:.2f})"
        p = "p<0.001" if self.p < 0.001 else f"p={self.p:.3f}"
        return f"{self.verdict} than {parent}: {figures}, beyond noise ({p})"

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"line": self.line()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def verdict(
    run: Sequence[float], parent: Sequence[float], vs: str, metric: str = metrics.EXACT
) -> Verdict:
    """Per-row scores of the run and its parent on `metric` (exact match or
    JSON fields), same rows; a row is right when its score is full (1.0)."""
    f = flips([r >= 1.0 for r in run], [p >= 1.0 for p in parent], vs)
    p = sign_test(f.fixed, f.regressed)
    found = SAME
    if p < ALPHA:
        found = BETTER if f.fixed > f.regressed else WORSE
    n = len(run)
    return Verdict(
        found,
        vs,
        f.fixed,
        f.regressed,
        n,
        p,
        sum(run) / n if n else 0.0,
        sum(parent) / n if n else 0.0,
        metric,
    )
