"""The Curate screen's side panel as a component: the selected row in full
(`detail`), the teacher's answer against the edit (`diff`), or the project's
stats, which it computes in its own worker. The histogram's bars are sized
to the panel, so each count stays on its bar's line at 80 columns."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import Worker

from distill_tui.core.curate import curation as cur
from distill_tui.core.curate import query as cq
from distill_tui.core.curate.stats import Stats, stats
from distill_tui.core.project import Workspace
from distill_tui.ui.screens.base import report_failed_worker
from distill_tui.ui.screens.curate.view import StatsComputed, detail_text, stats_text

Mode = Literal["detail", "diff", "stats"]

# What a histogram line holds besides its bar: "{lo:>6}-{hi:<6} " and " {n:,}",
# and room for the scrollbar the stats may need once drawn.
_HIST_TEXT = 15 + 2


class RowPanel(VerticalScroll):
    DEFAULT_CSS = """
    RowPanel { width: 36%; min-width: 28; border-left: solid $primary; padding: 0 1; }
    """

    def __init__(self, ws: Workspace, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._ws = ws
        self.mode: Mode = "detail"
        self._stats: Stats | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="curate-detail")

    def toggle(self, mode: Mode) -> None:
        """Show `mode`, or the row's detail again if it is shown already."""
        self.mode = "detail" if self.mode == mode else mode

    def show(self, row: cq.RowView | None, empty: str = "") -> None:
        """Draw the row (or `empty` when there is none), or the stats."""
        if self.mode == "stats":
            self._compute_stats()
            return
        pane = self.query_one("#curate-detail", Static)
        if row is None:
            pane.update(Text(empty))
            return
        original = cur.original_output(self._ws.store, row.id) if row.edited else None
        pane.update(detail_text(row, original, diff=self.mode == "diff"))
        self.scroll_home(animate=False)

    @work(thread=True, group="curate-stats", exclusive=True, exit_on_error=False, name="Stats")
    def _compute_stats(self) -> None:
        self.post_message(StatsComputed(stats(self._ws.store)))

    def on_stats_computed(self, msg: StatsComputed) -> None:
        msg.stop()
        self._stats = msg.stats
        self._draw_stats()

    def on_resize(self) -> None:
        if self.mode == "stats" and self._stats is not None:
            self._draw_stats()

    def _draw_stats(self) -> None:
        if self.mode != "stats" or self._stats is None:
            return
        widest_count = len(f"{len(self._stats.accepted_tokens):,}")
        room = self.content_region.width - _HIST_TEXT - widest_count
        bar = max(4, min(16, room))
        self.query_one("#curate-detail", Static).update(stats_text(self._stats, bar_width=bar))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_failed_worker(self, event)
