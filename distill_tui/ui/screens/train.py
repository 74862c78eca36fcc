"""The Train screen (key 4): the `[train]` form with presets, a preflight,
the equivalent `mlx_lm.lora` command and YAML, and a live monitor of the
current run: train and validation loss chart, speed and memory, ETA and the
guide's warning signs in words.

Training runs through `engine.trainer.train_run` in a thread worker; the
monitor redraws from the store, so a run started headless in another
terminal shows here the same way (and Stop sends it Ctrl-C).
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, ContentSwitcher, Input, Select, Static

from distill_tui.core import loraconfig, losscurve, paths
from distill_tui.core import runs as runs_db
from distill_tui.core.preflight import Preflight
from distill_tui.ui.screens.base import BaseScreen, SettingsReloaded
from distill_tui.ui.screens.train_form import FormError, TrainForm
from distill_tui.ui.text import say
from distill_tui.ui.widgets.losschart import LossChart


@dataclass
class TrainingStarted(Message):
    run_id: str
    start_iter: int


@dataclass
class TrainingReported(Message):
    run_id: str
    iter: int


@dataclass
class TrainingFinished(Message):
    run_id: str
    status: str
    iter: int


@dataclass
class TrainingFailed(Message):
    error: str


@dataclass
class PreflightFinished(Message):
    result: Preflight | None
    error: str = ""


def _clock(s: float | None) -> str:
    if s is None or s < 0:
        return "--:--"
    s = int(s)
    h, rem = divmod(s, 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"


class TrainScreen(BaseScreen):
    MODE = "train"
    BINDINGS = [
        Binding("ctrl+r", "start", "Train", id="train-start"),
        Binding("ctrl+x", "stop", "Stop", id="train-stop"),
        Binding("ctrl+e", "preflight", "Preflight", id="train-preflight"),
        Binding("ctrl+o", "resume", "Resume last", id="train-resume"),
        Binding("ctrl+w", "toggle_view", "Setup/Monitor", id="train-view"),
        Binding("ctrl+s", "save", "Save settings", id="train-save", show=False),
    ]
    DEFAULT_CSS = """
    TrainScreen #train-head { height: 1; color: $primary; text-style: bold; }
    TrainScreen #train-metrics { height: 2; }
    TrainScreen #train-signs { height: auto; max-height: 3; color: $warning; }
    TrainScreen #train-preflight { height: auto; margin-top: 1; }
    TrainScreen #train-command { height: auto; margin-top: 1; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._stop_event = threading.Event()
        self._training = False
        self._shown_run: str | None = None
        self._tr_seen = (-1, -1)

    # -- layout --------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        ws = self.workspace
        assert ws is not None
        with ContentSwitcher(initial="train-setup", classes="body", id="train-switch"):
            with VerticalScroll(id="train-setup"):
                yield TrainForm(ws.settings.train, id="train-form")
                yield Static(Text("ctrl+e checks the data and memory"), id="train-preflight")
                yield Static("", id="train-command")
            with Vertical(id="train-monitor"):
                yield Static("", id="train-head")
                yield LossChart(id="train-chart")
                yield Static("", id="train-metrics")
                yield Static("", id="train-signs")

    def on_mount(self) -> None:
        self._show_command()
        self.set_interval(0.5, self._poll)

    def on_screen_resume(self) -> None:
        latest = runs_db.latest_run(self.workspace.store) if self.workspace else None
        if latest is not None and not self._training and latest.status == "running":
            # A headless run in another terminal: watch it.
            self.query_one(ContentSwitcher).current = "train-monitor"
        self._poll()

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
        return sum(1 for line in data.read_text(encoding="utf-8").splitlines() if line.strip())

    def _form_value(self):
        try:
            return self.query_one(TrainForm).value(self._train_rows())
        except FormError as e:
            say(self, str(e), severity="error")
            return None

    def action_start(self) -> None:
        train = self._form_value()
        if train is not None:
            self._begin(train, None)

    def action_resume(self) -> None:
        latest = runs_db.latest_run(self.ws.store)
        if latest is None:
            say(self, "No run to resume yet", severity="warning")
            return
        self._begin(None, latest.id)

    def _begin(self, train, resume: str | None) -> None:
        self._stop_event.clear()
        self._training = True
        self.distill_app.jobs.started("training", stop=self._stop_event)
        self.query_one(ContentSwitcher).current = "train-monitor"
        self.query_one("#train-head", Static).update(Text("starting: loading the student..."))
        self.refresh_bindings()
        self._train(train, resume)

    def action_stop(self) -> None:
        if self._training:
            self._stop_event.set()
            self.query_one("#train-head", Static).update(Text("stopping after this step..."))
        else:
            run = self._external_run()
            if run is not None and run.pid:
                os.kill(run.pid, signal.SIGINT)  # the headless command stops cleanly
                say(self, f"asked run {run.id} to stop")

    def action_toggle_view(self) -> None:
        sw = self.query_one(ContentSwitcher)
        sw.current = "train-monitor" if sw.current == "train-setup" else "train-setup"

    def action_save(self) -> None:
        train = self._form_value()
        if train is not None:
            self.ws.settings.train = train
            self.ws.save_settings()
            say(self, "Saved [train] to distill.toml")

    def action_preflight(self) -> None:
        train = self._form_value()
        if train is not None:
            self.query_one("#train-preflight", Static).update(Text("preflight: measuring..."))
            self._preflight(train)

    # -- workers ---------------------------------------------------------------
    @work(thread=True, group="training", exclusive=True, exit_on_error=False, name="Training")
    def _train(self, train, resume: str | None) -> None:
        from distill_tui.engine import trainer as tr

        def listener(e: object) -> None:
            if isinstance(e, tr.RunStarted):
                self.post_message(TrainingStarted(e.run_id, e.start_iter))
            elif isinstance(e, tr.TrainReported | tr.ValReported):
                self.post_message(TrainingReported(e.run_id, e.iter))

        try:
            done = tr.train_run(
                self.ws,
                train,
                resume=resume,
                stop=self._stop_event,
                listener=listener,
                thread=self.distill_app.mlx,
            )
        except BaseException as e:
            self.post_message(TrainingFailed(str(e)))
            raise
        self.post_message(TrainingFinished(done.run_id, done.status, done.iter))

    @work(
        thread=True, group="train-preflight", exclusive=True, exit_on_error=False, name="Preflight"
    )
    def _preflight(self, train) -> None:
        from distill_tui.engine.preflight import preflight

        try:
            self.post_message(
                PreflightFinished(preflight(self.ws, train, thread=self.distill_app.mlx))
            )
        except Exception as e:
            self.post_message(PreflightFinished(None, str(e)))
            raise

    # -- message handlers --------------------------------------------------------
    def on_training_started(self, m: TrainingStarted) -> None:
        self._shown_run = m.run_id
        self._tr_seen = (-1, -1)
        self._poll()

    def on_training_reported(self, m: TrainingReported) -> None:
        self._poll()

    def on_training_finished(self, m: TrainingFinished) -> None:
        self._training = False
        self.refresh_bindings()
        self._tr_seen = (-1, -1)
        self._poll()
        self.distill_app.jobs.finished(
            "training", True, f"run {m.run_id} {m.status.replace('_', ' ')} at iteration {m.iter}"
        )

    def on_training_failed(self, m: TrainingFailed) -> None:
        self._training = False
        self.refresh_bindings()
        self.query_one("#train-head", Static).update(Text(f"failed: {m.error}"))
        self.distill_app.jobs.finished("training", False, "training failed")

    def on_preflight_finished(self, m: PreflightFinished) -> None:
        box = self.query_one("#train-preflight", Static)
        pf = m.result
        if pf is None:
            box.update(Text(f"preflight failed: {m.error}"))
            return
        text = Text()
        text.append(
            f"Preflight: {pf.rows} rows, longest {pf.longest} tokens; "
            f"peak memory about {pf.estimate_gb:.2f} GB of {pf.machine_gb:.0f} GB\n"
        )
        for p in pf.problems:
            text.append(f"! {p}\n", style="bold")
        for s in pf.suggestions:
            text.append(f"  try: {s}\n")
        if not pf.problems:
            text.append("No problems found.")
        box.update(text)

    def on_settings_reloaded(self, event: SettingsReloaded) -> None:
        # distill.toml was edited outside the app: the form shows the file, so a
        # later save cannot put the old values back.
        if any(key.startswith("train.") for key in event.changed):
            self.query_one(TrainForm).load(self.ws.settings.train)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _form_changed(self) -> None:
        self._show_command()

    # -- rendering -----------------------------------------------------------------
    def _show_command(self) -> None:
        box = self.query_one("#train-command", Static)
        try:
            train = self.query_one(TrainForm).value(self._train_rows())
        except FormError as e:
            box.update(Text(f"not valid: {e}"))
            return
        from distill_tui.engine.runplan import resolve_model

        ws = self.ws
        settings = loraconfig.lora_settings(
            train, resolve_model(ws), str(paths.data_dir(ws.root)), "runs/<run id>"
        )
        text = Text("Same run without this tool (saved with each run as lora.yaml):\n")
        text.append(loraconfig.command("lora.yaml") + "\n", style="bold")
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
        run = runs_db.get_run(ws.store, self._shown_run) if self._shown_run else None
        if run is None or (not self._training and run.status != "running"):
            latest = runs_db.latest_run(ws.store)
            run = latest if latest is not None else run
        if run is None:
            self.query_one("#train-head", Static).update(Text("No runs yet: ctrl+r trains"))
            return
        train = runs_db.metrics(ws.store, run.id, "train")
        val = runs_db.history(ws.store, run.id, "val")
        key = (len(train), len(val))
        if run.id == self._shown_run and key == self._tr_seen and run.status != "running":
            return
        self._shown_run, self._tr_seen = run.id, key
        t_hist = [(m.iter, float("nan") if m.loss is None else m.loss) for m in train]
        self.query_one(LossChart).set_data(t_hist, val)
        best = (
            f"  best val {run.best_val_loss:.3f} @ {run.best_iter}"
            if run.best_iter is not None
            else ""
        )
        self.query_one("#train-head", Static).update(
            Text(f"Run {run.id}  {run.status.replace('_', ' ')}{best}")
        )
        self.query_one("#train-metrics", Static).update(self._metrics_text(run, train))
        signs = losscurve.warning_signs(t_hist, val)
        self.query_one("#train-signs", Static).update(
            Text("\n".join(f"⚠ {s.message}" for s in signs[:2]))
        )

    @staticmethod
    def _metrics_text(run: runs_db.Run, train: list[runs_db.Metric]) -> Text:
        total = run.iters_total or 0
        if not train:
            return Text(f"iter {run.iter}/{total}")
        m = train[-1]
        ips = m.it_per_sec or 0.0
        eta = (total - m.iter) / ips if ips > 0 and run.status == "running" else None
        loss = f"{m.loss:.4f}" if m.loss is not None else "NaN"
        return Text(
            f"iter {m.iter}/{total}  loss {loss}  {ips:.2f} it/s  "
            f"{m.tokens_per_sec or 0:.0f} tok/s  {m.trained_tokens or 0} tokens\n"
            f"lr {m.learning_rate or 0:.1e}  peak {m.peak_memory_gb or 0:.2f} GB  "
            f"elapsed {_clock(m.at - run.created_at)}  ETA {_clock(eta)}"
        )
