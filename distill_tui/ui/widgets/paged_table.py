"""A DataTable over one page of a larger SQLite result: moving past its first
or last row asks the screen for the previous or next page, so 100,000 rows
never become 100,000 widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets import DataTable


class PagedTable(DataTable):
    @dataclass
    class EdgeReached(Message):
        step: int  # +1 below the last row, -1 above the first

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1:
            self.post_message(self.EdgeReached(+1))
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self.cursor_row <= 0:
            self.post_message(self.EdgeReached(-1))
        else:
            super().action_cursor_up()
