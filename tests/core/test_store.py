import sqlite3
import subprocess
import sys
import textwrap

import pytest

from distill_tui.core.store import SCHEMA_VERSION, Store, StoreError


def test_new_store_is_migrated_and_in_wal_mode(tmp_path):
    s = Store(tmp_path / "d.db")
    assert s.version == SCHEMA_VERSION
    assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_identical_inputs_are_stored_once(tmp_path):
    s = Store(tmp_path / "d.db")
    r = s.add_inputs([("a", "f:1"), ("b", None), ("a", "g:2")])
    assert (r.added, r.duplicates) == (2, 1)
    r = s.add_inputs([("b", None)])
    assert (r.added, r.duplicates) == (0, 1)
    assert s.counts()["inputs"] == 2


def test_store_from_a_newer_program_is_refused(tmp_path):
    path = tmp_path / "d.db"
    Store(path).conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(StoreError, match="newer than this program"):
        Store(path)


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "d.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a distill-tui store"):
        Store(path)


def test_second_process_reads_while_one_writes(tmp_path):
    """A headless command writing and the TUI reading see the same state."""
    path = tmp_path / "d.db"
    Store(path)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                from distill_tui.core.store import Store
                s = Store({str(path)!r})
                for i in range(300):
                    s.add_inputs([(f"input {{i}}", None)])
                """
            ),
        ]
    )
    reader = Store(path)
    seen = []
    while writer.poll() is None:
        seen.append(reader.counts()["inputs"])  # never raises "database is locked"
    assert writer.wait() == 0
    assert seen == sorted(seen)
    assert reader.counts()["inputs"] == 300


def test_counts_sum_generations_and_decisions(tmp_path):
    s = Store(tmp_path / "d.db")
    s.add_inputs([("a", None), ("b", None), ("c", None)])
    with s.tx() as c:
        c.execute(
            "INSERT INTO generations (row_id, output, teacher, prompt_hash, input_tokens,"
            " output_tokens, cache_read_tokens, cost_usd, created_at)"
            " VALUES (1, 'x', 't', 'h', 100, 20, 80, 0.5, 0), (1, 'y', 't', 'h', 10, 2, 0, 0.25, 0)"
        )
        c.execute("UPDATE rows SET status = 'done' WHERE id IN (1, 2)")
        c.execute("UPDATE rows SET decision = 'accepted' WHERE id = 1")
        c.execute("UPDATE rows SET status = 'failed' WHERE id = 3")
    counts = s.counts()
    assert counts["done"] == 2 and counts["failed"] == 1 and counts["pending"] == 0
    assert (counts["accepted"], counts["rejected"], counts["unreviewed"]) == (1, 0, 1)
    assert (counts["input_tokens"], counts["output_tokens"]) == (110, 22)
    assert counts["cost_usd"] == pytest.approx(0.75)


def test_rejected_status_values_are_refused(tmp_path):
    s = Store(tmp_path / "d.db")
    s.add_inputs([("a", None)])
    with pytest.raises(sqlite3.IntegrityError):
        with s.tx() as c:
            c.execute("UPDATE rows SET status = 'weird'")
