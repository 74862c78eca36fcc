"""Fine-tune the student in-process with mlx-lm's own trainer.

`train_run` prepares a run folder (config, the equivalent `mlx_lm.lora` YAML,
the dataset hash), then runs `mlx_lm.tuner.trainer.train` on the MLX thread
under the "training" lease. It hands `train()` a wrapped `iterate_batches`
(deterministic order, cooperative stop, checkpoints between steps) and a
`TrainingCallback` that writes every report and evaluation to the store as it
happens and passes a past-tense event to the caller's listener (the Train
screen's worker or the headless command).

mlx-lm's own progress display (`TrainUI`, drawn by `train()` with rich since
0.32.0) is replaced by a silent one so it cannot write over a Textual screen
or interleave with the headless command's lines. `train()` has no public
switch for it (its public hooks are `training_callback` and `iterate_batches`,
which we use for everything else), so pyproject pins mlx-lm below 0.33 and a
new minor is admitted once the trainer tests pass on it. Without `TrainUI`
the swap is skipped and training still runs.

Distributed (`mlx.launch`): every rank trains on its share of each batch and
mlx-lm averages the gradients; only rank 0 writes files and the store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from distill_tui.core import config as cfg
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.train import runs as runs_db
from distill_tui.engine.mlx_thread import MLXThread, mlx_thread
from distill_tui.engine.train.events import (
    Listener,
    OnPolicyReported,
    PhaseReported,
    PrefReported,
    RunFinished,
    RunStarted,
    TrainEvent,
    TrainReported,
    ValReported,
)
from distill_tui.engine.train.runplan import RunPlan, plan_run

__all__ = [
    "Listener",
    "OnPolicyReported",
    "RunFinished",
    "RunPlan",
    "PhaseReported",
    "PrefReported",
    "RunStarted",
    "TrainEvent",
    "TrainReported",
    "ValReported",
    "plan_run",
    "train_run",
]


def train_run(
    ws: Workspace,
    train: cfg.Train | None = None,
    *,
    resume: str | None = None,
    stop: threading.Event | None = None,
    listener: Listener | None = None,
    thread: MLXThread | None = None,
    from_run: str | None = None,
    explicit: Iterable[str] = (),
) -> RunFinished:
    """Train (or resume) a run to the end, a stop, or early stopping.

    Blocks the calling thread; the work runs on the MLX thread. Raises
    `UserError` for problems the user can fix (no exported split, batch size
    larger than the data, a changed dataset on resume). With `train.objective`
    "dpo" or "kto" the run starts from the adapter of SFT run `from_run` (the
    newest finished one when None) and trains on data/pref/, with the
    preference settings (core/train/objectives.py) except the fields named in
    `explicit` (set for this run alone, as command-line flags are). With
    "onpolicy" the student learns from a local teacher's probabilities on
    its own samples of data/'s inputs (engine/train/onpolicy.py), from SFT
    run `from_run`'s adapter or, with none, a fresh one.
    """
    thread = thread or mlx_thread()
    stop = stop or threading.Event()
    emit = listener or (lambda _e: None)
    rank, size = thread.call(_world)
    plan = plan_run(
        ws, train, resume=resume, rank=rank, world_size=size, from_run=from_run, explicit=explicit
    )
    from distill_tui.engine.train.loop import run_on_mlx
    from distill_tui.engine.train.onpolicy import run_onpolicy_on_mlx
    from distill_tui.engine.train.pref_loop import run_pref_on_mlx

    entry = {"sft": run_on_mlx, "onpolicy": run_onpolicy_on_mlx}.get(
        plan.train.objective, run_pref_on_mlx
    )
    with thread.lease("training"):
        try:
            return thread.call(entry, ws, plan, stop, emit)
        except UserError as e:
            _mark_failed(ws, plan, str(e))
            raise
        except ValueError as e:
            # mlx-lm raises ValueError for data and settings problems.
            _mark_failed(ws, plan, str(e))
            raise UserError(f"training failed: {e}") from None
        except BaseException as e:
            _mark_failed(ws, plan, f"{type(e).__name__}: {e}")
            raise


def _world() -> tuple[int, int]:
    import mlx.core as mx

    g = mx.distributed.init()
    return g.rank(), g.size()


def _mark_failed(ws: Workspace, plan: RunPlan, error: str) -> None:
    if plan.rank == 0:
        runs_db.update_run(ws.store, plan.run_id, status="failed", error=error[:500])
