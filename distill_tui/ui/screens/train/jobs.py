"""The Train screen's workers and what they post: a training run (after a
preflight that refuses settings that would fail at start, and an export
first when the user chose it over a stale data/) and a preflight on its own,
both on the MLX thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from distill_tui.core import config as cfg
from distill_tui.core.curate.preferences import export_for_run
from distill_tui.core.dataset.export_stale import StaleExport
from distill_tui.core.errors import NoSpace, UserError
from distill_tui.core.project import Workspace
from distill_tui.core.train import runs as runs_db
from distill_tui.core.train.preflight import Preflight
from distill_tui.engine.mlx_thread import MLXThread
from distill_tui.ui.widgets.confirm import ConfirmDialog

if TYPE_CHECKING:
    from distill_tui.ui.app import DistillApp

EXPORT_FIRST, OLD_EXPORT = "export", "old"


@dataclass
class TrainingStarted(Message):
    run_id: str
    start_iter: int


@dataclass
class TrainingReported(Message):
    run_id: str
    iter: int


@dataclass
class TrainingPhase(Message):
    """What the run does now: loading, the reference pass, evaluating, training."""

    run_id: str
    phase: str


@dataclass
class TrainingFinished(Message):
    run_id: str
    status: str
    iter: int
    note: str | None = None  # a collapse, or a best checkpoint below the SFT start


@dataclass
class PairsMined(Message):
    """The student's mistakes were turned into pairs and data/pref/ written."""

    text: str


@dataclass
class PairsFailed(Message):
    error: str


@dataclass
class TrainingFailed(Message):
    error: str
    run_id: str | None = None  # the run marked failed; None: refused before one was made
    next_step: str = "fix it on Setup (ctrl+w), then ctrl+r"  # said when refused


@dataclass
class PreflightFinished(Message):
    result: Preflight | None
    error: str = ""


def preflight_text(pf: Preflight) -> Text:
    text = Text()
    text.append(
        f"Preflight: {pf.rows} train / {pf.valid_rows} valid rows, longest "
        f"{pf.longest} tokens; peak memory about {pf.estimate_gb:.2f} GB of "
        f"{pf.machine_gb:.0f} GB\n"
    )
    for e in pf.errors:
        text.append(f"✗ {e}\n", style="bold")
    for p in pf.problems:
        text.append(f"! {p}\n")
    for s in pf.suggestions:
        text.append(f"  try: {s}\n")
    if pf.errors:
        text.append("ctrl+r will not start until these are fixed.")
    elif not pf.problems:
        text.append("No problems found.")
    return text


def pair_counts_text(ws: Workspace, train: cfg.Train) -> Text:
    """What a dpo/kto run would train on: the pairs curation holds, by source,
    and what the last `export --preferences` wrote."""
    import json

    from distill_tui.core import paths
    from distill_tui.core.curate import preferences
    from distill_tui.core.train import objectives
    from distill_tui.engine.train.runplan import pref_rows

    c = preferences.counts(ws.store)
    text = Text(
        f"{train.objective}: curation holds {sum(c[k] for k in preferences.SOURCES)} pairs"
        f" ({preferences.sources_text(c)}) and {c['desirable']} accepted /"
        f" {c['undesirable']} rejected answers\n"
    )
    try:
        m = json.loads((paths.pref_dir(ws.root) / "pref.json").read_text(encoding="utf-8"))
        n = m["counts"]
    except (OSError, ValueError, KeyError, TypeError):
        text.append("✗ not exported yet: x on the Curate screen, Preferences", style="bold")
        return text
    if train.objective == "dpo":
        text.append(f"data/pref/: {n['train']} training pairs, {n['valid']} validation pairs\n")
    else:
        text.append(f"data/pref/: {n['kto_train']} labelled rows, {n['valid']} validation pairs\n")
    t = objectives.effective(train, pref_rows(paths.pref_dir(ws.root), train.objective))
    text.append(
        f"runs {t.iters} steps at learning rate {t.pref_learning_rate:g} (Pref LR), SFT term"
        f" {t.sft_weight:g}, collapse guard {'on' if t.stop_on_collapse else 'off'}\n"
    )
    text.append(
        "ctrl+y: the SFT student's own mistakes as pairs; ctrl+r starts from the newest"
        " finished SFT run's adapter"
    )
    return text


def stale_export_dialog(stale: StaleExport) -> ConfirmDialog:
    """Asked on ctrl+r when data/ (or data/pref/) is older than the store."""
    where = "data/pref/" if stale.pairs else "data/"
    how = "X on the Curate screen exports them" if stale.pairs else "x on the Curate screen"
    return ConfirmDialog(
        f"{stale.message(how if stale.pairs else how + ' exports them')}. Train on which data?",
        {
            "e": (EXPORT_FIRST, "export first, then train"),
            "o": (OLD_EXPORT, f"train on the old export in {where}"),
        },
        cancel="do not train",
    )


class TrainRunner(Widget):
    """The Train screen's jobs as a component that draws nothing: a training
    run and a preflight in thread workers on the MLX thread, reported by the
    messages above (they bubble to the screen). It owns the stop event that
    ctrl+x, ctrl+q and SIGTERM set."""

    DEFAULT_CSS = "TrainRunner { display: none; }"

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self._ws = ws
        self.stop_event = threading.Event()

    def start(self, train: cfg.Train | None, resume: str | None, export_first: bool) -> None:
        """A new run with `train` (after a preflight), or `resume` a run."""
        self.stop_event.clear()
        self._train(train, resume, export_first)

    def stop(self) -> None:
        self.stop_event.set()

    @work(thread=True, group="training", exclusive=True, exit_on_error=False, name="Training")
    def _train(self, train: cfg.Train | None, resume: str | None, export_first: bool) -> None:
        from distill_tui.engine.train import trainer as tr
        from distill_tui.engine.train.measure import preflight

        def listener(e: object) -> None:
            if isinstance(e, tr.RunStarted):
                self.post_message(TrainingStarted(e.run_id, e.start_iter))
            elif isinstance(e, tr.PhaseReported):
                self.post_message(TrainingPhase(e.run_id, e.phase))
            elif isinstance(
                e, tr.TrainReported | tr.ValReported | tr.PrefReported | tr.OnPolicyReported
            ):
                self.post_message(TrainingReported(e.run_id, e.iter))

        ws, mlx = self._ws, self._mlx()
        before = runs_db.latest_run(ws.store)
        try:
            if export_first:
                objective = train.objective if train is not None else "sft"
                export_for_run(ws.root, ws.store, ws.settings, objective)
            if train is not None and train.objective == "sft":
                # A new SFT run: refuse what would fail at start (it measures data/).
                pf = preflight(ws, train, thread=mlx)
                self.post_message(PreflightFinished(pf))
                if pf.errors:
                    self.post_message(TrainingFailed("; ".join(pf.errors)))
                    return
                if self.stop_event.is_set():  # ctrl+x while the preflight measured
                    self.post_message(TrainingFailed("stopped before it started"))
                    return
            done = tr.train_run(
                ws, train, resume=resume, stop=self.stop_event, listener=listener, thread=mlx
            )
        except BaseException as e:
            reason = str(e) if isinstance(e, UserError) else f"{type(e).__name__}: {e}"
            run = self._failed_run(before, resume)
            if isinstance(e, NoSpace):
                self.post_message(TrainingFailed(reason, run, "free disk space, then ctrl+r"))
            else:
                self.post_message(TrainingFailed(reason, run))
            if not isinstance(e, UserError):
                raise
            return
        self.post_message(TrainingFinished(done.run_id, done.status, done.iter, done.note))

    @work(thread=True, group="pairs", exclusive=True, exit_on_error=False, name="Pairs")
    def mine_pairs(self) -> None:
        """ctrl+y: the newest SFT run's student answers the split; its wrong
        answers become pairs (`distill-tui pairs`, the same engine call)."""
        from distill_tui.engine.chat.session import ModelHost
        from distill_tui.engine.train.student_pairs import mine_and_export

        try:
            found, exported = mine_and_export(
                self._ws, host=ModelHost(self._mlx()), stop=self.stop_event
            )
        except UserError as e:
            self.post_message(PairsFailed(str(e)))
            return
        self.post_message(PairsMined(f"run {found.run_id}: {found.text()}; {exported}"))

    def _mlx(self) -> MLXThread:
        return cast("DistillApp", self.app).mlx

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker messages do not bubble: a bug in a job is reported here.
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            cast("DistillApp", self.app).report_error(event.worker.error, event.worker.name)

    def _failed_run(self, before: runs_db.Run | None, resume: str | None) -> str | None:
        """The run a failure was recorded on: a new one, or the resumed one."""
        latest = runs_db.latest_run(self._ws.store)
        if latest is not None and (before is None or latest.id != before.id):
            return latest.id
        run = runs_db.get_run(self._ws.store, resume) if resume else None
        return run.id if run is not None and run.status == "failed" else None

    @work(
        thread=True, group="train-preflight", exclusive=True, exit_on_error=False, name="Preflight"
    )
    def preflight(self, train: cfg.Train) -> None:
        from distill_tui.engine.train.measure import preflight

        try:
            self.post_message(PreflightFinished(preflight(self._ws, train, thread=self._mlx())))
        except UserError as e:
            self.post_message(PreflightFinished(None, str(e)))
        except Exception as e:
            self.post_message(PreflightFinished(None, f"{type(e).__name__}: {e}"))
            raise
