"""ctrl+q while a job runs: stop it and quit, leave it running without a
screen (as after an SSH drop), or cancel. ctrl+q again in the dialog means
"stop and quit"; once stopping, ctrl+q again leaves the rest of the stopping
to the headless process, so quitting never waits on a blank screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

if TYPE_CHECKING:
    from distill_tui.ui.jobs import Jobs


class QuitDialog(ModalScreen[None]):
    HELP_TITLE = "Quit dialog"
    BINDINGS = [
        Binding("s", "stop", "Stop it and quit", id="quit-stop"),
        Binding("l", "leave", "Leave it running", id="quit-leave"),
        Binding("escape,c", "cancel", "Cancel", id="quit-cancel"),
    ]
    DEFAULT_CSS = """
    QuitDialog { align: center middle; }
    QuitDialog > Vertical {
        width: 74; height: auto; border: round $warning; background: $surface;
        padding: 0 1;
    }
    QuitDialog #quit-buttons { height: auto; margin-top: 1; }
    QuitDialog Button { margin-right: 1; }
    QuitDialog .hint { color: $text-muted; }
    """

    def __init__(self, jobs: Jobs) -> None:
        super().__init__()
        self.jobs = jobs
        self.stopping = False

    def _names(self) -> str:
        return " and ".join(sorted(self.jobs.running)) or "the job"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Quit while {self._names()} is running?"), id="quit-question")
            with Horizontal(id="quit-buttons"):
                yield Button("s Stop it and quit", id="quit-stop", variant="warning")
                yield Button("l Leave it running", id="quit-leave")
                yield Button("esc Cancel", id="quit-cancel")
            yield Static(
                Text(
                    "Leave it running: the screen closes and the job goes on without it,"
                    " as after a dropped SSH connection; `distill-tui` shows it again."
                    " ctrl+q again: stop it and quit."
                ),
                classes="hint",
                id="quit-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#quit-stop", Button).focus()
        self.jobs.on_change.append(self._jobs_changed)

    def on_unmount(self) -> None:
        if self._jobs_changed in self.jobs.on_change:
            self.jobs.on_change.remove(self._jobs_changed)

    def _jobs_changed(self) -> None:
        if not self.jobs.running and not self.stopping:
            self.query_one("#quit-question", Static).update(
                Text("The job has ended, nothing runs now: s or ctrl+q quits, escape stays.")
            )

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        action = (event.button.id or "").removeprefix("quit-")
        {"stop": self.action_stop, "leave": self.action_leave, "cancel": self.action_cancel}.get(
            action, lambda: None
        )()

    def action_stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        names = self._names()
        unstoppable = self.jobs.stop_then_quit()
        if not self.is_attached:
            return
        waits = f" ({' and '.join(unstoppable)} cannot be interrupted: it runs to its end)"
        self.query_one("#quit-question", Static).update(
            Text(
                f"Stopping {names}: the app quits when it has stopped"
                f"{waits if unstoppable else ''}."
            )
        )
        self.query_one("#quit-buttons").display = False
        self.query_one("#quit-hint", Static).update(
            Text("ctrl+q again: quit now and let it finish stopping without a screen.")
        )

    def action_leave(self) -> None:
        self.jobs.leave_headless()

    def action_cancel(self) -> None:
        # Once stopping, the jobs still stop (that cannot be undone) but the app stays.
        self.jobs.quitting = False
        self.dismiss(None)

    def quit_pressed_again(self) -> None:
        """ctrl+q inside the dialog."""
        if self.stopping:
            self.action_leave()
        else:
            self.action_stop()
