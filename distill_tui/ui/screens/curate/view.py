"""How the Curate screen draws rows, the detail pane and the stats panel.

Model and file text is data: it only ever enters `rich.text.Text` as plain
strings (never markup), and control characters such as ANSI escapes are shown
as visible symbols instead of being sent to the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.theme import Theme

from distill_tui.core.curate import curation as cur
from distill_tui.core.curate import query as cq
from distill_tui.core.curate.stats import Stats, histogram, percentile, size_verdicts
from distill_tui.ui.text import PREVIEW_BYTES, PREVIEW_LINES, append_clipped, clip, visible
from distill_tui.ui.widgets.paged_table import PagedTable

# What the detail pane says under a text it shows only the start of.
SEE_ALL = "E opens it all in $EDITOR"

# Enough of a text for the widest input/output column; the table crops the
# rest with an ellipsis at whatever width the terminal gives the column.
_PREVIEW = 200

# How a flag reads in the narrow flags column (the detail pane names it in full).
SHORT_FLAGS = {
    "duplicate": "dup",
    "near-duplicate": "≈dup",
    "empty": "empty",
    "truncated": "trunc",
    "too-long": "long",
    "bad-json": "json",
}


def preview(text: str | None, width: int = _PREVIEW) -> Text:
    if text is None:
        return Text("")
    flat = visible(" ".join(text[: width * 4].split()))
    if len(flat) > width:
        flat = flat[: width - 1] + "…"
    return Text(flat, no_wrap=True, overflow="ellipsis")


def state_icon(row: cq.RowView, theme: Theme) -> Text:
    if row.status != "done":
        icon = {"pending": "…", "running": "⟳", "failed": "!"}.get(row.status, "?")
        color = theme.error if row.status == "failed" else theme.secondary
        return Text(icon, style=color or "")
    if row.decision == "accepted":
        return Text("✓", style=theme.success or "")
    if row.decision == "rejected":
        return Text("✗", style=theme.error or "")
    return Text("·")


def row_cells(row: cq.RowView, theme: Theme) -> list[Text]:
    flags = ",".join(SHORT_FLAGS.get(f, f) for f in row.flags)
    # The student's count once checked (c), else the teacher's; an imported
    # answer has no count (the store keeps 0), which is not "0 tokens"; an
    # edited one is not counted until c checks it again ("?").
    tokens = row.tokens if row.tokens is not None else (row.output_tokens or None)
    tok = "?" if tokens is None and row.edited else "" if tokens is None else str(tokens)
    out = preview(row.output)
    if row.edited:
        out = Text.assemble(("✎", theme.warning or ""), out, no_wrap=True, overflow="ellipsis")
    return [
        Text.assemble(state_icon(row, theme), " ", str(row.id), no_wrap=True),
        preview(row.input),
        out,
        Text(tok),
        Text(flags, style=theme.warning or "", no_wrap=True, overflow="ellipsis"),
    ]


def detail_text(row: cq.RowView, original: str | None, diff: bool = False) -> Text:
    head = [f"row {row.id} · {row.status}"]
    if row.decision:
        head.append(row.decision + (f" ({row.reason})" if row.reason else ""))
    elif row.status == "done":
        head.append("unreviewed")
    if row.edited:
        head.append("edited")
    if row.tokens is not None:
        head.append(f"{row.tokens} tokens templated")
    if row.stop_reason:
        head.append(f"stop: {row.stop_reason}")
    t = Text(" · ".join(head), style="bold")
    if row.flags:
        t.append("\nflags: " + ", ".join(row.flags), style="italic")
    t.append("\n\nINPUT\n", style="bold underline")
    append_clipped(t, row.input, SEE_ALL)
    if diff and original is not None:
        t.append("\n\nDIFF teacher → edited\n", style="bold underline")
        lines = cur.diff_lines(original, row.output or "") or ["(no difference)"]
        used = 0
        for i, line in enumerate(lines):
            if used >= PREVIEW_BYTES or i >= PREVIEW_LINES:
                t.append(f"… {len(lines) - i:,} more diff lines; {SEE_ALL}", style="italic")
                break
            shown, more = clip(line, PREVIEW_BYTES - used)
            style = "bold" if line.startswith("+") else "dim" if line.startswith("-") else ""
            t.append(visible(shown) + ("…" if more else "") + "\n", style=style)
            used += len(line.encode()) + 1
        return t
    t.append("\n\nOUTPUT", style="bold underline")
    if row.edited:
        t.append("  (edited; d shows the diff)", style="italic")
    t.append("\n")
    if row.output is None:
        t.append("(no output yet)")
    else:
        append_clipped(t, row.output, SEE_ALL)
    return t


def stats_text(s: Stats, bar_width: int = 16) -> Text:
    c = s.counts
    t = Text("ROWS\n", style="bold underline")
    t.append(
        f"{c.get('inputs', 0):,} in · {c.get('pending', 0):,} pending · {c.get('running', 0):,}"
        f" running · {c.get('done', 0):,} done · {c.get('failed', 0):,} failed\n"
        f"{c.get('accepted', 0):,} accepted · {c.get('rejected', 0):,} rejected ·"
        f" {c.get('unreviewed', 0):,} unreviewed · {c.get('flagged', 0):,} flagged\n\n"
    )
    toks = s.accepted_tokens
    label = "ACCEPTED TOKENS" + (" (estimated: press c to count)" if s.tokens_estimated else "")
    t.append(label + "\n", style="bold underline")
    if toks:
        t.append(
            f"median {percentile(toks, 0.5):,} · p95 {percentile(toks, 0.95):,}"
            f" · max {max(toks):,} · total {sum(toks):,}\n"
        )
        bins = histogram(toks)
        most = max(n for _, _, n in bins) or 1
        for lo, hi, n in bins:
            bar = "█" * max(1 if n else 0, round(bar_width * n / most))
            t.append(f"{lo:>6}-{hi:<6} {bar:<{bar_width}} {n:,}\n")
    else:
        t.append("no accepted rows yet\n")
    t.append("\nHOW MUCH DATA THE TASK NEEDS (guide)\n", style="bold underline")
    for kind, rng, verdict in size_verdicts(int(c.get("accepted", 0))):
        t.append(f"{kind:<22} {rng:>12}  {verdict}\n")
    return t


# -- messages -------------------------------------------------------------------------
@dataclass
class PageLoaded(Message):
    rows: list[cq.RowView]
    offset: int
    total: int
    select_id: int | None
    cursor: int
    empty: str = ""  # what an empty page says (why, and how to clear the filter)


@dataclass
class StatsComputed(Message):
    stats: Stats


@dataclass
class ChecksFinished(Message):
    summary: str


# Columns: (key, header, width or None when computed).
_COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("row", "  id", None),  # state icon and id
    ("input", "input", None),
    ("output", "output", None),
    ("tok", "tok", 4),
    ("flags", "flags", 5),  # one short flag; the detail pane names them all
)
_SCROLLBAR = 1  # CurateTable's vertical scrollbar (its CSS)


def column_widths(table_width: int, id_width: int) -> list[int]:
    """Every column a fixed width that fits `table_width` (the scrollbar and
    each cell's padding included): id, tok and flags always show; input and
    output share the rest, so they grow with the terminal."""
    row = 2 + id_width
    fixed = row + sum(w for _, _, w in _COLUMNS if w)
    free = max(table_width - _SCROLLBAR - 2 * len(_COLUMNS) - fixed, 12)
    output = free // 2
    return [row, free - output, output, 4, 5]


class CurateTable(PagedTable):
    """One page of rows; the screen loads the next at the table's edges. Its
    columns have fixed widths recomputed when the table is resized, so a
    changed cell can never push the tok and flags columns out of sight."""

    DEFAULT_CSS = f"CurateTable {{ scrollbar-size-vertical: {_SCROLLBAR}; }}"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._widths: list[int] = []
        self._id_width = 3
        self._set_columns(column_widths(52, self._id_width))

    def _set_columns(self, widths: list[int]) -> None:
        self._widths = widths
        for (key, header, _), width in zip(_COLUMNS, widths, strict=True):
            self.add_column(header, width=width, key=key)

    def fit(self, max_id: int) -> None:
        """Make room for the widest id of the page about to be shown."""
        self._id_width = max(2, len(str(max_id)))
        self._relayout()

    def on_resize(self) -> None:
        self._relayout()

    def _relayout(self) -> None:
        if not self.size.width:
            return
        widths = column_widths(self.size.width, self._id_width)
        if widths == self._widths:
            return
        rows = [self.get_row_at(i) for i in range(self.row_count)]
        cursor = self.cursor_row
        self.clear(columns=True)
        self._set_columns(widths)
        self.add_rows(rows)
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1), animate=False)
