"""Fusing from the Chat screen (ctrl+f) as a component that draws nothing: the
same `engine.chat.fuse.fuse_run` the `fuse` command calls, in its own
worker, stoppable by quitting. It owns its errors: progress, the result
and a failure are posted as `FuseProgressed` / `FuseFinished` / `FuseFailed`
for the screen to show, and the job is reported to the app's job list."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import work
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from distill_tui.core.evaluate import verdict
from distill_tui.core.project import Workspace
from distill_tui.core.ship import provenance
from distill_tui.core.train import checkpoints
from distill_tui.engine.chat.evaluate import default_probe_inputs
from distill_tui.engine.chat.fuse import FuseReport, fuse_run, gguf_note
from distill_tui.engine.chat.session import Target
from distill_tui.ui.screens.chat.dialogs import FuseDialog, worse_dialog
from distill_tui.ui.text import say
from distill_tui.ui.widgets.chat_pane import failure_reason

if TYPE_CHECKING:
    from distill_tui.ui.app import DistillApp


FUSE_RUNNING = "A fuse is running: ctrl+n ships the fused model once it has finished"


def fuse_note(report: FuseReport, root: Path) -> str:
    """The fuse's result in one status line: what, where, how well it agrees."""
    try:
        out = str(report.out.resolve().relative_to(root.resolve()))
    except ValueError:
        out = str(report.out)
    return f"last fuse: {report.checkpoint} -> {out}, {report.agreement()}; ctrl+n ships it"


@dataclass
class FuseProgressed(Message):
    stage: str
    done: int
    total: int


@dataclass
class FuseFinished(Message):
    report: FuseReport


@dataclass
class FuseFailed(Message):
    reason: str


class Fuser(Widget):
    """`start(target)` asks where to write (FuseDialog), then fuses."""

    DEFAULT_CSS = "Fuser { display: none; }"

    running: reactive[bool] = reactive(False, bindings=True, init=False)

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self._ws = ws

    @property
    def _app(self) -> DistillApp:
        return cast("DistillApp", self.app)

    def start(self, target: Target) -> None:
        ws, cp = self._ws, target.checkpoint
        if cp is None or self.running:
            return
        default = checkpoints.default_fused_out(ws.root, cp)

        def chosen(choice: tuple[Path, bool] | None) -> None:
            if choice is None:
                return
            self.running = True
            # Stoppable, so quitting or SIGTERM stops it between stages
            # instead of leaving a half-written model.
            stop = threading.Event()
            self._app.jobs.started("fuse", stop=stop)
            self.post_message(FuseProgressed("starting", 0, 0))
            self._fuse(target, choice[0], choice[1], stop)

        terms = provenance.terms_summary(ws)
        # The run's last verdict, as `fuse` prints it; worse than its parent: ask first.
        gate = verdict.gate(ws.store, cp.run_id, cp.name)
        dialog = FuseDialog(cp.label, default, gguf_note(cp.base_model), terms, gate)
        if not gate.worse:
            self.app.push_screen(dialog, chosen)
            return

        def answered(answer: str | None) -> None:
            if answer == "anyway":
                self.app.push_screen(dialog, chosen)

        self.app.push_screen(worse_dialog(gate, "fuse"), answered)

    @work(thread=True, group="chat-fuse", exclusive=True, exit_on_error=False, name="fuse")
    def _fuse(self, target: Target, out: Path, dequantize: bool, stop: threading.Event) -> None:
        assert target.checkpoint is not None
        ws = self._ws

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(FuseProgressed(stage, done, total))

        report = fuse_run(
            ws,
            target.checkpoint,
            out,
            default_probe_inputs(ws),
            dequantize=dequantize,
            progress=progress,
            mlx=self._app.mlx,
            stop=stop,
        )
        self.post_message(FuseFinished(report))

    def on_fuse_finished(self, event: FuseFinished) -> None:
        # Not stopped: it goes on to the screen, which lists the fused model.
        self.running = False
        report = event.report
        self._app.jobs.finished("fuse", report.ok, report.summary())
        if not report.ok:
            say(self, report.summary(), severity="warning", timeout=15)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        # The real reason (MLX busy training, a broken checkpoint, no space)
        # where the user is looking.
        self.running = False
        reason = failure_reason(event.worker.error)
        self._app.jobs.finished("fuse", False, f"fuse failed: {reason}")
        self.post_message(FuseFailed(reason))
