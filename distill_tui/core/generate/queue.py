"""Store queries of the generation queue.

A row moves pending -> running -> done | failed. Every answer is written as a
`generations` row and the row is marked done in the same transaction, the
moment it arrives, so a killed process loses only the requests in flight: the
next run puts rows left `running` back to pending (`reset_stale`) and never
asks again for a row that is done. Rows held by an open Message Batch stay
`running` across restarts; the batch runner owns them.

Token counts follow `pricing.Usage`: `input_tokens` is every prompt token,
cache reads and writes included and also counted on their own.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from distill_tui.core.errors import UserError
from distill_tui.core.generate import side_costs
from distill_tui.core.generate.pricing import Usage
from distill_tui.core.process import pid_alive
from distill_tui.core.store import Store

LOCK_KEY = "queue.runner"
_OPEN_BATCH = "status NOT IN ('ended', 'canceled', 'expired', 'failed')"


class QueueBusy(UserError):
    """Another process (or screen) is already generating for this project."""


@dataclass(frozen=True)
class Claimed:
    id: int
    input: str
    attempts: int


@dataclass(frozen=True)
class GenerationRecord:
    output: str
    teacher: str
    prompt_hash: str
    usage: Usage
    cost_usd: float | None  # None: the model's price is unknown
    latency_s: float | None
    stop_reason: str | None


# -- runner lock ----------------------------------------------------------------


def acquire_runner(store: Store, who: str = "generate") -> str:
    """Take the project's queue lock, or raise QueueBusy naming the holder.

    A lock whose process is gone (killed, crashed) is taken over: that is the
    resume path after kill -9."""
    token = uuid.uuid4().hex
    me = {"token": token, "pid": os.getpid(), "host": socket.gethostname(), "who": who}
    with store.tx() as c:
        row = c.execute("SELECT value FROM meta WHERE key = ?", (LOCK_KEY,)).fetchone()
        if row:
            held = json.loads(row[0])
            same_host = held.get("host") == me["host"]
            if not same_host or pid_alive(int(held.get("pid", 0))):
                where = "this process" if held.get("pid") == me["pid"] else f"pid {held['pid']}"
                raise QueueBusy(
                    f"generation is already running for this project ({held.get('who')}, "
                    f"{where}); stop it first"
                )
        c.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (LOCK_KEY, json.dumps(me))
        )
    return token


def release_runner(store: Store, token: str) -> None:
    with store.tx() as c:
        row = c.execute("SELECT value FROM meta WHERE key = ?", (LOCK_KEY,)).fetchone()
        if row and json.loads(row[0]).get("token") == token:
            c.execute("DELETE FROM meta WHERE key = ?", (LOCK_KEY,))


# -- state transitions --------------------------------------------------------------
def batch_row_ids(store: Store) -> set[int]:
    """Rows held by Message Batches that have not ended."""
    ids: set[int] = set()
    for (raw,) in store.conn.execute(f"SELECT row_ids FROM batches WHERE {_OPEN_BATCH}"):
        ids.update(json.loads(raw))
    return ids


def reset_stale(store: Store) -> int:
    """Put rows left `running` by a dead run back to pending (call with the
    runner lock held). Rows in an open batch keep running."""
    keep = batch_row_ids(store)
    now = time.time()
    with store.tx() as c:
        running = [r[0] for r in c.execute("SELECT id FROM rows WHERE status = 'running'")]
        stale = [i for i in running if i not in keep]
        c.executemany(
            "UPDATE rows SET status = 'pending', updated_at = ? WHERE id = ?",
            [(now, i) for i in stale],
        )
    return len(stale)


def claim(store: Store, n: int = 1) -> list[Claimed]:
    """Move up to `n` pending rows (oldest first) to running, counting an attempt."""
    now = time.time()
    with store.tx() as c:
        rows = c.execute(
            "SELECT id, input, attempts FROM rows WHERE status = 'pending' ORDER BY id LIMIT ?",
            (n,),
        ).fetchall()
        c.executemany(
            "UPDATE rows SET status = 'running', attempts = attempts + 1, error = NULL,"
            " updated_at = ? WHERE id = ?",
            [(now, r["id"]) for r in rows],
        )
    return [Claimed(r["id"], r["input"], r["attempts"] + 1) for r in rows]


# Every attempt that did not bring an answer is an `events` row of this kind
# (answers are in `generations`), so a row's detail shows its whole history.
ATTEMPT_EVENT = "attempt"


def _attempt_failed(c: sqlite3.Connection, row_id: int, error: str, outcome: str) -> None:
    c.execute(
        "INSERT INTO events (row_id, kind, before, after, at)"
        " SELECT id, ?, NULL, json_object('attempt', attempts, 'error', ?, 'outcome', ?), ?"
        " FROM rows WHERE id = ? AND status = 'running'",
        (ATTEMPT_EVENT, error, outcome, time.time(), row_id),
    )


def note_retry(store: Store, row_id: int, error: str) -> None:
    """A transient failure: the row stays running, one more attempt is counted
    and the error is shown until the retry succeeds."""
    with store.tx() as c:
        _attempt_failed(c, row_id, error, "retried")
        c.execute(
            "UPDATE rows SET attempts = attempts + 1, error = ?, updated_at = ? WHERE id = ?",
            (error, time.time(), row_id),
        )


def complete(store: Store, row_id: int, g: GenerationRecord) -> int:
    """Store an answer and mark the row done, in one transaction. A regenerated
    row's earlier answers stay in `generations`; its curation decision is
    cleared because the new output has not been reviewed."""
    now = time.time()
    u = g.usage
    with store.tx() as c:
        cur = c.execute(
            "INSERT INTO generations (row_id, output, teacher, prompt_hash, input_tokens,"
            " output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, latency_s,"
            " stop_reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row_id,
                g.output,
                g.teacher,
                g.prompt_hash,
                u.input_tokens,
                u.output_tokens,
                u.cache_read_tokens,
                u.cache_write_tokens,
                g.cost_usd,
                g.latency_s,
                g.stop_reason,
                now,
            ),
        )
        gen_id = int(cur.lastrowid or 0)
        c.execute(
            "UPDATE rows SET status = 'done', output = ?, generation_id = ?, error = NULL,"
            " edited = 0, decision = NULL, reason = NULL, updated_at = ? WHERE id = ?",
            (g.output, gen_id, now, row_id),
        )
    return gen_id


def fail(store: Store, row_id: int, error: str) -> None:
    with store.tx() as c:
        _attempt_failed(c, row_id, error, "failed")
        c.execute(
            "UPDATE rows SET status = 'failed', error = ?, updated_at = ? WHERE id = ?",
            (error, time.time(), row_id),
        )


def release(store: Store, row_ids: Iterable[int], error: str | None = None) -> None:
    """Give claimed rows back to pending (the run stopped before they finished)."""
    now = time.time()
    with store.tx() as c:
        if error:
            for i in row_ids:
                _attempt_failed(c, i, error, "released")
        c.executemany(
            "UPDATE rows SET status = 'pending', error = ?, updated_at = ?"
            " WHERE id = ? AND status = 'running'",
            [(error, now, i) for i in row_ids],
        )


def retry_failed(store: Store) -> int:
    """Failed rows go back to pending; their attempt count is kept."""
    with store.tx() as c:
        cur = c.execute(
            "UPDATE rows SET status = 'pending', updated_at = ? WHERE status = 'failed'",
            (time.time(),),
        )
    return cur.rowcount


def regenerate(store: Store, row_ids: Sequence[int]) -> int:
    """Queue done or failed rows again. Their current output stays visible
    until the new answer arrives, and every earlier answer stays in
    `generations` (see `history`)."""
    now = time.time()
    with store.tx() as c:
        n = 0
        for i in row_ids:
            n += c.execute(
                "UPDATE rows SET status = 'pending', updated_at = ?"
                " WHERE id = ? AND status IN ('done', 'failed')",
                (now, i),
            ).rowcount
    return n


# -- reads ----------------------------------------------------------------------------
def pending_count(store: Store) -> int:
    return int(
        store.conn.execute("SELECT COUNT(*) FROM rows WHERE status = 'pending'").fetchone()[0]
    )


def pending_inputs(store: Store, limit: int | None = None) -> list[str]:
    sql = "SELECT input FROM rows WHERE status = 'pending' ORDER BY id"
    args: tuple[int, ...] = ()
    if limit is not None:
        sql += " LIMIT ?"
        args = (limit,)
    return [r[0] for r in store.conn.execute(sql, args)]


def spent_usd(store: Store) -> float:
    """Everything paid to teachers in this project: every generation,
    regenerations included, and the requests that answer no row (similar
    inputs, judging), so the budget cap counts them too. Answers with no known
    price add nothing here; `Store.counts()["cost_unknown"]` counts them."""
    generations = store.conn.execute(
        "SELECT COALESCE(SUM(cost_usd), 0) FROM generations"
    ).fetchone()[0]
    return float(generations) + side_costs.total_usd(store)


def mean_output_tokens(store: Store) -> float | None:
    v = store.conn.execute(
        "SELECT AVG(output_tokens) FROM generations WHERE output_tokens > 0"
    ).fetchone()[0]
    return float(v) if v is not None else None


ROW_COLUMNS = (
    "r.id, r.status, r.attempts, r.error, r.input, r.output, r.updated_at,"
    " g.input_tokens, g.output_tokens, g.cache_read_tokens, g.cost_usd, g.latency_s,"
    " g.teacher, g.stop_reason"
)


def rows_page(store: Store, offset: int, limit: int) -> list[dict]:
    """One page of the queue table, in id order, with each row's latest answer."""
    cur = store.conn.execute(
        f"SELECT {ROW_COLUMNS} FROM rows r LEFT JOIN generations g ON g.id = r.generation_id"
        " ORDER BY r.id LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [dict(r) for r in cur]


def row_detail(store: Store, row_id: int) -> dict | None:
    r = store.conn.execute(
        f"SELECT {ROW_COLUMNS} FROM rows r LEFT JOIN generations g ON g.id = r.generation_id"
        " WHERE r.id = ?",
        (row_id,),
    ).fetchone()
    return dict(r) if r else None


def history(store: Store, row_id: int) -> list[dict]:
    """Every answer a row has had, oldest first."""
    cur = store.conn.execute("SELECT * FROM generations WHERE row_id = ? ORDER BY id", (row_id,))
    return [dict(r) for r in cur]


def attempts(store: Store, row_id: int) -> list[dict]:
    """Everything that happened to a row's requests, oldest first: each failed
    attempt (`attempt`, `error`, `outcome`: retried, failed or released when a
    run stopped) and each answer (`outcome` "answered", with the teacher)."""
    out: list[dict] = []
    for e in store.conn.execute(
        "SELECT after, at FROM events WHERE row_id = ? AND kind = ? ORDER BY id",
        (row_id, ATTEMPT_EVENT),
    ):
        data = json.loads(e["after"] or "{}")
        out.append({**data, "at": e["at"]})
    for g in history(store, row_id):
        out.append({"outcome": "answered", "teacher": g["teacher"], "at": g["created_at"]})
    return sorted(out, key=lambda a: a["at"])


def row_count(store: Store) -> int:
    return int(store.conn.execute("SELECT COUNT(*) FROM rows").fetchone()[0])
