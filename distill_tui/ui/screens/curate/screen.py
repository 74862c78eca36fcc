"""The Curate screen (key 3): review generated rows one key at a time.

The screen is made of components that own their state and workers: the row
list (`rows.RowList`: filter, paging, loading, checks), the side panel
(`panel.RowPanel`: detail, diff, stats) and the exporter (`export.Exporter`);
edits and bulk decisions are dialogs that write through `core.curation`
themselves (`edit.EditDialog`, `bulk.BulkDialog`). The screen keeps the
keys, decides which are available, and acts on single rows. Decisions go to
the store the moment a key is pressed, through the same functions the
`curate` command calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import ModalScreen

from distill_tui.core.curate import curation as cur
from distill_tui.core.curate import query as cq
from distill_tui.core.curate.checks import invalid_json, undo_checked
from distill_tui.core.errors import UserError
from distill_tui.ui.screens.base import BaseScreen
from distill_tui.ui.screens.curate.bulk import BulkDialog
from distill_tui.ui.screens.curate.dialogs import FilterDialog, ReasonPicker
from distill_tui.ui.screens.curate.edit import EditDialog, Saved, edit_in_editor
from distill_tui.ui.screens.curate.export import Exporter
from distill_tui.ui.screens.curate.panel import RowPanel
from distill_tui.ui.screens.curate.rows import PAGE, RowList
from distill_tui.ui.text import say
from distill_tui.ui.widgets.confirm import ConfirmDialog

__all__ = ["PAGE", "CurateScreen"]


class CurateScreen(BaseScreen):
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
    DEFAULT_CSS = "CurateScreen #curate-main { height: 1fr; }"

    # What decides which keys are available: the row under the cursor (its
    # status, whether it is edited), whether there is something to undo and
    # whether any row is shown. The footer is redrawn only when it changes.
    keys_state: reactive[tuple[object, ...]] = reactive((), bindings=True, init=False)
    can_undo: reactive[bool] = reactive(False, bindings=True, init=False)

    def __init__(self) -> None:
        super().__init__()
        self._from_dialog = False
        self._shown = False  # the first page is read

    def compose_body(self) -> ComposeResult:
        ws = self.ws
        with Horizontal(id="curate-main"):
            yield RowList(ws, id="curate-rows")
            yield RowPanel(ws, id="curate-side")
        yield Exporter(ws)

    # -- the components, and what tests and other screens read of them ---------------
    @property
    def row_list(self) -> RowList:
        return self.query_one(RowList)

    @property
    def panel(self) -> RowPanel:
        return self.query_one(RowPanel)

    @property
    def flt(self) -> cq.Filter:
        return self.row_list.flt

    @property
    def rows(self) -> list[cq.RowView]:
        return self.row_list.rows if self.is_mounted else []

    @property
    def total(self) -> int:
        return self.row_list.total

    @property
    def page_start(self) -> int:
        return self.row_list.page_start

    @property
    def side(self) -> str:
        return self.panel.mode

    @property
    def current(self) -> cq.RowView | None:
        return self.row_list.current if self.is_mounted else None

    @property
    def current_id(self) -> int | None:
        row = self.current
        return row.id if row else None

    # -- loading ------------------------------------------------------------------------
    def _push(self, dialog: ModalScreen[Any], callback: Callable[[Any], None]) -> None:
        self._from_dialog = True  # coming back from it must not reload the page
        self.app.push_screen(dialog, callback)

    def on_screen_resume(self) -> None:
        if self._from_dialog:
            self._from_dialog = False
            return
        if self.workspace is not None:
            # The first page comes with the screen's first frame; later ones
            # (back from another screen) are read in a thread.
            self.reload(select_id=self.current_id, now=not self._shown)
            self._shown = True
            self.row_list.table.focus()

    def reload(self, select_id: int | None = None, now: bool = False) -> None:
        self.can_undo = self.workspace is not None and cur.last_action(self.ws.store) is not None
        self.row_list.reload(select_id=select_id, now=now)

    @on(RowList.Moved)
    def _moved(self, msg: RowList.Moved) -> None:
        if self.side != "stats" or msg.reloaded:
            self._show_side()
        row = self.current
        self.keys_state = ((row.status, row.edited) if row else None, bool(self.total))

    def _show_side(self) -> None:
        # An empty view says why under the status line, where the rows would be.
        self.panel.show(self.current, "" if self.current else "No row selected.")

    def _after_change(self, advance: bool) -> None:
        self.can_undo = True
        self.row_list.after_change(advance)

    # -- actions ------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.workspace is None or not self.is_mounted:
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
            return self.row_list.searching
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
        if row is None:
            return
        problem = invalid_json(self.ws.store, self.ws.settings, [row.id]).get(row.id)
        if problem is None:
            self._accept(row.id)
            return

        def answer(choice: str | None) -> None:
            if choice == "accept":
                self._accept(row.id)
            elif choice == "edit":
                self.action_edit()

        self._push(
            ConfirmDialog(
                f"Row {row.id}'s output is {problem}. Accept it anyway?",
                {"a": ("accept", "accept it as it is"), "e": ("edit", "edit it first")},
                cancel="leave it unreviewed",
            ),
            answer,
        )

    def _accept(self, row_id: int) -> None:
        if self._guard(cur.accept, self.ws.store, [row_id]):
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

    def action_edit(self) -> None:
        row = self.current
        if row is not None:
            self._push(EditDialog(self.ws, row), self._edited)

    def action_edit_external(self) -> None:
        row = self.current
        if row is not None:
            self._edited(edit_in_editor(self.app, self.ws, row))

    def _edited(self, saved: Saved | None) -> None:
        if saved is None or not saved.changed:
            return
        self._after_change(advance=False)
        if saved.problem is not None:
            say(self, f"Saved, flagged bad-json: {saved.problem}", severity="warning")

    def action_undo(self) -> None:
        res = undo_checked(self.ws.store, self.ws.settings)
        if res is None:
            say(self, "Nothing to undo")
            self.can_undo = False
            return
        skipped = f"; {res.skipped} changed since and left alone" if res.skipped else ""
        say(self, f"Undid {res.kind} on {len(res.row_ids)} row(s){skipped}")
        self.reload(select_id=res.row_ids[0] if res.row_ids else self.current_id)

    def action_next_unreviewed(self) -> None:
        nxt = cq.next_unreviewed(self.ws.store, self.flt, self.current_id)
        if nxt is None:
            say(self, "No unreviewed rows in this view")
            return
        self.row_list.select(nxt)

    def action_regenerate(self) -> None:
        row = self.current
        if row and self._guard(cur.regenerate, self.ws.store, [row.id]):
            say(self, f"Row {row.id} is back in the queue")
            self._after_change(advance=True)

    def action_page(self, step: int) -> None:
        self.row_list.page(step)

    def action_filter(self) -> None:
        def done(flt: cq.Filter | None) -> None:
            if flt is not None:
                self.row_list.set_filter(flt)

        self._push(FilterDialog(self.flt, cur.reasons(self.ws.store)), done)

    def action_cycle_view(self) -> None:
        order = [None, "unreviewed", "accepted", "rejected"]
        decision = order[(order.index(self.flt.decision) + 1) % len(order)]
        self.row_list.set_filter(self.flt.with_(decision=decision))

    def action_cycle_sort(self) -> None:
        sorts = [(s, d) for s in cq.SORTS for d in (False, True)]
        i = sorts.index((self.flt.sort, self.flt.descending))
        sort, desc = sorts[(i + 1) % len(sorts)]
        self.row_list.set_filter(self.flt.with_(sort=sort, descending=desc))

    def action_search(self) -> None:
        self.row_list.open_search()
        self.refresh_bindings()

    def action_leave_search(self) -> None:
        self.row_list.close_search()

    def action_toggle_diff(self) -> None:
        self.panel.toggle("diff")
        self._show_side()

    def action_toggle_stats(self) -> None:
        self.panel.toggle("stats")
        self._show_side()

    def action_bulk(self) -> None:
        flt = self.flt
        split = cq.split(self.ws.store, flt)
        if not split.get(cq.bulk_scope(flt), 0):
            say(
                self,
                "No unreviewed rows here. Decided rows keep their decision: to change"
                " them in bulk, show them first (v: accepted or rejected).",
                severity="warning",
            )
            return

        def done(summary: str | None) -> None:
            if summary is not None:
                self.can_undo = True
                say(self, summary)
                self.reload(select_id=self.current_id)

        self._push(BulkDialog(self.ws, flt, split), done)

    def action_run_checks(self) -> None:
        self.row_list.run_checks()

    def action_export(self) -> None:
        self.query_one(Exporter).start()

    def action_export_preferences(self) -> None:
        self.query_one(Exporter).start(preferences=True)
