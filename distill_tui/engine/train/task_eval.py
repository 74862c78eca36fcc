"""The task score a training run reads at each evaluation: held-out rows of
the SFT split answered greedily together (`batch_answers`, as evaluation
answers them) and scored with the task's metric. Preference and on-policy
runs rank their checkpoints by it. Runs on the MLX thread."""

from __future__ import annotations

import threading
from typing import Any

from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace

# Held-out rows answered at each evaluation, batched: enough to see a
# collapse and rank checkpoints, few enough to cost seconds.
TASK_ROWS = 32


def held_out_rows(ws: Workspace) -> tuple[list[Any], str]:
    """(up to TASK_ROWS rows of data/valid.jsonl, the task's metric); no rows
    when there is no SFT split."""
    from distill_tui.core.evaluate.task_metric import task_metric
    from distill_tui.engine.chat.evaluate import load_split

    try:
        rows = load_split(ws, "valid")[:TASK_ROWS]
    except UserError:
        rows = []
    return rows, task_metric(ws.settings.task.output_format, [r.reference for r in rows])


def task_score(
    model: Any,
    tokenizer: Any,
    rows: list[Any],
    fmt: str,
    metric: str,
    stop: threading.Event | None = None,
) -> tuple[float | None, float | None]:
    """(task score, share of answers that did not end) on `rows`, answered
    greedily together; (None, None) without rows or when stopped first."""
    from distill_tui.core.evaluate import metrics
    from distill_tui.engine.chat.batch_answers import batch_answers
    from distill_tui.engine.chat.evaluate import _budget

    if not rows:
        return None, None
    scores: list[float] = []
    ran_on = 0

    def answered(i: int, text: str, finish: str) -> None:
        nonlocal ran_on
        scores.append(metrics.score(text, rows[i].reference, fmt)[metric])
        ran_on += finish == "length"

    model.eval()
    try:
        budgets = [_budget(r.reference, 512) for r in rows]
        batch_answers(model, tokenizer, [r.prompt for r in rows], budgets, answered, stop)
    finally:
        model.train()
    if not scores:
        return None, None
    return sum(scores) / len(scores), ran_on / len(scores)
