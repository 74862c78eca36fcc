"""A question with one-key answers, for any screen that must ask before it
acts (delete, replace, apply to many rows). Escape always means 'no'."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from distill_tui.ui.widgets.dialog import Dialog


class ConfirmDialog(Dialog[str | None]):
    """`choices` maps key -> (answer, label); the answer is dismissed, None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm-cancel")]

    def __init__(
        self, question: str, choices: dict[str, tuple[str, str]], cancel: str = "cancel"
    ) -> None:
        super().__init__()
        self.question, self.choices, self.cancel = question, choices, cancel

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question), classes="title")
            for key, (_, label) in self.choices.items():
                yield Static(Text(f"  {key}  {label}"))
            yield Static(Text(f"  esc  {self.cancel}"), classes="hint")

    def on_key(self, event: events.Key) -> None:
        if event.character in self.choices:
            event.stop()
            self.dismiss(self.choices[event.character][0])

    def action_cancel(self) -> None:
        self.dismiss(None)
