"""Training runs and their metrics in the store.

The trainer writes every report and evaluation here as it happens, so the
Train screen (or another terminal) can follow a run and reopen its history.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.process import pid_alive
from distill_tui.core.store import Store

# Final states; "running" is the only live one.
# "collapsed": a preference run its guard stopped (core/train/collapse.py).
STATUSES = (
    "running",
    "finished",
    "stopped",
    "early_stopped",
    "collapsed",
    "failed",
    "interrupted",
)


@dataclass(frozen=True)
class Metric:
    kind: str  # "train" | "val"
    iter: int
    loss: float | None
    learning_rate: float | None = None
    it_per_sec: float | None = None
    tokens_per_sec: float | None = None
    trained_tokens: int | None = None
    peak_memory_gb: float | None = None
    at: float = 0.0


@dataclass(frozen=True)
class Run:
    id: str
    status: str
    config: dict[str, Any]
    dataset_hash: str | None
    iters_total: int | None
    iter: int
    best_iter: int | None
    best_val_loss: float | None
    error: str | None
    pid: int | None
    created_at: float
    updated_at: float


def new_run_id() -> str:
    """Sortable by start time, unique across terminals started the same second."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def create_run(
    store: Store,
    run_id: str,
    config: dict[str, Any],
    dataset_hash: str | None,
    iters_total: int,
) -> None:
    now = time.time()
    with store.tx() as c:
        c.execute(
            "INSERT INTO runs (id, status, config, dataset_hash, iters_total, pid,"
            " created_at, updated_at) VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
            (run_id, json.dumps(config), dataset_hash, iters_total, os.getpid(), now, now),
        )


_RUN_FIELDS = {"status", "iter", "best_iter", "best_val_loss", "error", "pid", "iters_total"}


def update_run(store: Store, run_id: str, **fields: Any) -> None:
    bad = set(fields) - _RUN_FIELDS
    if bad:
        raise ValueError(f"unknown run fields {sorted(bad)}")
    sets = ", ".join(f"{k} = ?" for k in fields)
    with store.tx() as c:
        c.execute(
            f"UPDATE runs SET {sets}, updated_at = ? WHERE id = ?",
            (*fields.values(), time.time(), run_id),
        )


def record_metric(store: Store, run_id: str, m: Metric) -> None:
    """Insert or replace: a resumed run reports the iterations after its
    checkpoint again, and the new values are the ones that count."""
    with store.tx() as c:
        c.execute(
            "INSERT OR REPLACE INTO metrics (run_id, kind, iter, loss, learning_rate,"
            " it_per_sec, tokens_per_sec, trained_tokens, peak_memory_gb, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                m.kind,
                m.iter,
                m.loss,
                m.learning_rate,
                m.it_per_sec,
                m.tokens_per_sec,
                m.trained_tokens,
                m.peak_memory_gb,
                m.at or time.time(),
            ),
        )
        if m.kind == "train":
            c.execute(
                "UPDATE runs SET iter = MAX(iter, ?), updated_at = ? WHERE id = ?",
                (m.iter, time.time(), run_id),
            )


@dataclass(frozen=True)
class PrefMetric:
    """A preference run's measures at one evaluation: on its validation pairs
    the share whose chosen reward beats the rejected one (counted per pair),
    the mean reward margin and the mean log-probabilities; on the held-out
    rows the task score and the share of answers that did not end; and the
    chosen answers' mean log-probability per token against the SFT start."""

    iter: int
    pair_accuracy: float | None
    reward_margin: float | None
    chosen_logp: float | None
    rejected_logp: float | None
    pairs: int | None = None
    task_score: float | None = None
    run_on: float | None = None
    chosen_drift: float | None = None


_PREF_COLUMNS = (
    "iter, pair_accuracy, reward_margin, chosen_logp, rejected_logp, pairs, task_score,"
    " run_on, chosen_drift"
)


def record_pref_metric(store: Store, run_id: str, m: PrefMetric) -> None:
    values = [getattr(m, k.strip()) for k in _PREF_COLUMNS.split(",")]
    with store.tx() as c:
        c.execute(
            f"INSERT OR REPLACE INTO pref_metrics (run_id, {_PREF_COLUMNS}, at)"
            f" VALUES ({', '.join('?' * (len(values) + 2))})",
            (run_id, *values, time.time()),
        )


def pref_metrics(store: Store, run_id: str) -> list[PrefMetric]:
    return [
        PrefMetric(*r)
        for r in store.conn.execute(
            f"SELECT {_PREF_COLUMNS} FROM pref_metrics WHERE run_id = ? ORDER BY iter",
            (run_id,),
        )
    ]


def forget_after(store: Store, run_id: str, iteration: int) -> None:
    """Drop metrics after a checkpoint before resuming from it: the resumed
    run writes them again."""
    with store.tx() as c:
        c.execute("DELETE FROM metrics WHERE run_id = ? AND iter > ?", (run_id, iteration))
        c.execute("DELETE FROM pref_metrics WHERE run_id = ? AND iter > ?", (run_id, iteration))
        c.execute("UPDATE runs SET iter = ? WHERE id = ?", (iteration, run_id))


def metrics(store: Store, run_id: str, kind: str | None = None) -> list[Metric]:
    sql = (
        "SELECT kind, iter, loss, learning_rate, it_per_sec, tokens_per_sec,"
        " trained_tokens, peak_memory_gb, at FROM metrics WHERE run_id = ?"
    )
    params: tuple[Any, ...] = (run_id,)
    if kind:
        sql += " AND kind = ?"
        params += (kind,)
    sql += " ORDER BY iter, kind"
    return [Metric(*r) for r in store.conn.execute(sql, params)]


def history(store: Store, run_id: str, kind: str) -> list[tuple[int, float]]:
    """(iteration, loss) pairs, the shape core.losscurve reads. NULL losses
    (NaN is stored as NULL by SQLite) come back as NaN."""
    return [
        (m.iter, float("nan") if m.loss is None else m.loss) for m in metrics(store, run_id, kind)
    ]


def _row_to_run(r: Any) -> Run:
    return Run(
        id=r["id"],
        status=r["status"],
        config=json.loads(r["config"]),
        dataset_hash=r["dataset_hash"],
        iters_total=r["iters_total"],
        iter=r["iter"],
        best_iter=r["best_iter"],
        best_val_loss=r["best_val_loss"],
        error=r["error"],
        pid=r["pid"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def get_run(store: Store, run_id: str) -> Run | None:
    r = store.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    return _shown(_row_to_run(r)) if r else None


def list_runs(store: Store) -> list[Run]:
    """Newest first. A 'running' run whose process has died shows as
    'interrupted' (a kill -9 cannot update its own row)."""
    rows = store.conn.execute("SELECT * FROM runs ORDER BY created_at DESC").fetchall()
    return [_shown(_row_to_run(r)) for r in rows]


def _shown(run: Run) -> Run:
    if run.status == "running" and run.pid != os.getpid() and not pid_alive(run.pid):
        return Run(**{**run.__dict__, "status": "interrupted"})
    return run


def latest_run(store: Store) -> Run | None:
    runs = list_runs(store)
    return runs[0] if runs else None


def delete_run(store: Store, root: Path, run_id: str) -> None:
    """Delete a run for good: its folder (adapters, checkpoints, the
    reproducible config) and its rows (the run, its metrics, its evaluations).
    A run still training in some process is refused."""
    run = get_run(store, run_id)
    if run is None:
        raise UserError(f"no run {run_id!r}")
    if run.status == "running":
        raise UserError(f"run {run_id} is still training (process {run.pid}): stop it first")
    folder = paths.run_dir(root, run_id)
    if folder.exists():
        shutil.rmtree(folder)
    with store.tx() as c:
        c.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
        c.execute("DELETE FROM pref_metrics WHERE run_id = ?", (run_id,))
        c.execute("DELETE FROM evals WHERE run_id = ?", (run_id,))
        c.execute("DELETE FROM runs WHERE id = ?", (run_id,))
