"""The one number that says whether an answer is right for this task, used
where a single score must decide: the best checkpoint of a preference run and
which of the student's answers are mistakes worth a pair.

- JSON tasks: the share of the reference's fields the answer reproduces.
- Label tasks (the references take at most `MAX_LABELS` distinct values, as
  the demo's billing/bug/feature/account): exact match.
- Free text: token F1, and an answer is wrong below `WRONG_F1` (free text is
  better judged by the teacher, which `pairs` asks where it may).

`verdict_metric` is the metric a run is judged against its parent by (the
flips and the verdict): a row is right when its score on it is full.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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


def verdict_metric(output_format: str) -> str:
    """Which metric decides whether a row is right when a run meets its parent.

    - JSON tasks: json_fields, every field of the reference reproduced. Exact
      match would call an answer with the right fields in another key order
      or spacing wrong, and hide a run that broke fields behind a parent that
      was never "exact".
    - Label tasks: exact match (the task metric).
    - Free text: exact match, not the task metric. Token F1 >= `WRONG_F1` is
      a loose line drawn to pick the student's mistakes for pairs; a row that
      crosses it both ways by a word is noise, not a fix. The judge would be
      the right measure, but it grades only the adapter's answers, never the
      parent's, so it gives no paired comparison to test.
    """
    return metrics.JSON_FIELDS if output_format == "json" else metrics.EXACT


def row_right(scores: Mapping[str, float], metric: str) -> bool:
    """A scored row is right on `metric`: F1 at `WRONG_F1` or more, any other
    metric full."""
    value = scores.get(metric, 0.0)
    if metric == metrics.F1:
        return value >= WRONG_F1
    return value >= 1.0


def is_right(prediction: str, reference: str, output_format: str, metric: str) -> bool:
    return row_right(metrics.score(prediction, reference, output_format), metric)
