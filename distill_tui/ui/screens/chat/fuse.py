"""Fusing from the Chat screen (ctrl+f): the same `engine.fuse.fuse` the
`fuse` command calls, in a worker, with progress, the probe comparison, and the
fused model added to the chat picker."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from distill_tui.core.ship import provenance
from distill_tui.core.train import checkpoints
from distill_tui.engine.chat.evaluate import default_probe_inputs
from distill_tui.engine.chat.fuse import FuseReport, fuse_run, gguf_note
from distill_tui.engine.chat.session import Target
from distill_tui.ui.screens.base import BaseScreen
from distill_tui.ui.screens.chat.dialogs import FuseDialog
from distill_tui.ui.text import say


@dataclass
class FuseProgressed(Message):
    stage: str
    done: int
    total: int


@dataclass
class FuseFinished(Message):
    report: FuseReport


class FuseMixin(BaseScreen):
    """Mixed into ChatScreen, which provides target, targets, fusing,
    _refresh_targets and _show_status."""

    targets: dict[str, Target]
    fusing: bool
    if TYPE_CHECKING:

        @property
        def target(self) -> Target | None: ...
        def _refresh_targets(self) -> None: ...
        def _show_status(self, extra: str = "") -> None: ...

    def action_fuse(self) -> None:
        ws, target = self.workspace, self.target
        if ws is None or target is None or target.checkpoint is None:
            return
        cp = target.checkpoint
        default = checkpoints.default_fused_out(ws.root, cp)

        def start(choice: tuple[Path, bool] | None) -> None:
            if choice is None:
                return
            self.fusing = True
            self.refresh_bindings()
            # Stoppable, so quitting or SIGTERM stops it between stages
            # instead of leaving a half-written model.
            stop = threading.Event()
            self.distill_app.jobs.started("fuse", stop=stop)
            self._show_status("fusing…")
            self._fuse(target, choice[0], choice[1], stop)

        terms = provenance.terms_summary(ws)
        self.app.push_screen(FuseDialog(cp.label, default, gguf_note(cp.base_model), terms), start)

    @work(thread=True, group="chat-fuse", exclusive=True, exit_on_error=False, name="fuse")
    def _fuse(self, target: Target, out: Path, dequantize: bool, stop: threading.Event) -> None:
        ws = self.workspace
        assert ws is not None and target.checkpoint is not None
        probes = default_probe_inputs(ws)

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(FuseProgressed(stage, done, total))

        report = fuse_run(
            ws,
            target.checkpoint,
            out,
            probes,
            dequantize=dequantize,
            progress=progress,
            mlx=self.distill_app.mlx,
            stop=stop,
        )
        self.post_message(FuseFinished(report))

    def on_fuse_progressed(self, event: FuseProgressed) -> None:
        self._show_status(f"fusing: {event.stage} {event.done}/{event.total}")

    def on_fuse_finished(self, event: FuseFinished) -> None:
        self.fusing = False
        report = event.report
        self.targets[f"fused:{report.out.resolve()}"] = Target(str(report.out.resolve()))
        self._refresh_targets()
        self._show_status()
        self.distill_app.jobs.finished("fuse", report.ok, report.summary())
        if not report.ok:
            say(self, report.summary(), severity="warning", timeout=15)
