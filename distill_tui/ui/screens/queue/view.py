"""Pieces of the Queue screen that are not the screen: table cells, the
progress text and the row detail dialog. Model and file text is always a
`rich.text.Text`, never markup."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from distill_tui.core import money
from distill_tui.core.generate.pricing import fmt_spend, fmt_usd
from distill_tui.engine.generate.estimate import Estimate
from distill_tui.engine.generate.queue import Progress
from distill_tui.ui.text import append_clipped, data_text, visible

# What the row detail says under a text it shows only the start of.
SEE_ALL = "Curate (3) shows this row, and E there opens it all in $EDITOR"

# (label, width); None lets the last column take the rest of the line.
COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("id", 5),
    ("status", 7),
    ("att", 3),
    ("in", 5),
    ("out", 5),
    ("cost $", 6),
    ("sec", 4),
    ("input / error", None),
)
STATUS_STYLE = {"done": "bold", "failed": "bold reverse", "running": "italic", "retrying": "italic"}


def _short(text: str | None, n: int) -> str:
    flat = " ".join((text or "")[: n * 4].split())  # never split a 2 MB input whole
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def row_cells(r: dict) -> tuple[Text, ...]:
    """One table row from `core.queue.rows_page` or a RowEvent merged into it."""
    status = r.get("status") or ""
    tail = r.get("error") if status in ("failed", "retrying") or r.get("error") else r.get("input")
    cost = r.get("cost_usd")
    lat = r.get("latency_s")
    return (
        Text(str(r["id"])),
        Text(status, style=STATUS_STYLE.get(status, "")),
        Text(str(r.get("attempts") or 0)),
        Text(str(r.get("input_tokens") or "")),
        Text(str(r.get("output_tokens") or "")),
        Text(_cell_cost(cost, answered=bool(r.get("teacher")))),
        Text(f"{lat:.1f}" if lat is not None else ""),
        data_text(_short(tail, 60)),
    )


def _cell_cost(cost: float | None, answered: bool) -> str:
    """Six columns: `?` for an answer with no known price, and a cost too small
    for four decimals as `<.0001`, never as a free-looking `0.0000`."""
    if cost is None:
        return "?" if answered else ""
    if cost == 0:
        return ""
    return f"{cost:.4f}" if cost >= 0.0001 else "<.0001"


def fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def short_estimate(e: Estimate) -> Text:
    """The estimate in two lines of an 80-column screen."""
    if e.cost_usd is None or e.cost_usd_max is None:
        money = f"cost unknown: no price for {e.model} (set one on the Task screen, 1)"
    else:
        money = f"~${e.cost_usd:.4f} (at most ${e.cost_usd_max:.4f})"
    batch = ", batches" if e.batch else ""
    return Text(
        f"Estimate: {e.rows} row(s){batch}: ~{e.input_tokens:,} in / ~{e.output_tokens:,} out "
        f"tokens ({e.output_basis}); {money}"
    )


def progress_text(p: Progress | None, counts: dict, last_run: str = "") -> Text:
    if p is None:
        t = Text(
            f"pending {counts.get('pending', 0)}  done {counts.get('done', 0)}  "
            f"failed {counts.get('failed', 0)}  spent "
            + fmt_spend(counts.get("cost_usd", 0.0), counts.get("cost_unknown", 0))
        )
        if last_run:
            t.append("\n")
            t.append_text(data_text(_short(last_run, 76)))
        return t
    t = Text()
    t.append(f"{p.state} ", style="bold")
    t.append(
        f"{p.done + p.failed}/{p.planned}  done {p.done}  failed {p.failed}  "
        f"in flight {p.in_flight}  retries {p.retries}\n"
    )
    t.append(
        # Paused or stopping, no row is coming: an ETA would be a promise.
        f"{p.rows_per_min:.0f} rows/min  ETA {fmt_eta(p.eta_s if p.state == 'running' else None)}  "
        f"tokens {p.input_tokens:,} in ({p.cache_read_tokens:,} cached) "
        f"{p.output_tokens:,} out  {fmt_spend(p.cost_usd, p.cost_unknown)}"
    )
    return t


def _detail_cost(cost: float | None) -> str:
    return fmt_usd(None) if cost is None else money.usd(cost)


def detail_text(r: dict, attempts: list[dict] | None = None) -> Text:
    """A row's status, its error first (the reason it failed), input, output and
    the history of every request made for it."""
    t = Text()
    t.append(f"Row {r['id']}  {r.get('status')}  attempts {r.get('attempts')}\n", style="bold")
    if r.get("teacher"):
        t.append(
            f"{r['teacher']}  {r.get('input_tokens') or 0} in / {r.get('output_tokens') or 0} out"
            f"  {_detail_cost(r.get('cost_usd'))}  {r.get('latency_s') or 0:.2f}s"
            f"  stop: {r.get('stop_reason')}\n"
        )
    if r.get("error"):
        t.append("\nError\n", style="bold underline")
        append_clipped(t, r["error"], "`distill-tui export DIR --rows FILE` writes it all")
        t.append("\n")
    t.append("\nInput\n", style="bold underline")
    append_clipped(t, r.get("input") or "", SEE_ALL)
    t.append("\n\nOutput\n", style="bold underline")
    append_clipped(t, r.get("output") or "(none yet)", SEE_ALL)
    if attempts:
        t.append("\n\nHistory\n", style="bold underline")
        for a in attempts:
            when = time.strftime("%m-%d %H:%M:%S", time.localtime(a["at"]))
            if a.get("outcome") == "answered":
                line = f"answered by {a.get('teacher')}"
            else:
                line = f"attempt {a.get('attempt')} {a.get('outcome')}: {a.get('error')}"
            t.append(f"{when}  ")
            t.append(visible(line))
            t.append("\n")
    return t


class RowDetail(ModalScreen[None]):
    """A row's full input, output and error; escape closes it."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close", id="queue-detail-close")]
    DEFAULT_CSS = """
    RowDetail { align: center middle; }
    RowDetail > VerticalScroll {
        width: 90%; height: 90%; border: round $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, row: dict, attempts: list[dict] | None = None) -> None:
        super().__init__()
        self.row = row
        self.attempts = attempts or []

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(detail_text(self.row, self.attempts), id="queue-detail")

    def action_close(self) -> None:
        self.dismiss(None)
