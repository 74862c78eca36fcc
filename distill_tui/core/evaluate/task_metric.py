"""The one number that says whether an answer is right for this task, used
where a single score must decide: the best checkpoint of a preference run and
which of the student's answers are mistakes worth a pair.

- JSON tasks: the share of the reference's fields the answer reproduces.
- Label tasks (the references take at most `MAX_LABELS` distinct values, as
  the demo's billing/bug/feature/account): exact match.
- Free text: token F1, and an answer is wrong below `WRONG_F1` (free text is
  better judged by the teacher, which `pairs` asks where it may).
"""

from __future__ import annotations

from collections.abc import Iterable

from distill_tui.core.evaluate import metrics

MAX_LABELS = 20
WRONG_F1 = 0.5


def is_label_task(references: Iterable[str]) -> bool:
    refs = [metrics.normalize(r) for r in references]
    return bool(refs) and len(set(refs)) <= MAX_LABELS and len(set(refs)) < len(refs)


def task_metric(output_format: str, references: Iterable[str]) -> str:
    if output_format == "json":
        return metrics.JSON_FIELDS
    return metrics.EXACT if is_label_task(references) else metrics.F1


def is_right(prediction: str, reference: str, output_format: str, metric: str) -> bool:
    value = metrics.score(prediction, reference, output_format)[metric]
    if metric == metrics.F1:
        return value >= WRONG_F1
    return value >= 1.0
