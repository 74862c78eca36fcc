"""Round-trip every row with its provenance as JSONL, to keep a dataset in git
or move it between machines.

Each line is one row: its id, input and current output, status, decision and
reason, and the full history: every teacher answer (`generations`: teacher,
prompt hash, tokens, cost, stop reason) and every curation event (edits and
decisions). Importing adds rows whose input the store does not have yet and
skips the others, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill_tui.core.dataset import jsonl, rows_schema
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.store import Store, sha

FORMAT = "distill-tui-rows/1"

_ROW_FIELDS = (
    "input",
    "source",
    "origin",
    "status",
    "attempts",
    "error",
    "output",
    "edited",
    "decision",
    "reason",
    "created_at",
    "updated_at",
)
_GEN_FIELDS = (
    "output",
    "teacher",
    "prompt_hash",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "latency_s",
    "stop_reason",
    "created_at",
)
_EVENT_FIELDS = ("kind", "before", "after", "at")


@dataclass(frozen=True)
class ImportResult:
    added: int
    skipped: int  # already in the store
    problems: list[str] = field(default_factory=list)  # `file:line: reason`, not imported


def _rows(store: Store) -> Iterator[dict[str, Any]]:
    c = store.conn
    gens: dict[int, list[Any]] = {}
    for g in c.execute(f"SELECT id, row_id, {', '.join(_GEN_FIELDS)} FROM generations ORDER BY id"):
        gens.setdefault(g["row_id"], []).append(g)
    events: dict[int, list[Any]] = {}
    for e in c.execute(f"SELECT row_id, {', '.join(_EVENT_FIELDS)} FROM events ORDER BY id"):
        events.setdefault(e["row_id"], []).append(e)
    for r in c.execute(f"SELECT {_ROW_SELECT} FROM rows ORDER BY id"):
        yield _record(r, gens.get(r["id"], []), events.get(r["id"], []))


_ROW_SELECT = f"id, generation_id, {', '.join(_ROW_FIELDS)}"


def _record(r: Any, mine: list[Any], events: list[Any]) -> dict[str, Any]:
    current = next((i for i, g in enumerate(mine) if g["id"] == r["generation_id"]), None)
    return {
        "format": FORMAT,
        # This project's id, for `curate --reject ID`; import-rows gives the
        # row a new id in its own store and ignores this one.
        "id": r["id"],
        **{k: r[k] for k in _ROW_FIELDS},
        "edited": bool(r["edited"]),
        "current_generation": current,
        "generations": [{k: g[k] for k in _GEN_FIELDS} for g in mine],
        "events": [{k: e[k] for k in _EVENT_FIELDS} for e in events],
    }


def _top_id(store: Store) -> int:
    """The highest row id anything in the store names: a damaged page may
    hold the last rows themselves, while their history still names them."""
    top = 0
    for table, col in (("rows", "id"), ("generations", "row_id"), ("events", "row_id")):
        try:
            found = store.conn.execute(f"SELECT MAX({col}) FROM {table}").fetchone()[0]
        except sqlite3.DatabaseError:
            continue
        top = max(top, int(found or 0))
    return top


def _salvaged(store: Store, lost: list[int], missing: list[int]) -> Iterator[dict[str, Any]]:
    """Rows of a damaged store one by one: a row (or its history) on an
    unreadable page is skipped and its id added to `lost`; an id up to the
    highest one that SQLite cannot find at all (a damaged page can hide rows
    without an error) is added to `missing`; the rest is saved."""
    c = store.conn
    for row_id in range(1, _top_id(store) + 1):
        try:
            r = c.execute(f"SELECT {_ROW_SELECT} FROM rows WHERE id = ?", (row_id,)).fetchone()
            if r is None:
                missing.append(row_id)
                continue
            mine = c.execute(
                f"SELECT id, {', '.join(_GEN_FIELDS)} FROM generations WHERE row_id = ?"
                " ORDER BY id",
                (row_id,),
            ).fetchall()
            events = c.execute(
                f"SELECT {', '.join(_EVENT_FIELDS)} FROM events WHERE row_id = ? ORDER BY id",
                (row_id,),
            ).fetchall()
        except sqlite3.DatabaseError:
            lost.append(row_id)
            continue
        yield _record(r, mine, events)


def export_rows(
    store: Store,
    path: Path,
    *,
    overwrite: bool = False,
    protected: tuple[Path, ...] = (),
    lost: list[int] | None = None,
    missing: list[int] | None = None,
) -> int:
    """Write all rows to `path`; returns how many.

    From a damaged store (opened with `allow_damaged`) rows are read one by
    one and those that cannot be read are left out, their ids added to `lost`;
    ids below the highest that are not found are added to `missing` (rows on
    a damaged page SQLite skips, or inputs deleted before any answer: the
    store cannot tell which).

    The file is written under a temporary name beside it and renamed into
    place when complete, so a failure leaves neither half a file nor a stray
    temporary. An existing file is replaced only with `overwrite`; the store's
    own files and `protected` ones (the project file) never are."""
    path = Path(path)
    target = path.resolve()
    own = [store.path, *(store.path.with_name(store.path.name + x) for x in ("-wal", "-shm"))]
    for p in (*own, *protected):
        if target == Path(p).resolve():
            raise UserError(f"{shown(path)}: is one of the project's own files; choose another")
    if path.is_dir():
        raise UserError(f"{shown(path)}: is a folder; give a file name (for example rows.jsonl)")
    if not target.parent.is_dir():
        raise UserError(f"{shown(path.parent)}: no such folder")
    if path.exists() and not overwrite:
        raise UserError(f"{shown(path)}: exists; use --force to replace it")
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(name)
    n = 0
    try:
        with open(fd, "w", encoding="utf-8") as f:
            rows = (
                _salvaged(
                    store, lost if lost is not None else [], missing if missing is not None else []
                )
                if store.damaged
                else None
            )
            for row in rows or _rows(store):
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except sqlite3.DatabaseError as e:
        tmp.unlink(missing_ok=True)
        raise UserError(
            f"{store.path}: could not read every row ({e}); {shown(path)} was not written"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n


def import_rows(store: Store, path: Path) -> ImportResult:
    """Add the rows of an `export_rows` file; rows already here are skipped.

    Every row is checked first: a bad one is reported in `problems` as
    `file:line: reason` and not imported; the good ones are."""
    path = Path(path)
    text = jsonl.read(path)
    records: list[dict[str, Any]] = []
    problems = []
    for no, line in jsonl.split(text):
        if not line.strip():
            continue
        where = f"{shown(path)}:{no}"
        try:
            rec = jsonl.loads(line)
        except ValueError as e:
            problems.append(f"{where}: {e}")
            continue
        if not isinstance(rec, dict) or rec.get("format") != FORMAT:
            if not records and not problems:
                raise UserError(f"{where}: not a distill-tui rows file (format {FORMAT})")
            problems.append(f"{where}: not a row of a distill-tui rows file (format {FORMAT})")
            continue
        if reason := rows_schema.problem(rec):
            problems.append(f"{where}: {reason}")
            continue
        records.append(rec)
    res = _insert(store, records)
    return ImportResult(res.added, res.skipped, problems)


def _insert(store: Store, records: list[dict[str, Any]]) -> ImportResult:
    added = skipped = 0
    now = time.time()
    with store.tx() as c:
        for rec in records:
            row = {k: rec.get(k) for k in _ROW_FIELDS}
            row["status"] = (
                "pending" if row["status"] == "running" else (row["status"] or "pending")
            )
            row["origin"] = row["origin"] or "import"
            row["attempts"] = row["attempts"] or 0
            row["edited"] = int(bool(row["edited"]))
            row["created_at"] = row["created_at"] or now
            row["updated_at"] = row["updated_at"] or now
            # Only an input already here is skipped; any other constraint
            # failure must raise, never drop the row as a "duplicate".
            cur = c.execute(
                f"INSERT INTO rows (input_sha, {', '.join(_ROW_FIELDS)})"
                f" VALUES (?, {', '.join('?' * len(_ROW_FIELDS))})"
                " ON CONFLICT (input_sha) DO NOTHING",
                (sha(str(row["input"])), *(row[k] for k in _ROW_FIELDS)),
            )
            if not cur.rowcount:
                skipped += 1
                continue
            row_id = cur.lastrowid
            gen_ids = []
            for g in rec.get("generations") or []:
                vals = {k: g.get(k) for k in _GEN_FIELDS}
                for k in (
                    "input_tokens",
                    "output_tokens",
                    "cache_read_tokens",
                    "cache_write_tokens",
                    "cost_usd",
                ):
                    vals[k] = vals[k] or 0
                vals["created_at"] = vals["created_at"] or now
                cur = c.execute(
                    f"INSERT INTO generations (row_id, {', '.join(_GEN_FIELDS)})"
                    f" VALUES (?, {', '.join('?' * len(_GEN_FIELDS))})",
                    (row_id, *vals.values()),
                )
                gen_ids.append(cur.lastrowid)
            current = rec.get("current_generation")
            if isinstance(current, int) and 0 <= current < len(gen_ids):
                c.execute(
                    "UPDATE rows SET generation_id = ? WHERE id = ?", (gen_ids[current], row_id)
                )
            c.executemany(
                "INSERT INTO events (row_id, kind, before, after, at) VALUES (?, ?, ?, ?, ?)",
                [
                    (row_id, e.get("kind"), e.get("before"), e.get("after"), e.get("at") or now)
                    for e in rec.get("events") or []
                ],
            )
            added += 1
    return ImportResult(added, skipped)


def id_ranges(ids: list[int]) -> str:
    """`[3, 196, 197, 198, 199, 200]` as `3, 196-200`: every id named, briefly."""
    parts: list[str] = []
    for i in sorted(set(ids)):
        if parts and (last := parts[-1].rpartition("-")[2]) and int(last) == i - 1:
            first = parts[-1].partition("-")[0]
            parts[-1] = f"{first}-{i}"
        else:
            parts.append(str(i))
    return ", ".join(parts)


def salvage_line(lost: list[int], missing: list[int]) -> str:
    """What a salvage from a damaged store left out, every id named."""
    line = f"the store is damaged; {len(lost) + len(missing)} row id(s) not saved"
    if lost:
        line += f"; {len(lost)} could not be read (ids {id_ranges(lost)})"
    if missing:
        line += (
            f"; {len(missing)} SQLite could not find (ids {id_ranges(missing)}): rows on a"
            " damaged page, or inputs deleted before any answer"
        )
    return line
