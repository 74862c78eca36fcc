"""Paid teacher answers that could not be written to the store (another
process held its write lock too long) are kept here, one JSON line each, and
stored by the next run before it asks for anything: an answer paid for is
never thrown away."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from distill_tui.core import jsonl
from distill_tui.core import queue as q
from distill_tui.core.pricing import Usage
from distill_tui.core.store import Store, sha

NAME = "unsaved-answers.jsonl"


def path_for(store: Store) -> Path:
    return store.path.with_name(NAME)


def keep(store: Store, row_id: int, input_text: str, rec: q.GenerationRecord) -> Path:
    """Append one answer (flushed to disk before returning)."""
    path = path_for(store)
    line = {"row_id": row_id, "input_sha": sha(input_text), **asdict(rec)}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return path


def count(store: Store) -> int:
    path = path_for(store)
    if not path.is_file():
        return 0
    return sum(1 for _, line in jsonl.split(jsonl.read(path)) if line.strip())


def store_kept(store: Store) -> int:
    """Write the kept answers into the store and remove the file; returns how
    many rows they answered. A row answered meanwhile, or whose input changed,
    keeps its current answer. Raises StoreBusy (the file stays) if the lock
    is still held."""
    path = path_for(store)
    if not path.is_file():
        return 0
    stored = 0
    for _, line in jsonl.split(jsonl.read(path)):
        if not line.strip():
            continue
        try:
            d = jsonl.loads(line)
            rec = q.GenerationRecord(
                d["output"],
                d["teacher"],
                d["prompt_hash"],
                Usage(**d["usage"]),
                float(d["cost_usd"]),
                d["latency_s"],
                d["stop_reason"],
            )
            row_id, input_sha = int(d["row_id"]), str(d["input_sha"])
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash while it was written
        row = store.conn.execute(
            "SELECT status, input_sha FROM rows WHERE id = ?", (row_id,)
        ).fetchone()
        if row is None or row["input_sha"] != input_sha or row["status"] == "done":
            continue
        q.complete(store, row_id, rec)
        stored += 1
    path.unlink()
    return stored
