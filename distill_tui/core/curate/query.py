"""Filtered, sorted, paged reads of rows for the curator.

The Curate screen never holds more than a page: `page()` reads LIMIT/OFFSET
from SQLite, `count()` sizes the scrollbar, `position()` and
`next_unreviewed()` find where a row sits in the current order, so 100,000
rows open as fast as 100.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from distill_tui.core.store import Store

SORTS = ("id", "length", "tokens")
STATUSES = ("pending", "running", "done", "failed")
DECISION_FILTERS = ("accepted", "rejected", "unreviewed")

# How each sort orders rows; id breaks ties so the order is total and stable.
_SORT_SQL = {
    "id": "r.id",
    "length": "COALESCE(length(r.output), -1)",
    "tokens": "COALESCE(k.tokens, -1)",
}


@dataclass(frozen=True)
class Filter:
    """What the curator shows. None means 'any'."""

    status: str | None = None
    decision: str | None = None  # accepted | rejected | unreviewed
    reason: str | None = None
    text: str | None = None  # substring of the input or the output, any case
    min_chars: int | None = None  # output length in characters
    max_chars: int | None = None
    flag: str | None = None  # a check flag, or "any" for rows with any flag
    sort: str = "id"
    descending: bool = False

    def with_(self, **kw: Any) -> Filter:
        return replace(self, **kw)

    def describe(self) -> str:
        parts = []
        if self.status:
            parts.append(self.status)
        if self.decision:
            parts.append(self.decision)
        if self.reason:
            parts.append(f"reason={self.reason}")
        if self.flag:
            parts.append(f"flag={self.flag}")
        if self.text:
            parts.append(f"text~{self.text!r}")
        if self.min_chars is not None or self.max_chars is not None:
            parts.append(f"chars {self.min_chars or 0}..{self.max_chars or ''}")
        if self.sort != "id" or self.descending:
            parts.append(f"by {self.sort}{' desc' if self.descending else ''}")
        return ", ".join(parts) or "all rows"

    def narrows(self) -> bool:
        """Whether this filter hides rows (the sort order hides none)."""
        return self.with_(sort="id", descending=False) != Filter()


def empty_message(flt: Filter, everything: int) -> str:
    """What an empty view says: nothing generated yet, or a filter that
    matches nothing among `everything` rows, and how to clear it."""
    if everything == 0 or not flt.narrows():
        return "No rows here. Generate some on the Queue screen (2)."
    return (
        f"No row matches this filter ({flt.with_(sort='id', descending=False).describe()});"
        f" {everything:,} rows in all. f then ctrl+r clears the filters; v cycles the view."
    )


@dataclass(frozen=True)
class RowView:
    """One row as the curator shows it."""

    id: int
    input: str
    output: str | None
    status: str
    decision: str | None
    reason: str | None
    edited: bool
    tokens: int | None  # student tokens once templated (from checks), if known
    output_tokens: int | None  # the teacher's count for its answer (None once edited)
    flags: tuple[str, ...]
    stop_reason: str | None


_COLUMNS = (
    "r.id, r.input, r.output, r.status, r.decision, r.reason, r.edited,"
    # The teacher's count is of its own answer, not of an edit of it.
    " k.tokens, k.flags, CASE WHEN r.edited THEN NULL ELSE g.output_tokens END, g.stop_reason"
)
_FROM = (
    " FROM rows r LEFT JOIN checks k ON k.row_id = r.id"
    " LEFT JOIN generations g ON g.id = r.generation_id"
)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(flt: Filter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if flt.status:
        clauses.append("r.status = ?")
        params.append(flt.status)
    if flt.decision == "unreviewed":
        clauses.append("r.decision IS NULL AND r.status = 'done'")
    elif flt.decision:
        clauses.append("r.decision = ?")
        params.append(flt.decision)
    if flt.reason:
        clauses.append("r.reason = ?")
        params.append(flt.reason)
    if flt.text:
        like = f"%{_escape_like(flt.text)}%"
        clauses.append("(r.input LIKE ? ESCAPE '\\' OR r.output LIKE ? ESCAPE '\\')")
        params += [like, like]
    if flt.min_chars is not None:
        clauses.append("length(r.output) >= ?")
        params.append(flt.min_chars)
    if flt.max_chars is not None:
        clauses.append("length(r.output) <= ?")
        params.append(flt.max_chars)
    if flt.flag == "any":
        clauses.append("k.flags != ''")
    elif flt.flag:
        clauses.append("(' ' || k.flags || ' ') LIKE ?")
        params.append(f"% {flt.flag} %")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _needs_checks(flt: Filter) -> bool:
    return flt.flag is not None or flt.sort == "tokens"


def _order(flt: Filter) -> str:
    d = " DESC" if flt.descending else ""
    return f" ORDER BY {_SORT_SQL[flt.sort]}{d}, r.id{d}"


def _view(r: Any) -> RowView:
    return RowView(
        id=r[0],
        input=r[1],
        output=r[2],
        status=r[3],
        decision=r[4],
        reason=r[5],
        edited=bool(r[6]),
        tokens=r[7],
        flags=tuple((r[8] or "").split()),
        output_tokens=r[9],
        stop_reason=r[10],
    )


def count(store: Store, flt: Filter) -> int:
    where, params = _where(flt)
    join = " LEFT JOIN checks k ON k.row_id = r.id" if _needs_checks(flt) else ""
    return int(
        store.conn.execute(f"SELECT COUNT(*) FROM rows r{join}{where}", params).fetchone()[0]
    )


def page(store: Store, flt: Filter, offset: int, limit: int) -> list[RowView]:
    where, params = _where(flt)
    sql = f"SELECT {_COLUMNS}{_FROM}{where}{_order(flt)} LIMIT ? OFFSET ?"
    return [_view(r) for r in store.conn.execute(sql, [*params, limit, max(0, offset)])]


def get(store: Store, row_id: int) -> RowView | None:
    r = store.conn.execute(f"SELECT {_COLUMNS}{_FROM} WHERE r.id = ?", (row_id,)).fetchone()
    return None if r is None else _view(r)


def ids(store: Store, flt: Filter) -> list[int]:
    """Every id the filter shows, in order (for bulk actions)."""
    where, params = _where(flt)
    join = " LEFT JOIN checks k ON k.row_id = r.id" if _needs_checks(flt) else ""
    sql = f"SELECT r.id FROM rows r{join}{where}{_order(flt)}"
    return [r[0] for r in store.conn.execute(sql, params)]


def bulk_scope(flt: Filter) -> str:
    """Which of the rows shown a bulk decision changes. On a view of decided
    rows (`v` to accepted or rejected) it is those rows, as asked; anywhere
    else only the unreviewed ones, so decisions made row by row are never
    overturned by surprise."""
    return flt.decision if flt.decision in ("accepted", "rejected") else "unreviewed"


def split(store: Store, flt: Filter) -> dict[str, int]:
    """How the rows the filter shows split: 'unreviewed', 'accepted',
    'rejected', and 'no output' (pending, running or failed rows)."""
    where, params = _where(flt)
    join = " LEFT JOIN checks k ON k.row_id = r.id" if _needs_checks(flt) else ""
    kind = (
        "CASE WHEN r.status != 'done' THEN 'no output' ELSE COALESCE(r.decision, 'unreviewed') END"
    )
    sql = f"SELECT {kind} AS kind, COUNT(*) FROM rows r{join}{where} GROUP BY kind"
    return {k: int(n) for k, n in store.conn.execute(sql, params)}


def bulk_ids(store: Store, flt: Filter) -> list[int]:
    """The ids a bulk decision on this view changes (see `bulk_scope`)."""
    return ids(store, flt.with_(decision=bulk_scope(flt)))


def _after(flt: Filter, row_id: int) -> tuple[str, list[Any]]:
    """SQL for 'comes after `row_id` in this order' (a keyset condition)."""
    key = _SORT_SQL[flt.sort]
    op = "<" if flt.descending else ">"
    sub = f"(SELECT {key} FROM rows r LEFT JOIN checks k ON k.row_id = r.id WHERE r.id = ?)"
    return f"({key} {op} {sub} OR ({key} = {sub} AND r.id {op} ?))", [row_id, row_id, row_id]


def position(store: Store, flt: Filter, row_id: int) -> int | None:
    """Index of `row_id` in the filtered order, or None if the filter hides it."""
    where, params = _where(flt)
    join = " LEFT JOIN checks k ON k.row_id = r.id"
    hit = store.conn.execute(
        f"SELECT 1 FROM rows r{join}{where}{' AND' if where else ' WHERE'} r.id = ?",
        [*params, row_id],
    ).fetchone()
    if hit is None:
        return None
    before = replace(flt, descending=not flt.descending)
    cond, cparams = _after(before, row_id)
    glue = " AND " if where else " WHERE "
    sql = f"SELECT COUNT(*) FROM rows r{join}{where}{glue}{cond}"
    return int(store.conn.execute(sql, [*params, *cparams]).fetchone()[0])


def next_unreviewed(store: Store, flt: Filter, after_id: int | None) -> int | None:
    """The next done, undecided row after `after_id` in the filter's order,
    wrapping round to the start; None when the view has none left."""
    where, params = _where(flt)
    glue = " AND " if where else " WHERE "
    base = f"SELECT r.id{_FROM}{where}{glue}r.status = 'done' AND r.decision IS NULL"
    if after_id is not None:
        cond, cparams = _after(flt, after_id)
        hit = store.conn.execute(
            f"{base} AND {cond}{_order(flt)} LIMIT 1", [*params, *cparams]
        ).fetchone()
        if hit is not None:
            return int(hit[0])
    hit = store.conn.execute(f"{base}{_order(flt)} LIMIT 1", params).fetchone()
    return None if hit is None else int(hit[0])
