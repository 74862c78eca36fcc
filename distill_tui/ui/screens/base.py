"""The frame every screen shares: tabs, body, status line and footer, and the
one place where a failed worker becomes a visible error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from distill_tui.core.errors import UserError
from distill_tui.ui.widgets.chrome import KeyFooter, NavBar, StatusBar

if TYPE_CHECKING:
    from distill_tui.core.project import Workspace
    from distill_tui.ui.app import DistillApp


@dataclass
class SettingsReloaded(Message):
    """distill.toml was edited outside the app and the workspace's settings
    were reloaded in place; `changed` names the keys (`section.key`). Screens
    that show settings update those fields."""

    changed: list[str]


@dataclass
class ChatWithRun(Message):
    """A screen asks to chat with a run (the Train screen's runs list): the
    app opens the Chat screen and hands this to it, which picks the run's best
    checkpoint (else its latest)."""

    run_id: str


class BaseScreen(Screen):
    """Subclasses set MODE and implement `compose_body`."""

    MODE = ""
    # escape leaves a text field so the digit keys switch screens again; screens
    # that use escape for something else (stopping a reply) hide theirs when idle.
    BINDINGS = [Binding("escape", "leave_field", "Leave field", show=False, id="leave-field")]

    @property
    def distill_app(self) -> DistillApp:
        return cast("DistillApp", self.app)

    @property
    def workspace(self) -> Workspace | None:
        return self.distill_app.workspace

    @property
    def ws(self) -> Workspace:
        """The open project, for screens that are reachable only with one (2-5)."""
        ws = self.distill_app.workspace
        if ws is None:
            raise UserError("no project is open yet: create one on the Task screen (1)")
        return ws

    _resumed = False

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.ScreenResume) and not self._resumed:
            # The first resume comes right after the widgets were mounted and
            # styled: Textual would style the whole screen again before its
            # first frame (a screen coming back does need it: the theme may
            # have changed meanwhile).
            self._resumed = True
            event.refresh_styles = False
        await super().on_event(event)

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield from self.compose_body()
        yield StatusBar(id="statusbar")
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_failed_worker(self, event)


def report_failed_worker(node: DOMNode, event: Worker.StateChanged) -> None:
    """Worker messages do not bubble: a screen or a component that owns
    workers hands a failed one here, and the app shows it as an error."""
    if event.state == WorkerState.ERROR and event.worker.error is not None:
        cast("DistillApp", node.app).report_error(event.worker.error, event.worker.name)
