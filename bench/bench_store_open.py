"""Opening a large store: what SQLite's integrity check (`PRAGMA quick_check`,
run on every open so a damaged store is never written into) costs.

Builds a 100,000-row store with 500-byte inputs, then times `Store(path)`
against a bare `sqlite3.connect` that reads one value.

    uv run python bench/bench_store_open.py [--rows 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from distill_tui.core.store import Store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "distill.db"
        s = Store(path)
        s.add_inputs([(f"input {i} " + "lorem ipsum " * 40, None) for i in range(args.rows)])
        s.close()
        bare, checked = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            c = sqlite3.connect(path)
            c.execute("PRAGMA user_version").fetchone()
            c.close()
            bare.append(time.perf_counter() - t)
            t = time.perf_counter()
            Store(path).close()
            checked.append(time.perf_counter() - t)
        mb = path.stat().st_size / 1e6
        bare_ms, checked_ms = 1000 * statistics.median(bare), 1000 * statistics.median(checked)
        print(
            f"{args.rows:,} rows, {mb:.0f} MB: bare connect {bare_ms:.1f} ms,"
            f" Store() with quick_check {checked_ms:.0f} ms (median of {args.runs})"
        )


if __name__ == "__main__":
    main()
