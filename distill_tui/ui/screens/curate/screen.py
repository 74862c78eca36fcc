"""The Curate screen (key 3): review generated rows one key at a time.

The table holds one page of rows read from SQLite (never 100,000 widgets);
moving past its edge loads the next page. Decisions and edits go to the store
the moment a key is pressed, through `core.curation`, the same functions the
`curate` command calls. Slow reads (pages with a text search, stats, checks)
run in workers that post the past-tense messages below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.coordinate import Coordinate
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from distill_tui.core.curate import curation as cur
from distill_tui.core.curate import query as cq
from distill_tui.core.curate.stats import stats
from distill_tui.core.errors import UserError
from distill_tui.ui.screens.base import BaseScreen
from distill_tui.ui.screens.curate.bulk import BulkChecksMixin
from distill_tui.ui.screens.curate.dialogs import FilterDialog, ReasonPicker
from distill_tui.ui.screens.curate.edit import EditMixin
from distill_tui.ui.screens.curate.export import ExportMixin
from distill_tui.ui.screens.curate.view import (
    CurateTable,
    PageLoaded,
    StatsComputed,
    detail_text,
    row_cells,
    stats_text,
)
from distill_tui.ui.text import say

PAGE = 100


class CurateScreen(BulkChecksMixin, EditMixin, ExportMixin, BaseScreen):
    MODE = "curate"
    BINDINGS = [
        Binding("a", "accept", "Accept", id="curate-accept"),
        Binding("r", "reject", "Reject", id="curate-reject"),
        Binding("e", "edit", "Edit", id="curate-edit"),
        Binding("E", "edit_external", "Edit in $EDITOR", show=False, id="curate-editor"),
        Binding("u", "undo", "Undo", id="curate-undo"),
        Binding("n", "next_unreviewed", "Next new", id="curate-next"),
        Binding("g", "regenerate", "Regenerate", show=False, id="curate-regen"),
        Binding("f", "filter", "Filter", id="curate-filter"),
        Binding("slash", "search", "Search", show=False, id="curate-search"),
        Binding("v", "cycle_view", "View", show=False, id="curate-view"),
        Binding("o", "cycle_sort", "Sort", show=False, id="curate-sort"),
        Binding("b", "bulk", "Bulk", show=False, id="curate-bulk"),
        Binding("x", "export", "Export", id="curate-export"),
        Binding("X", "export_preferences", "Export + preferences", id="curate-export-pref"),
        Binding("d", "toggle_diff", "Diff", show=False, id="curate-diff"),
        Binding("s", "toggle_stats", "Stats", show=False, id="curate-stats"),
        Binding("c", "run_checks", "Check", show=False, id="curate-checks"),
        Binding("right_square_bracket", "page(1)", "Next page", show=False, id="curate-pgdn"),
        Binding("left_square_bracket", "page(-1)", "Prev page", show=False, id="curate-pgup"),
        Binding("escape", "leave_search", "Leave search", show=False, id="curate-esc"),
    ]
    DEFAULT_CSS = """
    CurateScreen #curate-bar { height: 1; color: $text-muted; padding: 0 1; }
    CurateScreen #curate-search { display: none; }
    CurateScreen #curate-search.shown { display: block; }
    CurateScreen #curate-main { height: 1fr; }
    CurateScreen #curate-table { width: 1fr; }
    CurateScreen #curate-side {
        width: 40%; min-width: 32; border-left: solid $primary; padding: 0 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.flt = cq.Filter()
        self.page_start = 0
        self.total = 0
        self.rows: list[cq.RowView] = []
        self.side = "detail"  # detail | diff | stats
        self.can_undo = False
        self._from_dialog = False
        self._keys_state: object = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="curate-bar")
        yield Input(
            placeholder="search input and output; enter applies", id="curate-search", compact=True
        )
        with Horizontal(id="curate-main"):
            yield CurateTable(id="curate-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="curate-side"):
                yield Static(id="curate-detail")

    # -- loading ------------------------------------------------------------------------
    def _push(self, dialog: ModalScreen[Any], callback: Callable[[Any], None]) -> None:
        self._from_dialog = True  # coming back from it must not reload the page
        self.app.push_screen(dialog, callback)

    def on_screen_resume(self) -> None:
        if self._from_dialog:
            self._from_dialog = False
            return
        if self.workspace is not None:
            self.reload(select_id=self.current_id)
            self.query_one(CurateTable).focus()

    def reload(
        self, select_id: int | None = None, offset: int | None = None, cursor: int = 0
    ) -> None:
        self.can_undo = self.workspace is not None and cur.last_action(self.ws.store) is not None
        self._load(self.flt, select_id, self.page_start if offset is None else offset, cursor)

    @work(thread=True, group="curate-page", exclusive=True, exit_on_error=False)
    def _load(self, flt: cq.Filter, select_id: int | None, offset: int, cursor: int) -> None:
        store = self.ws.store
        total = cq.count(store, flt)
        if select_id is not None:
            pos = cq.position(store, flt, select_id)
            if pos is not None:
                offset = pos - pos % PAGE
        offset = max(0, min(offset, max(0, total - 1) - (max(0, total - 1) % PAGE)))
        rows = cq.page(store, flt, offset, PAGE)
        self.post_message(PageLoaded(rows, offset, total, select_id, cursor))

    def on_page_loaded(self, msg: PageLoaded) -> None:
        self.rows, self.page_start, self.total = msg.rows, msg.offset, msg.total
        table = self.query_one(CurateTable)
        table.clear()
        table.fit(max((r.id for r in msg.rows), default=0))
        theme = self.app.current_theme
        table.add_rows(row_cells(r, theme) for r in msg.rows)
        index = next((i for i, r in enumerate(msg.rows) if r.id == msg.select_id), None)
        if index is None:
            index = msg.cursor if msg.cursor >= 0 else len(msg.rows) + msg.cursor
        table.move_cursor(row=max(0, min(index, len(msg.rows) - 1)), animate=False)
        self._update_bar()
        self._show_side()
        self._refresh_keys()

    def _update_bar(self) -> None:
        if self.total:
            first, last = self.page_start + 1, self.page_start + len(self.rows)
            span = f"rows {first:,}-{last:,} of {self.total:,}"
        else:
            span = "no rows match"
        text = Text(f"{span} · {self.flt.describe()}")
        self.query_one("#curate-bar", Static).update(text)

    # -- the selected row -----------------------------------------------------------
    @property
    def current(self) -> cq.RowView | None:
        if not self.is_mounted or not self.rows:
            return None
        i = self.query_one(CurateTable).cursor_row
        return self.rows[i] if 0 <= i < len(self.rows) else None

    @property
    def current_id(self) -> int | None:
        row = self.current
        return row.id if row else None

    @on(DataTable.RowHighlighted, "#curate-table")
    def _highlighted(self) -> None:
        if self.side != "stats":
            self._show_side()
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        """Re-check the footer only when what greys keys out has changed:
        rebuilding the footer on every cursor move costs more than the move."""
        row = self.current
        state = (row.status, row.edited) if row else None, self.can_undo, bool(self.total)
        if state != self._keys_state:
            self._keys_state = state
            self.refresh_bindings()

    def _show_side(self) -> None:
        if self.side == "stats":
            self._compute_stats()
            return
        row = self.current
        pane = self.query_one("#curate-detail", Static)
        if row is None:
            everything = cq.count(self.ws.store, cq.Filter()) if self.flt.narrows() else 0
            pane.update(Text(cq.empty_message(self.flt, everything)))
            return
        original = cur.original_output(self.ws.store, row.id) if row.edited else None
        pane.update(detail_text(row, original, diff=self.side == "diff"))
        self.query_one("#curate-side").scroll_home(animate=False)

    def _refresh_row(self, index: int) -> None:
        """Re-read one row after a change and redraw its cells in place."""
        row = cq.get(self.ws.store, self.rows[index].id)
        if row is None:
            return
        self.rows[index] = row
        table = self.query_one(CurateTable)
        theme = self.app.current_theme
        for col, value in enumerate(row_cells(row, theme)):
            table.update_cell_at(Coordinate(index, col), value)

    def _after_change(self, advance: bool) -> None:
        """Redraw after a decision; move on to the next row if asked. When the
        filter may now hide the row (a decision view), reload the page."""
        self.can_undo = True
        table = self.query_one(CurateTable)
        i = table.cursor_row
        if self.flt.decision or self.flt.reason or self.flt.status or self.flt.flag:
            nxt = self.rows[i + 1].id if advance and i + 1 < len(self.rows) else None
            self.reload(select_id=nxt, cursor=i)
            return
        self._refresh_row(i)
        if advance:
            table.action_cursor_down()
        self._show_side()
        self._refresh_keys()

    # -- actions ------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.workspace is None:
            return None if action != "leave_search" else False
        row = self.current
        if action in ("accept", "reject"):
            return True if row is not None and row.status == "done" else None
        if action in ("edit", "edit_external"):
            return True if row is not None and row.status != "running" else None
        if action == "regenerate":
            return True if row is not None and row.status in ("done", "failed") else None
        if action == "toggle_diff":
            return True if row is not None and row.edited else None
        if action == "undo":
            return True if self.can_undo else None
        if action == "bulk":
            return True if self.total else None
        if action == "leave_search":
            return self.query_one("#curate-search").has_class("shown")
        return True

    def _guard(self, fn, *args) -> bool:  # noqa: ANN001
        try:
            fn(*args)
            return True
        except UserError as e:
            self.distill_app.report_error(e, "curate")
            return False

    def action_accept(self) -> None:
        row = self.current
        if row and self._guard(cur.accept, self.ws.store, [row.id]):
            self._after_change(advance=True)

    def action_reject(self) -> None:
        row = self.current
        if row is None:
            return

        def done(reason: str | None) -> None:
            if reason is None:
                return
            store = self.ws.store
            if reason and reason not in cur.reasons(store):
                cur.add_reason(store, reason)
            if self._guard(cur.reject, store, [row.id], reason):
                self._after_change(advance=True)

        self._push(ReasonPicker(cur.reasons(self.ws.store)), done)

    def action_undo(self) -> None:
        res = cur.undo(self.ws.store)
        if res is None:
            say(self, "Nothing to undo")
            self.can_undo = False
            self.refresh_bindings()
            return
        skipped = f"; {res.skipped} changed since and left alone" if res.skipped else ""
        say(self, f"Undid {res.kind} on {len(res.row_ids)} row(s){skipped}")
        self.reload(select_id=res.row_ids[0] if res.row_ids else self.current_id)

    def action_next_unreviewed(self) -> None:
        nxt = cq.next_unreviewed(self.ws.store, self.flt, self.current_id)
        if nxt is None:
            say(self, "No unreviewed rows in this view")
            return
        index = next((i for i, r in enumerate(self.rows) if r.id == nxt), None)
        if index is not None:
            self.query_one(CurateTable).move_cursor(row=index)
        else:
            self.reload(select_id=nxt)

    def action_regenerate(self) -> None:
        row = self.current
        if row and self._guard(cur.regenerate, self.ws.store, [row.id]):
            say(self, f"Row {row.id} is back in the queue")
            self._after_change(advance=True)

    def action_page(self, step: int) -> None:
        new = self.page_start + step * PAGE
        if 0 <= new < self.total:
            self.reload(offset=new, cursor=0 if step > 0 else -1)

    @on(CurateTable.EdgeReached)
    def _edge(self, msg: CurateTable.EdgeReached) -> None:
        self.action_page(msg.step)

    def _set_filter(self, flt: cq.Filter) -> None:
        self.flt = flt
        self.reload(select_id=self.current_id, offset=0)

    def action_filter(self) -> None:
        def done(flt: cq.Filter | None) -> None:
            if flt is not None:
                self._set_filter(flt)

        self._push(FilterDialog(self.flt, cur.reasons(self.ws.store)), done)

    def action_cycle_view(self) -> None:
        order = [None, "unreviewed", "accepted", "rejected"]
        self._set_filter(
            self.flt.with_(decision=order[(order.index(self.flt.decision) + 1) % len(order)])
        )

    def action_cycle_sort(self) -> None:
        sorts = [(s, d) for s in cq.SORTS for d in (False, True)]
        i = sorts.index((self.flt.sort, self.flt.descending))
        sort, desc = sorts[(i + 1) % len(sorts)]
        self._set_filter(self.flt.with_(sort=sort, descending=desc))

    def action_search(self) -> None:
        box = self.query_one("#curate-search", Input)
        box.add_class("shown")
        box.value = self.flt.text or ""
        box.focus()
        self.refresh_bindings()

    @on(Input.Submitted, "#curate-search")
    def _searched(self, event: Input.Submitted) -> None:
        self._set_filter(self.flt.with_(text=event.value.strip() or None))
        self.action_leave_search()

    def action_leave_search(self) -> None:
        self.query_one("#curate-search").remove_class("shown")
        self.query_one(CurateTable).focus()
        self.refresh_bindings()

    def action_toggle_diff(self) -> None:
        self.side = "detail" if self.side == "diff" else "diff"
        self._show_side()

    def action_toggle_stats(self) -> None:
        self.side = "detail" if self.side == "stats" else "stats"
        self._show_side()

    @work(thread=True, group="curate-stats", exclusive=True, exit_on_error=False)
    def _compute_stats(self) -> None:
        self.post_message(StatsComputed(stats(self.ws.store)))

    def on_stats_computed(self, msg: StatsComputed) -> None:
        if self.side == "stats":
            self.query_one("#curate-detail", Static).update(stats_text(msg.stats))
