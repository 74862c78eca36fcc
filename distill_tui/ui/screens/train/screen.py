"""The Train screen (key 4): three views of one job.

- Setup: the `[train]` form (each valid edit saved to distill.toml at once,
  an invalid one marked on its field and not written), the preflight (run on
  arrival, after edits and on ctrl+e; its errors stop ctrl+r before a run is
  made; it warns when data/ is older than the accepted rows, and ctrl+r then
  asks: export first, train on the old export, or not) and the equivalent
  `mlx_lm.lora` command and YAML.
- Monitor: the shown run's loss chart, speed, memory, ETA, warning signs and,
  for a failed run, its reason.
- Runs (ctrl+l): every run, to open in the monitor, chat with, or delete.

Training runs through `engine.trainer.train_run` in a thread worker; the
monitor redraws from the store, so a run started headless in another
terminal shows here the same way (and Stop sends it Ctrl-C).
"""

from __future__ import annotations

import os
import signal

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Static

from distill_tui.core import config as cfg
from distill_tui.core import paths
from distill_tui.core.dataset import export_stale
from distill_tui.core.train import loraconfig
from distill_tui.core.train import runs as runs_db
from distill_tui.core.train.preflight import model_layers
from distill_tui.ui.screens.base import BaseScreen, SettingsReloaded
from distill_tui.ui.screens.train.form import HINTS, OBJECTIVES, FormError, TrainForm
from distill_tui.ui.screens.train.jobs import (
    EXPORT_FIRST,
    PreflightFinished,
    TrainingFailed,
    TrainingFinished,
    TrainingReported,
    TrainingStarted,
    TrainRunner,
    pair_counts_text,
    preflight_text,
    stale_export_dialog,
)
from distill_tui.ui.screens.train.monitor import TrainMonitor
from distill_tui.ui.screens.train.runs import RunAction, RunDeleted, RunsPanel, RunsTable
from distill_tui.ui.text import data_text, say
from distill_tui.ui.typeahead import field_keys

__all__ = ["TrainScreen", "TrainingFinished", "TrainingReported"]

SETUP, MONITOR, RUNS = "train-setup", "train-monitor", "train-runs"
PREFLIGHT_AFTER_EDIT_S = 1.5


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
        Binding("ctrl+s", "save", "Save settings", id="train-save", show=False, priority=True),
        *field_keys("train"),
    ]
    DEFAULT_CSS = """
    TrainScreen #train-setup { height: 1fr; }
    TrainScreen #train-form-error { height: auto; color: $error; }
    TrainScreen #train-hint { height: 1; color: $text-muted; }
    TrainScreen #train-preflight { height: auto; margin-top: 1; }
    TrainScreen #train-command-box { height: 1fr; min-height: 3; margin-top: 1;
                                     border-left: blank; }
    TrainScreen #train-command-box:focus { border-left: outer $accent; }
    TrainScreen #train-command { color: $text-muted; }
    """

    # A run of this screen is training; `_starting`: between ctrl+r and its first event.
    _training: reactive[bool] = reactive(False, bindings=True, init=False)
    _starting: reactive[bool] = reactive(False, bindings=True, init=False)

    def __init__(self) -> None:
        super().__init__()
        self._shown_run: str | None = None
        self._tr_seen: tuple[object, ...] = ()
        self._refusal: str | None = None  # why the last ctrl+r did not start
        self._opened: str | None = None  # a run the user opened from the list
        self._last_field: Widget | None = None
        self._back_from_runs = SETUP
        self._preflight_timer: Timer | None = None
        self._preflight_key: tuple[object, ...] = ()

    # -- layout --------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        ws = self.ws
        layers = model_layers(paths.resolve_model(ws.root, ws.settings.student.model))
        with ContentSwitcher(initial=SETUP, classes="body", id="train-switch"):
            # Not focusable itself: tab goes field to field, then to the command.
            with Vertical(id=SETUP):
                yield TrainForm(ws.settings.train, model_layers=layers, id="train-form")
                yield Static("", id="train-hint")
                yield Static("", id="train-form-error")
                yield Static(Text("ctrl+e checks the data and memory"), id="train-preflight")
                with VerticalScroll(id="train-command-box"):
                    yield Static("", id="train-command")
            yield TrainMonitor(id=MONITOR)
            yield RunsPanel(ws, id=RUNS)
        yield TrainRunner(ws)

    @property
    def form(self) -> TrainForm:
        return self.query_one(TrainForm)

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
        self.form.train_rows = self._train_rows()
        self._show_command()
        self.set_interval(0.5, self._poll)

    def on_screen_resume(self) -> None:
        latest = runs_db.latest_run(self.workspace.store) if self.workspace else None
        if latest is not None and not self._training and latest.status == "running":
            # A headless run in another terminal: watch it.
            self._switch(MONITOR)
        self.form.train_rows = self._train_rows()
        ws = self.ws
        layers = model_layers(paths.resolve_model(ws.root, ws.settings.student.model))
        if layers != self.form.model_layers:  # the student changed on the Task screen
            self.form.set_model_layers(layers)
            self._show_form_error(self._remaining_error())
        self._poll()
        self._auto_preflight()

    # -- views and focus -------------------------------------------------------
    def _switch(self, view: str) -> None:
        """Show a view and put the focus where it belongs there: the field
        last used on Setup (Preset at first), the table on Runs, nothing on
        the Monitor (so digits switch screens)."""
        self.query_one(ContentSwitcher).current = view
        if view == SETUP:
            target = self._last_field
            if target is None or not target.is_attached:
                target = self.query_one("#tf-preset")
            self.call_after_refresh(target.focus)
        elif view == RUNS:
            self.query_one(RunsPanel).refresh_runs(force=True)
            self.call_after_refresh(self.query_one(RunsTable).focus)
        else:
            self.set_focus(None)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if self.form in event.widget.ancestors:
            self._last_field = event.widget
        self._show_hint(event.widget)

    def _show_hint(self, widget: Widget | None) -> None:
        """One line on the focused setting (the objective's says what it trains on)."""
        name = (widget.id or "").removeprefix("tf-") if widget is not None else ""
        if name == "objective":
            text = OBJECTIVES.get(self.form.train.objective, "") + "; " + HINTS["objective"]
        else:
            text = HINTS.get(name, "")
        self.query_one("#train-hint", Static).update(Text(text, no_wrap=True, overflow="ellipsis"))

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
            self._refusal, self._opened, self._tr_seen = None, m.run_id, ()
            self._switch(MONITOR)
            self._poll()

    @on(RunDeleted)
    def _run_deleted(self, m: RunDeleted) -> None:
        if m.run_id in (self._shown_run, self._opened):
            self._shown_run = self._opened = None
            self._tr_seen = ()

    # -- actions ---------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("start", "resume", "preflight"):
            busy = self._training or self.distill_app.mlx_holder is not None
            return None if busy else True
        if action == "stop":
            return True if self._training or self._external_run() else None
        return True

    def _train_rows(self) -> int:
        data = paths.data_dir(self.ws.root) / "train.jsonl"
        if not data.is_file():
            return 0
        with data.open(encoding="utf-8") as f:
            return sum(1 for line in f if line.strip())

    def _form_value(self, refused: str = "not started") -> cfg.Train | None:
        """The form, or None after marking the wrong field and saying why."""
        try:
            return self.form.value()
        except FormError as e:
            self.form.mark(e)
            self._show_form_error(str(e))
            say(self, f"{e} ({refused})", title="Train settings", severity="error")
            self._switch(SETUP)
            field = self.form.first_invalid()
            if field is not None:
                self.call_after_refresh(field.focus)
            return None

    def action_start(self) -> None:
        train = self._form_value()
        if train is None:
            return
        # A preference run trains on data/pref/ (export --preferences / x on Curate).
        stale = (
            export_stale.compare(self.ws.root, self.ws.store) if train.objective == "sft" else None
        )
        if stale is None:
            self._begin(train, None)
            return

        def answered(answer: str | None) -> None:
            if answer is None:
                say(self, "Not started: data/ is older than the accepted rows", severity="warning")
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
        self._training = self._starting = True
        self._refusal = self._opened = None
        self.distill_app.jobs.started("training", stop=self.runner.stop_event)
        self._switch(MONITOR)
        self.monitor.failure(None)
        self.monitor.head(
            "checking the settings and data..." if train else "starting: loading the student..."
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
        if train is not None and self._save(train, ask=True):
            say(self, "Saved [train] to distill.toml")

    def action_preflight(self) -> None:
        train = self._form_value("not checked")
        if train is not None and train.objective != "sft":
            self.query_one("#train-preflight", Static).update(pair_counts_text(self.ws, train))
        elif train is not None:
            self.query_one("#train-preflight", Static).update(Text("preflight: measuring..."))
            self.runner.preflight(train)

    def _auto_preflight(self) -> None:
        """Check quietly when the screen shows and after edits, so what would
        stop training is on screen before ctrl+r."""
        if not self.check_action("preflight", ()) or not self._train_rows():
            return
        if self.form.model_layers is None:
            return  # the student is not on this machine yet: no download unasked
        try:
            train = self.form.value()
        except FormError:
            return  # the field says what is wrong
        if train.objective != "sft":
            self._preflight_key = ()
            self.query_one("#train-preflight", Static).update(pair_counts_text(self.ws, train))
            return
        # Measuring tokenizes every row: not again for the same settings and data.
        data = paths.data_dir(self.ws.root)
        files = [(f.stat().st_mtime_ns, f.stat().st_size) for f in data.glob("*.jsonl")]
        # Rows accepted since the export change the warning, not the files.
        stale = export_stale.compare(self.ws.root, self.ws.store)
        key = (train, self.ws.settings.student.model, tuple(files), stale)
        if key != self._preflight_key:
            self._preflight_key = key
            self.runner.preflight(train)

    # -- form edits: saved as made -------------------------------------------------
    def _save(self, train: cfg.Train, ask: bool = False) -> bool:
        self.ws.settings.train = train
        error = self.distill_app.settings_file.save(ask=ask)
        self._show_form_error(error)
        return not error

    def _show_form_error(self, message: str) -> None:
        self.query_one("#train-form-error", Static).update(data_text(message))

    @on(TrainForm.Edited)
    def _edited(self, event: TrainForm.Edited) -> None:
        if self._save(event.train):  # else the line says why it was not saved
            self._show_form_error(self._remaining_error())
        self._show_command()
        if self._preflight_timer is not None:
            self._preflight_timer.stop()
        self._preflight_timer = self.set_timer(PREFLIGHT_AFTER_EDIT_S, self._auto_preflight)

    @on(TrainForm.Invalid)
    def _invalid(self, event: TrainForm.Invalid) -> None:
        where = "in distill.toml: ctrl+r will not start" if event.in_file else "not saved"
        self._show_form_error(f"{event.error} ({where})")

    def _remaining_error(self) -> str:
        try:
            self.form.value()
        except FormError as e:
            return f"{e} (not saved)"
        return ""

    # -- workers ---------------------------------------------------------------
    # -- message handlers --------------------------------------------------------
    def on_training_started(self, m: TrainingStarted) -> None:
        self._shown_run = m.run_id
        self._starting = False
        self._tr_seen = ()
        self._poll()

    def on_training_reported(self, m: TrainingReported) -> None:
        self._poll()

    def on_training_finished(self, m: TrainingFinished) -> None:
        self._training = self._starting = False
        self._tr_seen = ()
        self._poll()
        self.distill_app.jobs.finished(
            "training", True, f"run {m.run_id} {m.status.replace('_', ' ')} at iteration {m.iter}"
        )

    def on_training_failed(self, m: TrainingFailed) -> None:
        self._training = self._starting = False
        self._tr_seen = ()
        if m.run_id is not None:
            self._opened = m.run_id
            self._poll()  # the failed run, its reason from the store
        else:
            self._refusal = m.error
            self.monitor.clear(f"Not started: {m.next_step}")
        self.monitor.failure(m.error)
        what = "training failed" if m.run_id else "training not started"
        # The trainer already says "training failed: " for mlx-lm's own errors.
        reason = m.error.removeprefix("training failed: ")
        self.distill_app.jobs.finished("training", False, f"{what}: {reason}")

    def on_preflight_finished(self, m: PreflightFinished) -> None:
        box = self.query_one("#train-preflight", Static)
        if m.result is None:
            box.update(data_text(f"✗ preflight: {m.error}", style="bold"))
        else:
            box.update(preflight_text(m.result))

    def on_settings_reloaded(self, event: SettingsReloaded) -> None:
        # distill.toml was edited outside the app: the form shows the file, so a
        # later save cannot put the old values back.
        if any(key.startswith("train.") for key in event.changed):
            self.form.load(self.ws.settings.train)

    # -- rendering -----------------------------------------------------------------
    def _show_command(self) -> None:
        box = self.query_one("#train-command", Static)
        try:
            train = self.form.value()
        except FormError as e:
            box.update(data_text(f"not valid: {e}"))
            return
        from distill_tui.engine.train.runplan import resolve_model

        ws = self.ws
        settings = loraconfig.rerun_settings(
            train, resolve_model(ws), str(paths.data_dir(ws.root)), "runs/<run id>"
        )
        text = Text(
            "Same settings, not the same run, with mlx_lm.lora (its own batch order, no early"
            " stopping). Saved with each run as lora.yaml; it trains into the run's rerun/:\n"
        )
        text.append(loraconfig.command("lora.yaml") + "\n", style="bold")
        if paths.is_gguf(str(settings.get("model", ""))):
            text.append(
                "(mlx_lm.lora cannot read a GGUF file: the lora.yaml saved with a run names"
                " the converted mlx-lm folder instead)\n"
            )
        text.append(loraconfig.to_yaml(settings))
        box.update(text)

    def _external_run(self) -> runs_db.Run | None:
        latest = runs_db.latest_run(self.workspace.store) if self.workspace else None
        if latest and latest.status == "running" and latest.pid != os.getpid():
            return latest
        return None

    def _poll(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        if self.view == RUNS:
            self.query_one(RunsPanel).refresh_runs()
        if self._refusal is not None or self._starting:
            return  # the monitor says why ctrl+r did not start, or that it is starting
        run = self._current_run()
        if run is None:
            self.monitor.clear("No runs yet: ctrl+r trains")
            return
        train = runs_db.metrics(ws.store, run.id, "train")
        val = runs_db.history(ws.store, run.id, "val")
        prefs = runs_db.pref_metrics(ws.store, run.id)
        key = (run.id, run.status, len(train), len(val), len(prefs), run.error)
        if key == self._tr_seen:
            return
        self._shown_run, self._tr_seen = run.id, key
        self.monitor.show(run, train, val, prefs)

    def _current_run(self) -> runs_db.Run | None:
        """The run the user opened, else the one training here, else the newest."""
        store = self.ws.store
        for run_id in (self._opened, self._shown_run if self._training else None):
            run = runs_db.get_run(store, run_id) if run_id else None
            if run is not None:
                return run
        return runs_db.latest_run(store)
