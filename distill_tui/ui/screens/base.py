"""The frame every screen shares: tabs, body, status line and footer, and the
one place where a failed worker becomes a visible error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import QueryType
from textual.dom import DOMNode
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
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

    def __init__(self) -> None:
        super().__init__()
        self._first_frame_callbacks: list[Callable[[], object]] = []
        try:
            app = self.app
        except Exception:  # made outside a running app (a test)
            return
        # Made now, the screen is styled from the app's stylesheet as it is
        # now (a change of theme still to come restyles it as usual): Textual
        # would otherwise read every CSS source of the app again, from
        # scratch, before the screen's first frame (4 ms).
        self._css_update_count = app._css_update_count

    # Focus comes once the screen is first drawn (see on_screen_resume).
    AUTO_FOCUS = ""

    _resumed = False
    _laid_out = False
    _size_to_lay_out: Size | None = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.ScreenResume) and not self._resumed:
            # The first resume comes right after the widgets were mounted and
            # styled: Textual would style the whole screen again before its
            # first frame (a screen coming back does need it: the theme may
            # have changed meanwhile).
            self._resumed = True
            event.refresh_styles = False
        await super().on_event(event)

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        """A screen's first layout waits while the app holds its updates back.

        The app's first screen is mounted inside the batch Textual holds every
        update in until start-up ends: Textual would lay it out and draw it
        there, throw that frame away, and lay it out again once the batch
        ends, as widgets have changed meanwhile. The screen is marked to be
        laid out instead, which Textual does when the batch ends (20-30 ms
        sooner to the first frame of the Task screen here). That first layout
        draws the first frame; `after_first_frame` callbacks run after it.
        """
        if not self._laid_out and self.app._batch_count:
            self._size_to_lay_out = size or self._size_to_lay_out
            self._layout_required = True
            return
        if size is None and not self.outer_size:  # the layout that waited
            size = self._size_to_lay_out
        first = not self._laid_out
        self._laid_out = True
        super()._refresh_layout(size, scroll)
        if first:
            callbacks, self._first_frame_callbacks = self._first_frame_callbacks, []
            for callback in callbacks:
                self.call_later(callback)

    @property
    def drawn(self) -> bool:
        """The screen's first frame has been drawn."""
        return self._laid_out

    def after_first_frame(self, callback: Callable[[], object]) -> None:
        """Run `callback` once this screen's first frame is drawn (now, if it
        was). Textual's `call_after_refresh` does not wait for it: while the
        app holds its updates at start-up, it runs as soon as the screen is idle."""
        if self._laid_out:
            self.call_later(callback)
        else:
            self._first_frame_callbacks.append(callback)

    def on_screen_resume(self) -> None:
        """Focus the first widget that takes it, as Textual's AUTO_FOCUS does,
        but after the first frame: focusing a container styles it and
        everything in it again (the Task form: 37 widgets, about 9 ms)."""
        if self.focused is None:
            self._focus_pending = True
            self.after_first_frame(self._focus_first)

    _focus_pending = False

    def _focus_first(self) -> None:
        pending, self._focus_pending = self._focus_pending, False
        if not pending or self.focused is not None or not self.is_current:
            return
        if not self.app.app_focus:
            return
        for widget in self.query(self.app.AUTO_FOCUS or "*"):
            if widget.focusable:
                self.set_focus(widget)
                return

    def focus_next(self, selector: str | type[QueryType] = "*") -> Widget | None:
        self._focus_first()  # a tab pressed before that frame starts from the same place
        return super().focus_next(selector)

    def focus_previous(self, selector: str | type[QueryType] = "*") -> Widget | None:
        self._focus_first()
        return super().focus_previous(selector)

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
