"""The Train screen (key 4): three views of one job, each a component.

- Setup (`setup.TrainSetup`): the `[train]` form, saved as edited, the
  preflight (on arrival, after edits and on ctrl+e; its errors stop ctrl+r
  before a run is made) and the equivalent `mlx_lm.lora` command and YAML.
- Monitor (`monitor.TrainMonitor`): the shown run's loss chart, speed,
  memory, ETA, warning signs and, for a failed run, its reason.
- Runs (`runs.RunsPanel`, ctrl+l): every run, to open in the monitor, chat
  with, or delete.

The screen keeps the keys, the switcher and the job (`jobs.TrainRunner`:
the training and preflight workers on the MLX thread). When data/ is older
than the accepted rows, ctrl+r asks: export first, train on the old export,
or not. The monitor redraws from the store, so a run started headless in
another terminal shows here the same way (and Stop sends it Ctrl-C).
"""

from __future__ import annotations

import os
import signal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import ContentSwitcher

from distill_tui.core import config as cfg
from distill_tui.core.dataset import export_stale
from distill_tui.core.train import runs as runs_db
from distill_tui.ui.screens.base import BaseScreen, SettingsReloaded
from distill_tui.ui.screens.train.form import TrainForm
from distill_tui.ui.screens.train.jobs import (
    EXPORT_FIRST,
    PairsFailed,
    PairsMined,
    PreflightFinished,
    TrainingFailed,
    TrainingFinished,
    TrainingPhase,
    TrainingReported,
    TrainingStarted,
    TrainRunner,
    stale_export_dialog,
)
from distill_tui.ui.screens.train.monitor import TrainMonitor
from distill_tui.ui.screens.train.runs import RunAction, RunDeleted, RunsPanel, RunsTable
from distill_tui.ui.screens.train.setup import TrainSetup
from distill_tui.ui.text import say

__all__ = ["TrainScreen", "TrainingFinished", "TrainingReported"]

SETUP, MONITOR, RUNS = "train-setup", "train-monitor", "train-runs"


class TrainScreen(BaseScreen):
    MODE = "train"
    # Priority: a focused text field would otherwise take ctrl+w (delete word),
    # ctrl+e (end of line) and ctrl+x (cut) for itself.
    BINDINGS = [
        Binding("ctrl+r", "start", "Train", id="train-start", priority=True),
        Binding("ctrl+x", "stop", "Stop", id="train-stop", priority=True),
        Binding("ctrl+e", "preflight", "Check", id="train-preflight", priority=True),
        Binding("ctrl+o", "resume", "Resume", id="train-resume", priority=True),
        Binding("ctrl+w", "toggle_view", "View", id="train-view", priority=True),
        Binding("ctrl+l", "runs", "Runs", id="train-runs", priority=True),
        Binding("ctrl+y", "pairs", "Pairs", id="train-pairs", priority=True),
        Binding("ctrl+s", "save", "Save settings", id="train-save", show=False, priority=True),
        # Priority, resolved as read, so keys typed after tab land in the next
        # field (ui/typeahead.py); the order follows the form's columns.
        Binding("tab", "step_field(1)", "Next field", show=False, priority=True, id="train-tab"),
        Binding(
            "shift+tab",
            "step_field(-1)",
            "Previous field",
            show=False,
            priority=True,
            id="train-backtab",
        ),
    ]
    # A run of this screen is training (or starting): ctrl+r, ctrl+o, ctrl+e wait.
    _training: reactive[bool] = reactive(False, bindings=True, init=False)

    def __init__(self) -> None:
        super().__init__()
        self._back_from_runs = SETUP

    # -- layout --------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        ws = self.ws
        with ContentSwitcher(initial=SETUP, classes="body", id="train-switch"):
            yield TrainSetup(ws, id=SETUP)
            yield TrainMonitor(ws, id=MONITOR)
            yield RunsPanel(ws, id=RUNS)
        yield TrainRunner(ws)

    @property
    def setup(self) -> TrainSetup:
        return self.query_one(TrainSetup)

    @property
    def form(self) -> TrainForm:
        return self.setup.form

    @property
    def runner(self) -> TrainRunner:
        return self.query_one(TrainRunner)

    @property
    def monitor(self) -> TrainMonitor:
        return self.query_one(TrainMonitor)

    @property
    def view(self) -> str | None:
        return self.query_one(ContentSwitcher).current

    def on_mount(self) -> None:
        self.set_interval(0.5, self._poll)

    def on_screen_resume(self) -> None:
        latest = runs_db.latest_run(self.workspace.store) if self.workspace else None
        if latest is not None and not self._training and latest.status == "running":
            # A headless run in another terminal: watch it.
            self._switch(MONITOR)
        self.setup.shown()
        self._poll()
        self.setup.auto_preflight()

    # -- views and focus -------------------------------------------------------
    def _switch(self, view: str) -> None:
        """Show a view and put the focus where it belongs there: the field
        last used on Setup (Preset at first), the table on Runs, nothing on
        the Monitor (so digits switch screens)."""
        self.query_one(ContentSwitcher).current = view
        if view == SETUP:
            self.setup.focus_field()
        elif view == RUNS:
            self.query_one(RunsPanel).refresh_runs(force=True)
            # At once, not after a refresh: a key typed right after ctrl+l is for the list.
            self.set_focus(self.query_one(RunsTable))
        else:
            self.set_focus(None)

    def action_step_field(self, step: int) -> None:
        if self.view == SETUP and self.setup.step_focus(step):
            return
        if step > 0:
            self.app.action_focus_next()
        else:
            self.app.action_focus_previous()

    def action_toggle_view(self) -> None:
        self._switch(MONITOR if self.view == SETUP else SETUP)

    def action_runs(self) -> None:
        if self.view == RUNS:
            self._switch(self._back_from_runs)
        else:
            self._back_from_runs = self.view or SETUP
            self._switch(RUNS)

    @on(RunAction)
    def _run_action(self, m: RunAction) -> None:
        """What the runs list leaves to the screen: back, or open a run."""
        if m.action == "close":
            self._switch(self._back_from_runs)
        elif m.action == "monitor" and m.run_id is not None:
            self._switch(MONITOR)
            self.monitor.open(m.run_id)

    @on(RunDeleted)
    def _run_deleted(self, m: RunDeleted) -> None:
        self.monitor.forget(m.run_id)

    # -- actions ---------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("start", "resume", "preflight", "pairs"):
            busy = self._training or self.distill_app.mlx_holder is not None
            return None if busy else True
        if action == "stop":
            return True if self._training or self._external_run() else None
        return True

    def _form_value(self, refused: str = "not started") -> cfg.Train | None:
        """The form, or None after showing Setup with the wrong field marked."""
        train = self.setup.value(refused)
        if train is None:
            self._switch(SETUP)
        return train

    def action_start(self) -> None:
        train = self._form_value()
        if train is None:
            return
        # The same check `distill-tui train` makes: data/, or data/pref/.
        stale = export_stale.compare_for(self.ws.root, self.ws.store, train.objective)
        if stale is None:
            self._begin(train, None)
            return

        def answered(answer: str | None) -> None:
            if answer is None:
                say(self, "Not started: the export is older than the store", severity="warning")
            else:
                self._begin(train, None, export_first=answer == EXPORT_FIRST)

        self.app.push_screen(stale_export_dialog(stale), answered)

    def action_resume(self) -> None:
        run_id = self.query_one(RunsPanel).selected if self.view == RUNS else None
        if run_id is None:
            latest = runs_db.latest_run(self.ws.store)
            if latest is None:
                say(self, "No run to resume yet", severity="warning")
                return
            run_id = latest.id
        self._begin(None, run_id)

    def _begin(
        self, train: cfg.Train | None, resume: str | None, export_first: bool = False
    ) -> None:
        self._training = self.monitor.starting = True
        self.monitor.refusal = self.monitor.opened = self.monitor.training = None
        self.distill_app.jobs.started("training", stop=self.runner.stop_event)
        self._switch(MONITOR)
        self.monitor.failure(None)
        # The last run's chart goes: what shows is this run's, from its first second.
        self.monitor.clear("")
        self.monitor.set_phase(
            "checking the settings and data" if train else "starting: loading the student"
        )
        self.runner.start(train, resume, export_first)

    def action_stop(self) -> None:
        if self._training:
            self.runner.stop()
            self.monitor.head("stopping after this step...")
        else:
            run = self._external_run()
            if run is not None and run.pid:
                os.kill(run.pid, signal.SIGINT)  # the headless command stops cleanly
                say(self, f"asked run {run.id} to stop")

    def action_save(self) -> None:
        train = self._form_value("not saved")
        if train is not None and self.setup.save(train, ask=True):
            say(self, "Saved [train] to distill.toml")

    def action_preflight(self) -> None:
        train = self._form_value("not checked")
        if train is not None:
            self.setup.preflight(train)

    @on(TrainSetup.PreflightWanted)
    def _measure(self, m: TrainSetup.PreflightWanted) -> None:
        self.runner.preflight(m.train)

    # -- workers ---------------------------------------------------------------
    # -- message handlers --------------------------------------------------------
    def on_training_started(self, m: TrainingStarted) -> None:
        self.monitor.training = m.run_id
        self.monitor.starting = False
        self.monitor.redraw()

    def on_training_reported(self, m: TrainingReported) -> None:
        self._poll()

    def on_training_phase(self, m: TrainingPhase) -> None:
        self.monitor.set_phase(m.phase)

    def on_training_finished(self, m: TrainingFinished) -> None:
        self._training = self.monitor.starting = False
        self.monitor.training = None
        self.monitor.set_phase(None)
        self.monitor.redraw()
        said = f"run {m.run_id} {m.status.replace('_', ' ')} at iteration {m.iter}"
        # A collapse, or a best checkpoint below the SFT start, in the same line.
        ok = m.status != "collapsed"
        self.distill_app.jobs.finished("training", ok, f"{said}: {m.note}" if m.note else said)

    # -- the student's mistakes as pairs ----------------------------------------
    def action_pairs(self) -> None:
        self._training = True  # the MLX thread is busy: ctrl+r, ctrl+o wait
        self.distill_app.jobs.started("pairs", stop=self.runner.stop_event)
        self.runner.stop_event.clear()
        say(self, "the newest SFT run's student is answering the split...", title="Pairs")
        self.runner.mine_pairs()

    def on_pairs_mined(self, m: PairsMined) -> None:
        self._training = False
        self.distill_app.jobs.finished("pairs", True, m.text)
        self.setup.auto_preflight()

    def on_pairs_failed(self, m: PairsFailed) -> None:
        self._training = False
        self.distill_app.jobs.finished("pairs", False, f"pairs: {m.error}")

    def on_training_failed(self, m: TrainingFailed) -> None:
        self._training = self.monitor.starting = False
        self.monitor.training = None
        self.monitor.set_phase(None)
        if m.run_id is not None:
            self.monitor.open(m.run_id)  # the failed run, its reason from the store
        else:
            self.monitor.refusal = m.error
            self.monitor.clear(f"Not started: {m.next_step}")
        self.monitor.failure(m.error)
        what = "training failed" if m.run_id else "training not started"
        # The trainer already says "training failed: " for mlx-lm's own errors.
        reason = m.error.removeprefix("training failed: ")
        self.distill_app.jobs.finished("training", False, f"{what}: {reason}")

    def on_preflight_finished(self, m: PreflightFinished) -> None:
        self.setup.show_preflight(m.result, m.error)

    def on_settings_reloaded(self, event: SettingsReloaded) -> None:
        # distill.toml was edited outside the app: the form shows the file, so a
        # later save cannot put the old values back.
        if any(key.startswith("train.") for key in event.changed):
            self.setup.reload()

    def _external_run(self) -> runs_db.Run | None:
        latest = runs_db.latest_run(self.workspace.store) if self.workspace else None
        if latest and latest.status == "running" and latest.pid != os.getpid():
            return latest
        return None

    def _poll(self) -> None:
        if self.workspace is None:
            return
        if self.view == RUNS:
            self.query_one(RunsPanel).refresh_runs()
        self.monitor.poll()
