"""The Curate screen's row list as a component: the status line, the search
box and one page of rows read from SQLite (never 100,000 widgets), with the
filter, paging and loading it owns. Moving past the table's edge loads the
next page; the checks that flag rows run here too, since they end in a
reload. Whenever the row under the cursor may be another one (a move, a new
page) it posts `RowList.Moved`, which the screen answers by redrawing the
side panel and its keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker

from distill_tui.core import paths
from distill_tui.core.curate import query as cq
from distill_tui.core.curate.checks import run_checks
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.ui.screens.base import report_failed_worker
from distill_tui.ui.screens.curate.view import ChecksFinished, CurateTable, PageLoaded, row_cells
from distill_tui.ui.text import say

PAGE = 100


class RowList(Vertical):
    DEFAULT_CSS = """
    RowList { width: 1fr; }
    RowList #curate-bar { height: 1; color: $text-muted; padding: 0 1; }
    RowList #curate-search { display: none; }
    RowList #curate-search.shown { display: block; }
    RowList #curate-empty { height: auto; padding: 1 1; color: $warning; display: none; }
    RowList CurateTable { height: 1fr; }
    """

    @dataclass
    class Moved(Message):
        """The row under the cursor may have changed (a move or a new page)."""

        reloaded: bool = False  # a page was read again: what it counts may differ

    def __init__(self, ws: Workspace, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._ws = ws
        self.flt = cq.Filter()
        self.page_start = 0
        self.total = 0
        self.rows: list[cq.RowView] = []

    def compose(self) -> ComposeResult:
        yield Static(id="curate-bar")
        yield Input(
            placeholder="search input and output; enter applies", id="curate-search", compact=True
        )
        yield Static(id="curate-empty")
        yield CurateTable(id="curate-table", cursor_type="row", zebra_stripes=True)

    @property
    def table(self) -> CurateTable:
        return self.query_one(CurateTable)

    # -- loading ------------------------------------------------------------------------
    def reload(
        self,
        select_id: int | None = None,
        offset: int | None = None,
        cursor: int = 0,
        now: bool = False,
    ) -> None:
        """Read the page again: in a thread, so typing a search stays smooth on a
        big store; or `now`, on the UI thread (the screen's first page, drawn with
        its first frame: the page takes a millisecond to read, where a thread
        waits for the busy UI thread for tens of them)."""
        where = (self.flt, select_id, self.page_start if offset is None else offset, cursor)
        if now:
            self.on_page_loaded(self._read(*where))
        else:
            self._load(*where)

    @work(thread=True, group="curate-page", exclusive=True, exit_on_error=False)
    def _load(self, flt: cq.Filter, select_id: int | None, offset: int, cursor: int) -> None:
        self.post_message(self._read(flt, select_id, offset, cursor))

    def _read(self, flt: cq.Filter, select_id: int | None, offset: int, cursor: int) -> PageLoaded:
        store = self._ws.store
        total = cq.count(store, flt)
        if select_id is not None:
            pos = cq.position(store, flt, select_id)
            if pos is not None:
                offset = pos - pos % PAGE
        offset = max(0, min(offset, max(0, total - 1) - (max(0, total - 1) % PAGE)))
        rows = cq.page(store, flt, offset, PAGE)
        empty = ""
        if not rows:
            everything = cq.count(store, cq.Filter()) if flt.narrows() else 0
            empty = cq.empty_message(flt, everything)
        return PageLoaded(rows, offset, total, select_id, cursor, empty)

    def on_page_loaded(self, msg: PageLoaded) -> None:
        msg.stop()
        self.rows, self.page_start, self.total = msg.rows, msg.offset, msg.total
        table = self.table
        table.clear()
        table.fit(max((r.id for r in msg.rows), default=0))
        theme = self.app.current_theme
        table.add_rows(row_cells(r, theme) for r in msg.rows)
        index = next((i for i, r in enumerate(msg.rows) if r.id == msg.select_id), None)
        if index is None:
            index = msg.cursor if msg.cursor >= 0 else len(msg.rows) + msg.cursor
        table.move_cursor(row=max(0, min(index, len(msg.rows) - 1)), animate=False)
        self._update_bar()
        note = self.query_one("#curate-empty", Static)
        note.update(Text(msg.empty))
        note.display = bool(msg.empty)
        self.post_message(self.Moved(reloaded=True))

    def _update_bar(self) -> None:
        if self.total:
            first, last = self.page_start + 1, self.page_start + len(self.rows)
            span = f"rows {first:,}-{last:,} of {self.total:,}"
        else:
            span = "no rows match"
        self.query_one("#curate-bar", Static).update(Text(f"{span} · {self.flt.describe()}"))

    # -- the selected row -----------------------------------------------------------
    @property
    def current(self) -> cq.RowView | None:
        if not self.is_mounted or not self.rows:
            return None
        i = self.table.cursor_row
        return self.rows[i] if 0 <= i < len(self.rows) else None

    @property
    def current_id(self) -> int | None:
        row = self.current
        return row.id if row else None

    @on(DataTable.RowHighlighted, "#curate-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Moved())

    def select(self, row_id: int) -> None:
        """Put the cursor on a row: on this page if it is here, else its page."""
        index = next((i for i, r in enumerate(self.rows) if r.id == row_id), None)
        if index is not None:
            self.table.move_cursor(row=index)
        else:
            self.reload(select_id=row_id)

    def after_change(self, advance: bool) -> None:
        """Redraw after a decision or edit of the current row; move on to the
        next row if asked. When the filter may now hide the row (a decision
        view), reload the page."""
        i = self.table.cursor_row
        flt = self.flt
        if flt.decision or flt.reason or flt.status or flt.flag:
            nxt = self.rows[i + 1].id if advance and i + 1 < len(self.rows) else None
            self.reload(select_id=nxt, cursor=i)
            return
        self._refresh_row(i)
        if advance:
            self.table.action_cursor_down()
        self.post_message(self.Moved())

    def _refresh_row(self, index: int) -> None:
        """Re-read one row and redraw its cells in place."""
        if not 0 <= index < len(self.rows):
            return
        row = cq.get(self._ws.store, self.rows[index].id)
        if row is None:
            return
        self.rows[index] = row
        theme = self.app.current_theme
        for col, value in enumerate(row_cells(row, theme)):
            self.table.update_cell_at(Coordinate(index, col), value)

    # -- paging, filter, search ------------------------------------------------------
    def page(self, step: int) -> None:
        new = self.page_start + step * PAGE
        if 0 <= new < self.total:
            self.reload(offset=new, cursor=0 if step > 0 else -1)

    @on(CurateTable.EdgeReached)
    def _edge(self, msg: CurateTable.EdgeReached) -> None:
        msg.stop()
        self.page(msg.step)

    def set_filter(self, flt: cq.Filter) -> None:
        self.flt = flt
        self.reload(select_id=self.current_id, offset=0)

    @property
    def searching(self) -> bool:
        return self.query_one("#curate-search").has_class("shown")

    def open_search(self) -> None:
        box = self.query_one("#curate-search", Input)
        box.add_class("shown")
        box.value = self.flt.text or ""
        box.focus()

    @on(Input.Submitted, "#curate-search")
    def _searched(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_filter(self.flt.with_(text=event.value.strip() or None))
        self.close_search()

    def close_search(self) -> None:
        self.query_one("#curate-search").remove_class("shown")
        self.table.focus()
        self.screen.refresh_bindings()

    # -- checks -------------------------------------------------------------------------
    def run_checks(self) -> None:
        say(self, "Checking rows (duplicates, empty, truncated, length, JSON)…")
        self._checks()

    @work(thread=True, group="curate-checks", exclusive=True, exit_on_error=False, name="Checks")
    def _checks(self) -> None:
        from distill_tui.engine.models.student_tokens import load_token_counter
        from distill_tui.ui.app import DistillApp

        ws = self._ws
        model = paths.resolve_model(ws.root, ws.settings.student.model)
        note = ""
        try:
            count = load_token_counter(model, cast(DistillApp, self.app).mlx)
        except UserError as e:
            count, note = None, f" (no length check: {e})"
        s = run_checks(ws.store, ws.settings, count, model if count else "")
        flagged = ", ".join(f"{k} {v:,}" for k, v in s.counts.items() if v) or "nothing flagged"
        self.post_message(ChecksFinished(f"Checks done: {flagged}{note}"))

    def on_checks_finished(self, msg: ChecksFinished) -> None:
        msg.stop()
        say(self, msg.summary, timeout=8)
        self.reload(select_id=self.current_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_failed_worker(self, event)
