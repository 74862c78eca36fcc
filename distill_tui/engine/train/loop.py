"""The part of a training run that runs on the MLX thread: load the student
and the split with mlx-lm's own code, set up LoRA / DoRA / full fine-tuning
as `mlx_lm.lora` does, restore a checkpoint, and call mlx-lm's `train()` with
our batches and callback."""

from __future__ import annotations

import json
import math
import threading
import time
import types
from contextlib import contextmanager
from typing import Any, cast

from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.train import losscurve
from distill_tui.core.train import runs as runs_db
from distill_tui.core.train.checkpoints import BEST_DIR
from distill_tui.core.train.preflight import nothing_to_train, trained_tokens
from distill_tui.engine.train import batches
from distill_tui.engine.train import checkpoint as ckpt
from distill_tui.engine.train.events import (
    Listener,
    PhaseReported,
    RunFinished,
    RunStarted,
    TrainReported,
    ValReported,
)
from distill_tui.engine.train.runplan import RunPlan, write_lora_yaml


class _QuietUI:
    """Stands in for mlx-lm's rich TrainUI: our listener reports instead."""

    def __init__(self, *_a: Any, **_k: Any) -> None:
        pass

    def __enter__(self) -> _QuietUI:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def advance(self) -> None:
        pass

    def report_train(self, *a: Any) -> None:
        pass

    def report_val(self, *a: Any) -> None:
        pass

    def report_save(self, *a: Any) -> None:
        pass

    @contextmanager
    def val_task(self, total: int) -> Any:
        yield lambda: None


_ui_lock = threading.Lock()


@contextmanager
def _quiet_mlx_lm() -> Any:
    from mlx_lm.tuner import trainer as mt

    with _ui_lock:
        saved = getattr(mt, "TrainUI", None)
        if saved is None:
            yield
            return
        setattr(mt, "TrainUI", _QuietUI)  # noqa: B010 - a class attribute mypy calls a type
        try:
            yield
        finally:
            setattr(mt, "TrainUI", saved)  # noqa: B010


def _setup_model(model: Any, plan: RunPlan) -> None:
    from mlx_lm.tuner.utils import linear_to_lora_layers

    t = plan.train
    model.freeze()
    n_layers = len(model.layers)
    if t.num_layers > n_layers:
        raise UserError(
            f"num_layers {t.num_layers} is more than the student's {n_layers} layers "
            "(use -1 for all)"
        )
    if t.fine_tune_type == "full":
        for layer in model.layers[-max(t.num_layers, 0) :]:
            layer.unfreeze()
    else:
        linear_to_lora_layers(
            model,
            t.num_layers,
            {"rank": t.lora_rank, "scale": t.lora_scale, "dropout": t.lora_dropout},
            use_dora=t.fine_tune_type == "dora",
        )


class _Session:
    """State shared by the batch iterator and the callback during one call."""

    def __init__(self, ws: Workspace, plan: RunPlan, stop: threading.Event, emit: Listener):
        self.ws, self.plan, self.stop, self.emit = ws, plan, stop, emit
        self.start = 0
        self.consumed = 0  # training batches handed to train(), all time
        self.trained_tokens_before = 0
        self.elapsed_before = 0.0
        self.t0 = time.perf_counter()
        self.stopper = losscurve.EarlyStopper(plan.train.early_stopping_patience)
        self.early_stopped = False
        # A preference run's guard sets this to its one-line reason and stops.
        self.collapsed: str | None = None
        self.train_hist: list[tuple[int, float]] = []
        self.val_hist: list[tuple[int, float]] = []
        self.last_tokens = 0
        self.rows: set[int] = set()
        self.model: Any = None
        self.optimizer: Any = None
        self.valid_set: Any = None
        self.reporter: Any = None

    def validation_due(self, done: int) -> bool:
        """The schedule of an uninterrupted mlx-lm run, in steps done: before
        the first step, after every steps_per_eval-th step counted from 1
        (mlx-lm validates at iteration 1, E, 2E... before stepping), and before
        the last step. It depends on the run's position only, so a resumed
        run validates where the uninterrupted one would have. Each is
        labelled as `mlx_lm.lora` prints it, done + 1: 1, 10, 20... for E = 10
        (its callback gets done, which no user sees)."""
        t = self.plan.train
        if self.valid_set is None:
            return False
        return done == 0 or (done + 1) % t.steps_per_eval == 0 or done == t.iters - 1

    def validate(self, done: int) -> None:
        from mlx_lm.tuner import trainer as mt

        t = self.plan.train
        tic = time.perf_counter()
        loss = mt.evaluate(
            model=self.model,
            dataset=self.valid_set,
            batch_size=t.batch_size,
            num_batches=t.val_batches,
            max_seq_length=t.max_seq_length,
            iterate_batches=self.iterate_batches,
        )
        self.model.train()
        self.reporter.on_val_loss_report(
            {
                "iteration": done + 1 - self.start,
                "val_loss": loss,
                "val_time": time.perf_counter() - tic,
            }
        )

    def judge_validation(self, it: int, loss: float) -> tuple[bool, bool]:
        """(improved, stop) for a validation loss: SFT's best follows it; a
        preference run's follows the task (pref_loop)."""
        return self.stopper.update(it, loss)

    def best_record(self, it: int, loss: float) -> dict[str, Any]:
        """What best/best.json says of the best checkpoint."""
        return {"iter": it, "val_loss": loss}

    def finish(self, status: str) -> str:
        """Called after train() returns; a preference run restores the
        checkpoint before a collapse here. Returns the final status."""
        return status

    @property
    def writer(self) -> bool:
        return self.plan.rank == 0

    def elapsed(self) -> float:
        return self.elapsed_before + time.perf_counter() - self.t0

    def state(self) -> dict[str, Any]:
        return {
            "batches_consumed": self.consumed,
            "order_seed": self.plan.train.seed,
            "trained_tokens": self.trained_tokens_before + self.last_tokens,
            "elapsed_s": self.elapsed(),
            "stopper": self.stopper.to_dict(),
            "early_stopped": self.early_stopped,
        }

    def checkpoint(self, step: int) -> None:
        if self.writer:
            ckpt.save_checkpoint(self.plan.run_dir, step, self.model, self.optimizer, self.state())
            ckpt.save_adapter(self.model, self.plan.run_dir, self.plan.adapter_config)
            ckpt.save_iteration_adapter(self.model, self.plan.run_dir, step)

    def restore_state(self, state: dict[str, Any]) -> None:
        """On resume: what a subclass kept in `state()` besides the stopper."""

    def restore_history(self) -> None:
        """On resume: the histories the warning signs read, from the store."""
        self.train_hist = runs_db.history(self.ws.store, self.plan.run_id, "train")
        self.val_hist = runs_db.history(self.ws.store, self.plan.run_id, "val")

    def batches(self, dataset: Any, batch_size: int, max_seq_length: int, **kw: Any) -> Any:
        """The deterministic batches; a preference run makes its own."""
        return batches.iterate(dataset, batch_size, max_seq_length, **kw)

    # -- the iterate_batches train() and evaluate() call ---------------------
    def iterate_batches(
        self,
        dataset: Any,
        batch_size: int,
        max_seq_length: int,
        loop: bool = False,
        seed: int | None = None,
        comm_group: Any = None,
    ) -> Any:
        rank, size = (comm_group.rank(), comm_group.size()) if comm_group else (0, 1)
        common: dict[str, Any] = dict(seed=self.plan.train.seed, rank=rank, size=size)
        if not loop:
            # Evaluation: the same batches every time, so val losses compare.
            yield from self.batches(dataset, batch_size, max_seq_length, loop=False, **common)
            return
        every = self.plan.checkpoint_every
        for batch in self.batches(
            dataset,
            batch_size,
            max_seq_length,
            loop=True,
            start=self.consumed,
            on_rows=lambda _pos, rows: self.rows.update(rows),
            by_length=self.plan.train.group_by_length,
            **common,
        ):
            if self.consumed > self.start and self.consumed % every == 0:
                self.checkpoint(self.consumed)
            if self.stop.is_set() or self.early_stopped or self.collapsed:
                return  # train() then saves the adapter and returns
            # Validation is ours, not train()'s: train() counts its schedule
            # from where this call started, which moved it on every resume.
            if self.validation_due(self.consumed):
                phase(self.emit, self.plan, "evaluating")
                self.validate(self.consumed)
                if self.early_stopped or self.collapsed:
                    return
                phase(self.emit, self.plan, "training")
            # train() steps on each batch before asking for the next, so every
            # batch counted here has been trained on by the time we look again.
            self.consumed += 1
            yield batch


def phase(emit: Listener, plan: RunPlan, text: str) -> None:
    """Say what the run does now (rank 0 only: one line, not one a process)."""
    if plan.rank == 0:
        emit(PhaseReported(plan.run_id, text))


def _callback(s: _Session) -> Any:
    from mlx_lm.tuner.callbacks import TrainingCallback

    class Reporter(TrainingCallback):
        def on_train_loss_report(self, info: dict) -> None:
            it = s.start + int(info["iteration"])
            loss = float(info["train_loss"])
            s.last_tokens = int(info["trained_tokens"])
            tokens = s.trained_tokens_before + s.last_tokens
            s.train_hist.append((it, loss))
            ips = float(info["iterations_per_second"])
            total = s.plan.train.iters
            m = runs_db.Metric(
                "train",
                it,
                loss if math.isfinite(loss) else None,
                float(info["learning_rate"]),
                ips,
                float(info["tokens_per_second"]),
                tokens,
                float(info["peak_memory"]),
            )
            if s.writer:
                runs_db.record_metric(s.ws.store, s.plan.run_id, m)
            s.emit(
                TrainReported(
                    s.plan.run_id,
                    it,
                    total,
                    loss,
                    m.learning_rate or 0.0,
                    ips,
                    m.tokens_per_sec or 0.0,
                    tokens,
                    m.peak_memory_gb or 0.0,
                    s.elapsed(),
                    (total - it) / ips if ips > 0 else None,
                    tuple(losscurve.warning_signs(s.train_hist, s.val_hist)),
                )
            )

        def on_val_loss_report(self, info: dict) -> None:
            it = s.start + int(info["iteration"])
            loss = float(info["val_loss"])
            s.val_hist.append((it, loss))
            improved, stop = s.judge_validation(it, loss)
            if stop:
                s.early_stopped = True
            if s.writer:
                runs_db.record_metric(
                    s.ws.store,
                    s.plan.run_id,
                    runs_db.Metric("val", it, loss if math.isfinite(loss) else None),
                )
                if improved:
                    best = s.plan.run_dir / BEST_DIR
                    ckpt.save_adapter(s.model, best, s.plan.adapter_config)
                    (best / "best.json").write_text(json.dumps(s.best_record(it, loss)) + "\n")
                    runs_db.update_run(s.ws.store, s.plan.run_id, best_iter=it, best_val_loss=loss)
            s.emit(
                ValReported(
                    s.plan.run_id,
                    it,
                    loss,
                    s.stopper.best_iter,
                    s.stopper.best_loss,
                    improved,
                    tuple(losscurve.warning_signs(s.train_hist, s.val_hist)),
                )
            )

    return Reporter()


def _refuse_nothing_to_train(dataset: Any, max_seq_length: int) -> None:
    """Stop before step 1 when truncation leaves no row a completion token:
    mlx-lm would train on 0 tokens and report a NaN loss. Stops at the first
    row that trains, so a normal split costs one row's look."""
    offsets = []
    for i in range(len(dataset)):
        tokens, offset = dataset[i]
        if trained_tokens(len(tokens), offset, max_seq_length):
            return
        offsets.append(offset)
    raise UserError(nothing_to_train(max_seq_length, min(offsets, default=0)))


def load_student(plan: RunPlan) -> tuple[Any, Any]:
    """(model, tokenizer) with mlx-lm's own loader; a GGUF student loads from
    its converted folder, which the run's lora.yaml then names."""
    from mlx_lm.utils import load

    from distill_tui.engine.models.gguf import mlx_path

    source = mlx_path(plan.model)  # a .gguf file: its converted folder
    if source != plan.model and plan.rank == 0:
        write_lora_yaml(plan, model=source)
    try:
        return cast("tuple[Any, Any]", load(source))
    except Exception as e:  # noqa: BLE001 - a missing model or a bad folder
        raise UserError(f"cannot load the student {plan.model!r}: {e}") from None


def run_on_mlx(ws: Workspace, plan: RunPlan, stop: threading.Event, emit: Listener) -> RunFinished:
    import mlx.core as mx
    from mlx_lm.tuner.datasets import CacheDataset, load_local_dataset

    t = plan.train
    s = _Session(ws, plan, stop, emit)
    phase(emit, plan, "loading the student")
    model, tokenizer = load_student(plan)
    phase(emit, plan, "reading the split")
    opts = types.SimpleNamespace(mask_prompt=t.mask_prompt)
    try:
        train_set, valid_set, _ = load_local_dataset(plan.data_dir, tokenizer, opts)
    except ValueError as e:  # a corrupt line (JSONDecodeError) or an unknown row format
        raise UserError(f"cannot read the exported split in {plan.data_dir}: {e}") from None
    for name, split in (("train", train_set), ("valid", valid_set)):
        if (name == "train" or len(split)) and len(split) < t.batch_size:
            raise UserError(
                f"{plan.data_dir / (name + '.jsonl')} has {len(split)} rows, fewer than "
                f"batch size {t.batch_size}; lower the batch size or accept more rows"
            )
    train_cache = CacheDataset(train_set)  # training reuses what this tokenizes
    _refuse_nothing_to_train(train_cache, t.max_seq_length)
    mx.random.seed(t.seed)
    _setup_model(model, plan)
    s.valid_set = CacheDataset(valid_set) if len(valid_set) else None
    return train_session(s, model, train_cache)


def train_session(s: _Session, model: Any, train_set: Any, loss: Any = None) -> RunFinished:
    """From a set-up model to the end of the run, for SFT and preference runs
    alike: restore a checkpoint, call mlx-lm's `train()` with the session's
    batches and callback (and `loss`, mlx-lm's default when None), then mark
    the run finished, stopped or early-stopped."""
    import mlx.core as mx
    import mlx.optimizers as optim
    from mlx_lm.tuner import trainer as mt

    ws, plan, t = s.ws, s.plan, s.plan.train
    optimizer = optim.Adam(learning_rate=t.learning_rate)
    s.model, s.optimizer = model, optimizer
    s.reporter = _callback(s)
    if plan.resume_from is not None:
        st = ckpt.load_checkpoint(plan.resume_from, model, optimizer)
        s.start = s.consumed = int(st["iter"])
        s.trained_tokens_before = int(st.get("trained_tokens", 0))
        s.elapsed_before = float(st.get("elapsed_s", 0.0))
        s.stopper = losscurve.EarlyStopper.from_dict(st["stopper"])
        s.stopper.patience = t.early_stopping_patience
        s.restore_state(st)
        # Dropout draws from MLX's global key, which cannot be read back;
        # a fresh key per position keeps resumes reproducible.
        mx.random.seed(t.seed + s.start)
        if s.writer:
            s.restore_history()
    if s.writer:
        ckpt.save_adapter(model, plan.run_dir, plan.adapter_config)
    s.emit(RunStarted(plan.run_id, plan.run_dir, t.iters, s.start, plan.rank, plan.world_size))
    phase(s.emit, plan, "training")
    args = mt.TrainingArgs(
        batch_size=t.batch_size,
        iters=t.iters - s.start,
        val_batches=t.val_batches,
        steps_per_report=t.steps_per_report,
        steps_per_eval=t.steps_per_eval,
        steps_per_save=10**12,  # checkpoints are ours (see _Session.iterate_batches)
        max_seq_length=t.max_seq_length,
        adapter_file=str(plan.run_dir / ckpt.ADAPTER_FILE),
        grad_checkpoint=t.grad_checkpoint,
    )
    with _quiet_mlx_lm():
        mt.train(
            model=model,
            optimizer=optimizer,
            train_dataset=train_set,
            val_dataset=None,  # validated on our schedule (_Session.validate)
            args=args,
            iterate_batches=s.iterate_batches,
            training_callback=s.reporter,
            **({} if loss is None else {"loss": loss}),
        )
    stop = s.stop
    status = "stopped" if stop.is_set() else "early_stopped" if s.early_stopped else "finished"
    status = s.finish(status)
    if s.writer:
        s.checkpoint(s.consumed)
        runs_db.update_run(ws.store, plan.run_id, status=status, iter=s.consumed, error=s.collapsed)
    return RunFinished(
        plan.run_id,
        status,
        s.consumed,
        s.stopper.best_iter,
        s.stopper.best_loss,
        plan.run_dir,
        plan.rank,
        plan.world_size,
        tuple(sorted(s.rows)),
        note=s.collapsed,
    )
