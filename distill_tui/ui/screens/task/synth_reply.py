"""The synthesis dialog's view of a leaf's last reply from the teacher (v):
why a leaf kept no input is read here, the reply shown as data."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from distill_tui.ui.text import data_text
from distill_tui.ui.widgets.dialog import Dialog


class ReplyView(Dialog[None]):
    """A leaf's last reply from the teacher, as written (data, never markup):
    why a leaf kept no input is read here."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close", id="synth-reply-close")]
    DEFAULT_CSS = "ReplyView VerticalScroll { height: auto; max-height: 16; }"

    def __init__(self, path: str, reply: str) -> None:
        super().__init__()
        self.path, self.reply = path, reply

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"The teacher's last reply for {self.path!r}"), classes="title")
            with VerticalScroll():
                yield Static(data_text(self.reply or "(an empty reply)"))
            yield Static(Text("esc closes"), classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
