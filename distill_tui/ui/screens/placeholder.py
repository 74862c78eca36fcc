"""A screen body that shows what the store holds, for screens still being built."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from distill_tui.ui.screens.base import BaseScreen


class StoreSummaryScreen(BaseScreen):
    DESCRIPTION = ""

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="body"):
            yield Static(Text(self.DESCRIPTION), id="summary")

    def on_screen_resume(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        counts = ws.store.counts()
        lines = [self.DESCRIPTION, ""] + [f"{k:>18}: {v}" for k, v in counts.items()]
        self.query_one("#summary", Static).update(Text("\n".join(lines)))
