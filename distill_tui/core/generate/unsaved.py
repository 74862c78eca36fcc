"""Paid teacher answers that could not be written to the store (another
process held its write lock too long, the disk is full) are kept here, one
JSON line each, and stored by the next run before it asks for anything: an
answer paid for is never thrown away.

The file is opened, and space for every answer that can be in flight is
written to it, before the first request (`Keeper`): when the store fails
because the disk filled, the answers already paid for still have a place.
The unused space is zero bytes that readers skip, and is given back when
the run ends.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from distill_tui.core import disk
from distill_tui.core.dataset import jsonl
from distill_tui.core.errors import UserError
from distill_tui.core.generate import queue as q
from distill_tui.core.generate.pricing import Usage
from distill_tui.core.store import Store, sha

NAME = "unsaved-answers.jsonl"

# Room kept per answer: a token is rarely more than 8 bytes of JSON (escapes,
# non-ASCII), plus the record's other fields.
BYTES_PER_TOKEN = 8
RECORD_OVERHEAD = 1024


def path_for(store: Store) -> Path:
    return store.path.with_name(NAME)


def reserve_for(answers: int, max_tokens: int) -> int:
    """Bytes to set aside for `answers` answers of up to `max_tokens` tokens."""
    return max(answers, 1) * (max_tokens * BYTES_PER_TOKEN + RECORD_OVERHEAD)


class Keeper:
    """The unsaved-answers file of one run, with `reserve` bytes already on
    disk. Raises UserError (nothing requested yet) when they cannot be
    written: a run that could not keep what it pays for does not start."""

    def __init__(self, store: Store, reserve: int) -> None:
        self.path = path_for(store)
        self.kept = 0
        created = not self.path.exists()
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise self._refused(e) from None
        try:
            with open(self.path, "rb") as f:
                self._pos = len(f.read().rstrip(b"\0"))  # answers a killed run kept
            zeros = b"\0" * 65536
            at, end = self._pos, self._pos + reserve
            while at < end:
                at += os.pwrite(self._fd, zeros[: end - at], at)
            os.fsync(self._fd)
            _sync_dir(self.path.parent)
        except OSError as e:
            os.close(self._fd)
            if created:
                with contextlib.suppress(OSError):
                    self.path.unlink()
            raise self._refused(e) from None

    def _refused(self, e: OSError) -> UserError:
        why = disk.explain_os(e, self.path.parent) or f"{self.path}: {e.strerror or e}"
        return UserError(
            f"not started: {why}; a run needs room to keep the answers it pays for"
            f" if the store cannot take them ({NAME}); nothing was requested"
        )

    def keep(self, row_id: int, input_text: str, rec: q.GenerationRecord) -> None:
        """Write one answer and flush it to disk; raises OSError when even
        this file cannot take it (the answer is then lost)."""
        line = {"row_id": row_id, "input_sha": sha(input_text), **asdict(rec)}
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        done = 0
        while done < len(data):
            done += os.pwrite(self._fd, data[done:], self._pos + done)
        os.fsync(self._fd)
        self._pos += len(data)
        self.kept += 1

    def close(self) -> None:
        """Give back the unused space; the file goes when nothing was kept."""
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self._pos)
        os.close(self._fd)
        if self._pos == 0:
            with contextlib.suppress(OSError):
                self.path.unlink()


def _sync_dir(folder: Path) -> None:
    """So that the file itself, not only its bytes, survives a power cut."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _lines(path: Path) -> list[str]:
    # Zero bytes are space reserved by a run that was killed before it ended.
    return [s for _, line in jsonl.split(jsonl.read(path)) if (s := line.strip("\0")).strip()]


def count(store: Store) -> int:
    path = path_for(store)
    if not path.is_file():
        return 0
    return len(_lines(path))


def store_kept(store: Store) -> int:
    """Write the kept answers into the store and remove the file; returns how
    many rows they answered. A row answered meanwhile, or whose input changed,
    keeps its current answer. Raises StoreBusy (the file stays) if the lock
    is still held."""
    path = path_for(store)
    if not path.is_file():
        return 0
    stored = 0
    for line in _lines(path):
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
