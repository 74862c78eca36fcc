"""The Queue screen (key 2): start, pause, resume and stop generation, see the
estimate before a run and live counters during it, and browse every row.

Generation runs in a thread worker that calls `engine.queue.run_queue`, the
same function as `distill-tui generate`; it posts `QueueProgressed` and
`GenerationFinished` / `GenerationFailed`. Row changes arrive at a high rate,
so they are buffered and applied to the visible page four times a second. The
table shows one page of rows from SQLite, so 100,000 rows cost no more than
200. The worker belongs to this screen, which stays alive when another screen
is shown, so switching screens does not stop a run.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, ProgressBar, Static

from distill_tui.core.errors import UserError
from distill_tui.core.generate import queue as q
from distill_tui.core.generate.pending import delete_pending
from distill_tui.core.generate.pricing import fmt_spend
from distill_tui.engine.generate.estimate import Estimate, estimate
from distill_tui.engine.generate.queue import Progress, RowEvent, RunResult, run_queue
from distill_tui.ui.screens.base import BaseScreen
from distill_tui.ui.screens.queue.view import (
    COLUMNS,
    RowDetail,
    progress_text,
    row_cells,
    short_estimate,
)
from distill_tui.ui.text import say
from distill_tui.ui.widgets.confirm import ConfirmDialog
from distill_tui.ui.widgets.paged_table import PagedTable

PAGE = 200
JOB = "generation"
POLL_S = 1.0  # how often an idle screen looks for changes made by other processes


@dataclass
class EstimateComputed(Message):
    estimate: Estimate


@dataclass
class QueueProgressed(Message):
    progress: Progress  # the run's totals so far: a newer one supersedes a waiting one

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, QueueProgressed)


@dataclass
class GenerationFinished(Message):
    result: RunResult


@dataclass
class GenerationFailed(Message):
    error: str


class QueueTable(PagedTable):
    """One page of rows; the screen loads the next at the table's edges."""


class QueueScreen(BaseScreen):
    MODE = "queue"
    BINDINGS = [
        Binding("s", "start", "Start", id="queue-start"),
        Binding("p", "pause", "Pause", id="queue-pause"),
        Binding("r", "resume", "Resume", id="queue-resume"),
        Binding("x", "stop", "Stop", id="queue-stop"),
        Binding("f", "retry_failed", "Retry failed", id="queue-retry"),
        Binding("enter", "open_row", "Open row", id="queue-open"),
        Binding("delete", "delete_pending", "Delete pending", id="queue-delete"),
        Binding("e", "estimate", "Estimate", show=False, id="queue-estimate"),
        Binding("right_square_bracket", "page(1)", "Next page", show=False, id="queue-pgdn"),
        Binding("left_square_bracket", "page(-1)", "Prev page", show=False, id="queue-pgup"),
    ]
    DEFAULT_CSS = """
    QueueScreen #queue-estimate { height: auto; max-height: 2; color: $text-muted; padding: 0 1; }
    QueueScreen #queue-progress { height: 1; padding: 0 1; }
    QueueScreen #queue-stats { height: 2; padding: 0 1; }
    QueueScreen #queue-table { height: 1fr; }
    """

    # A generation job runs: start is greyed out, pause/stop shown.
    running: reactive[bool] = reactive(False, bindings=True, init=False)

    def __init__(self) -> None:
        super().__init__()
        self.progress: Progress | None = None
        self.stop_event = threading.Event()
        self.pause_event = threading.Event()
        self._row_events: deque[RowEvent] = deque()
        self.page_start = 0
        self.total = 0
        self.rows: dict[int, dict] = {}
        self.last_run = ""  # how the last run on this screen ended
        self._data_version: int | None = None
        self._queue_shape: tuple[tuple[str, int], ...] | None = None
        self._page_loads = 0  # a deferred part of a page belongs to this load

    def compose_body(self) -> ComposeResult:
        yield Static(id="queue-estimate")
        yield ProgressBar(id="queue-progress", show_eta=False, total=None)
        yield Static(id="queue-stats")
        table = QueueTable(id="queue-table", cursor_type="row", zebra_stripes=True)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        yield table

    def on_mount(self) -> None:
        self.set_interval(0.25, self._flush_rows)
        self.set_interval(POLL_S, self._poll_store)

    def _poll_store(self) -> None:
        """Another process (a headless `import` or `generate`) changed the
        store: show its counts, estimate and rows without a key press. SQLite's
        data_version changes only on other connections' commits, so asking costs
        one pragma a second."""
        ws = self.workspace
        if ws is None or self.running or not self.is_current:
            return
        # fetchall runs the statement to its end: no read is left open on the
        # UI thread's connection between polls.
        version = int(ws.store.conn.execute("PRAGMA data_version").fetchall()[0][0])
        if version == self._data_version:
            return
        self._data_version = version
        # Other writes (a training run's metrics) change the version too: the
        # rows' statuses, one indexed count, say whether the queue changed.
        counts = ws.store.conn.execute("SELECT status, COUNT(*) FROM rows GROUP BY status")
        shape = tuple(tuple(r) for r in counts.fetchall())
        if self._queue_shape is not None and shape != self._queue_shape:
            self._refresh_idle()
        self._queue_shape = shape

    def _refresh_idle(self) -> None:
        self.load_page(self.page_start)
        self._show_progress()
        self.action_estimate()

    def on_screen_resume(self) -> None:
        if self.workspace is None:
            return
        if self.running:
            self.load_page(self.page_start)
            self._show_progress()
        else:
            self._refresh_idle()

    # -- availability -----------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        paused = self.pause_event.is_set()
        if action == "start":
            return not self.running
        if action == "pause":
            return self.running and not paused
        if action == "resume":
            return self.running and paused
        if action == "stop":
            return self.running
        if action in ("retry_failed", "delete_pending"):
            return not self.running
        return True

    # -- the table -----------------------------------------------------------------
    def load_page(self, start: int) -> None:
        """A page read is one indexed query of PAGE rows: fast enough to run here."""
        ws = self.workspace
        if ws is None:
            return
        self.total = q.row_count(ws.store)
        start = max(0, min(start, max(self.total - 1, 0) // PAGE * PAGE))
        self.page_start = start
        rows = q.rows_page(ws.store, start, PAGE)
        self.rows = {r["id"]: r for r in rows}
        table = self.query_one(QueueTable)
        cursor = table.cursor_row
        table.clear()
        self._page_loads += 1
        # Before the screen's first frame, the rows a screen can show come
        # first and the rest of the page after it: the table measures every
        # cell it is given (200 rows: about 15 ms of the first frame).
        now = rows if self.drawn else rows[: self.app.size.height]
        for r in now:
            table.add_row(*row_cells(r), key=str(r["id"]))
        if len(now) < len(rows):
            self.after_first_frame(partial(self._add_rows, rows[len(now) :], self._page_loads))
        if rows:
            table.move_cursor(row=min(max(cursor, 0), len(now) - 1))

    def _add_rows(self, rows: list[dict], page_load: int) -> None:
        if page_load != self._page_loads:
            return  # another page was loaded meanwhile
        table = self.query_one(QueueTable)
        for r in rows:
            table.add_row(*row_cells(r), key=str(r["id"]))

    def action_page(self, step: int) -> None:
        self.load_page(self.page_start + step * PAGE)

    @on(QueueTable.EdgeReached)
    def _edge(self, event: QueueTable.EdgeReached) -> None:
        nxt = self.page_start + event.step * PAGE
        if 0 <= nxt < self.total:
            self.load_page(nxt)
            table = self.query_one(QueueTable)
            table.move_cursor(row=0 if event.step > 0 else table.row_count - 1)

    def _flush_rows(self) -> None:
        if not self._row_events:
            return
        table = self.query_one(QueueTable)
        while self._row_events:
            ev = self._row_events.popleft()
            r = self.rows.get(ev.row_id)
            if r is None:
                continue  # not on the visible page
            r.update(status=ev.status, attempts=ev.attempts, error=ev.error)
            if ev.status == "done":
                r.update(
                    output=ev.output,
                    input_tokens=ev.input_tokens,
                    output_tokens=ev.output_tokens,
                    cost_usd=ev.cost_usd,
                    latency_s=ev.latency_s,
                )
            for (label, _), cell in zip(COLUMNS, row_cells(r), strict=True):
                table.update_cell(str(ev.row_id), label, cell)

    @on(QueueTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        # The table has focus and takes enter itself; selecting opens the row.
        self.action_open_row()

    def action_open_row(self) -> None:
        ws = self.workspace
        table = self.query_one(QueueTable)
        if ws is None or not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        row_id = int(key or 0)
        detail = q.row_detail(ws.store, row_id)
        if detail:
            self.app.push_screen(RowDetail(detail, q.attempts(ws.store, row_id)))

    def action_delete_pending(self) -> None:
        """Delete the pending input under the cursor, after a yes (a bad
        teacher-written input, a fragment): issue 22."""
        ws = self.workspace
        table = self.query_one(QueueTable)
        if ws is None or not table.row_count or self.running:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        row_id = int(key or 0)

        def answered(choice: str | None) -> None:
            if choice != "delete":
                return
            try:
                text = delete_pending(ws.store, row_id)
            except UserError as e:
                say(self, str(e), title="not deleted", severity="warning")
                return
            flat = " ".join(text.split())
            say(self, f"deleted pending input {row_id}: {flat[:50]}")
            self._refresh_idle()
            self.action_estimate()

        self.app.push_screen(
            ConfirmDialog(
                f"Delete row {row_id}, a pending input? It has no answer yet.",
                {"y": ("delete", "delete it")},
            ),
            answered,
        )

    # -- estimate --------------------------------------------------------------------
    def action_estimate(self) -> None:
        self._estimate()

    @work(thread=True, group="queue-estimate", exclusive=True, exit_on_error=False)
    def _estimate(self) -> None:
        ws = self.workspace
        if ws is not None:
            self.post_message(EstimateComputed(estimate(ws)))

    def on_estimate_computed(self, m: EstimateComputed) -> None:
        self.query_one("#queue-estimate", Static).update(short_estimate(m.estimate))

    # -- running -----------------------------------------------------------------------
    def action_start(self) -> None:
        if self.running or self.workspace is None:
            return
        self.stop_event.clear()
        self.pause_event.clear()
        self.running = True
        self.progress = None
        self.distill_app.jobs.started(JOB, stop=self.stop_event)
        self._generate()

    @work(thread=True, group="queue", exit_on_error=False)
    def _generate(self) -> None:
        ws = self.workspace
        assert ws is not None
        try:
            result = run_queue(
                ws,
                on_progress=lambda p: self.post_message(QueueProgressed(p)),
                on_row=self._row_events.append,  # deque.append is thread-safe
                stop_event=self.stop_event,
                pause_event=self.pause_event,
                who="the Queue screen",
            )
        except UserError as e:
            self.post_message(GenerationFailed(str(e)))
            return
        except BaseException as e:
            self.post_message(GenerationFailed(f"{type(e).__name__}: {e}"))
            raise
        self.post_message(GenerationFinished(result))

    def action_pause(self) -> None:
        self.pause_event.set()
        self.refresh_bindings()

    def action_resume(self) -> None:
        self.pause_event.clear()
        self.refresh_bindings()

    def action_stop(self) -> None:
        self.stop_event.set()
        self.pause_event.clear()
        self.refresh_bindings()
        say(self, "Stopping: in-flight requests finish first.")

    def action_retry_failed(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        n = q.retry_failed(ws.store)
        say(self, f"{n} failed row(s) queued again." if n else "No failed rows.")
        self._refresh_idle()

    def on_queue_progressed(self, m: QueueProgressed) -> None:
        self.progress = m.progress
        self._show_progress()

    def _show_progress(self) -> None:
        """While a run goes, its live numbers; otherwise the store's own counts
        (never the numbers of a run that has ended) and how that run ended."""
        ws = self.workspace
        p = self.progress if self.running else None
        counts = ws.store.counts() if ws is not None and p is None else {}
        self.query_one("#queue-stats", Static).update(
            progress_text(p, counts, "" if self.running else self.last_run)
        )
        bar = self.query_one(ProgressBar)
        if p is not None and p.planned:
            bar.update(total=p.planned, progress=p.done + p.failed)
        elif p is None and counts.get("inputs"):
            # Idle: the whole queue's progress, not a bar bouncing as if busy.
            bar.update(total=counts["inputs"], progress=counts["done"] + counts["failed"])

    def _ended(self, message: str) -> None:
        self.running = False
        self.last_run = message
        self._flush_rows()
        self._refresh_idle()

    def on_generation_finished(self, m: GenerationFinished) -> None:
        self.progress = m.result.progress
        p = m.result.progress
        message = m.result.message
        if p.failed and p.last_error:  # why rows failed says more than "finished"
            message = f"{p.done} done, {p.failed} failed: {p.last_error}"
            self._ended(f"last run: {message}")
        else:
            self._ended(
                f"last run {m.result.reason}: {message}"
                f" ({p.done} done, {p.failed} failed, {fmt_spend(p.cost_usd, p.cost_unknown)})"
            )
        ok = m.result.ok and not (p.failed and not p.done)
        self.distill_app.jobs.finished(JOB, ok=ok, message=message)

    def on_generation_failed(self, m: GenerationFailed) -> None:
        self._ended(f"last run failed: {m.error}")
        self.distill_app.jobs.finished(JOB, ok=False, message=m.error)
