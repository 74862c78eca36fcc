"""The ship's check on the task, beside the probe agreement: the first N
held-out rows (the valid split, default 16) answered greedily by the shipped
model and by the run's adapter, each scored by the task's metric
(`core.evaluate.task_metric`: exact match for a label task, JSON fields for
a JSON task, token F1 for free text), so a user sees what the shipped file
scores on the task next to what they evaluated.

What answers for the shipped model: the fused MLX model for `server` and
`lmstudio` (what `mlx_lm.server` and LM Studio's MLX engine load); the GGUF
reloaded through the project's own reader for `gguf` (and `ollama` when it
writes the GGUF now). Elsewhere the probe agreement stands alone, and the
report says why. Call holding the MLX lease.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import metrics, task_metric
from distill_tui.core.project import Workspace
from distill_tui.core.ship.provenance import Provenance
from distill_tui.core.train import checkpoints
from distill_tui.core.train.checkpoints import Checkpoint
from distill_tui.engine.chat.evaluate import SplitRow, _budget, load_split
from distill_tui.engine.chat.session import ModelHost, Target
from distill_tui.engine.mlx_thread import MLXThread

DEFAULT_ROWS = 16
MAX_TOKENS = 512  # the evaluation's default cap; each row's budget follows its reference
FUSED = "the fused MLX model"
GGUF = "the GGUF, reloaded here"


@dataclass(frozen=True)
class TaskRows:
    """What the check answers: the rows, the metric, and the adapter fused
    (None when its checkpoint is no longer on disk)."""

    rows: list[SplitRow]
    output_format: str
    metric: str
    checkpoint: Checkpoint | None


@dataclass(frozen=True)
class TaskScore:
    rows: int
    metric: str
    model: str  # FUSED or GGUF
    shipped: float  # the metric's mean over the rows
    shipped_right: int
    adapter: float | None  # None: the adapter is not on disk any more
    adapter_right: int | None

    def line(self) -> str:
        """ "on the task, first 16 held-out rows by exact_match: the GGUF,
        reloaded here 0.875 (14 right), the adapter 0.938 (15 right)"."""
        out = (
            f"on the task, first {self.rows} held-out rows by {self.metric}: {self.model}"
            f" {self.shipped:.3f} ({self.shipped_right} right)"
        )
        if self.adapter is None:
            return out + "; the adapter is not on disk to compare"
        out += f", the adapter {self.adapter:.3f} ({self.adapter_right} right)"
        if self.adapter_right is not None and self.shipped_right < self.adapter_right:
            out += f": {self.adapter_right - self.shipped_right} row(s) fewer right once shipped"
        return out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def task_rows(ws: Workspace, prov: Provenance | None, n: int) -> tuple[TaskRows | None, str]:
    """The first `n` rows of the valid split and the adapter to compare, or
    (None, why not)."""
    if n <= 0:
        return None, "task check skipped (--task-rows 0)"
    try:
        split = load_split(ws, "valid")
    except UserError as e:
        return None, f"no task check: {e}"
    if not split:
        return None, "no task check: the valid split is empty"
    fmt = ws.settings.task.output_format
    metric = task_metric.task_metric(fmt, [r.reference for r in split])
    checkpoint = None
    if prov is not None and prov.run_id:
        try:
            checkpoint = checkpoints.resolve(ws, prov.run_id, prov.checkpoint)
        except UserError:
            checkpoint = None
    return TaskRows(split[:n], fmt, metric, checkpoint), ""


def _answers(host: ModelHost, target: Target, rows: list[SplitRow]) -> list[str]:
    answers: dict[int, str] = {}
    host.answer_all(
        target,
        [r.prompt for r in rows],
        [_budget(r.reference, MAX_TOKENS) for r in rows],
        lambda i, text, _why: answers.__setitem__(i, text),
    )
    return [answers.get(i, "") for i in range(len(rows))]


def _scored(task: TaskRows, answers: list[str]) -> tuple[float, int]:
    pairs = zip(answers, task.rows, strict=True)
    scores = [metrics.score(a, r.reference, task.output_format) for a, r in pairs]
    right = sum(task_metric.row_right(s, task.metric) for s in scores)
    return sum(s[task.metric] for s in scores) / len(scores), right


def score(task: TaskRows, model: str | Path, what: str, mlx: MLXThread | None = None) -> TaskScore:
    """The shipped `model` and the adapter answer the rows; both scored."""
    host = ModelHost(mlx)
    shipped, shipped_right = _scored(task, _answers(host, Target(str(model)), task.rows))
    adapter = adapter_right = None
    if task.checkpoint is not None:
        adapter, adapter_right = _scored(
            task, _answers(host, Target.of(task.checkpoint), task.rows)
        )
    return TaskScore(
        len(task.rows), task.metric, what, shipped, shipped_right, adapter, adapter_right
    )
