"""A damaged, empty or foreign `distill.db` is found on open and never
written into; every command says so in one line (issue 12, items 7 and 13)."""

from __future__ import annotations

import json
import random
import sqlite3

import pytest

from distill_tui.cli import main
from distill_tui.core.project import Workspace
from distill_tui.core.store import Store, StoreBusy, StoreDamaged, StoreError


def _corrupt(path, seed: int = 7) -> None:
    """8 KB of random bytes in the middle of the file, as a bad disk would."""
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 8192] = random.Random(seed).randbytes(8192)
    path.write_bytes(bytes(data))


@pytest.fixture
def damaged(tmp_path):
    ws = Workspace.create(tmp_path / "proj")
    ws.store.add_inputs([(f"input {i} " + "x" * 300, None) for i in range(2000)])
    ws.store.close()  # checkpoints the WAL into the file
    _corrupt(ws.store.path)
    return ws.root


def test_damaged_store_is_refused_by_every_command_and_never_written(damaged, tmp_path, capsys):
    db = damaged / "distill.db"
    before = db.read_bytes()
    corpus = tmp_path / "more.txt"
    corpus.write_text("one more input\n")
    for argv in (
        ["status", damaged],
        ["generate", damaged],
        ["curate", damaged, "--accept-all"],
        ["import", damaged, corpus],
    ):
        assert main([str(a) for a in argv]) == 2, argv
        err = capsys.readouterr().err
        assert "the store is damaged" in err and "import-rows" in err, argv
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert db.read_bytes() == before
    assert (
        not (damaged / "distill.db-wal").exists()
        or (damaged / "distill.db-wal").stat().st_size == 0
    )


def test_damaged_store_opens_read_only_to_salvage(damaged):
    s = Store(damaged / "distill.db", allow_damaged=True)
    assert s.damaged
    with pytest.raises(StoreDamaged):
        s.add_inputs([("new", None)])


def test_empty_store_file_is_not_an_empty_project(tmp_path, capsys):
    ws = Workspace.create(tmp_path / "proj")
    ws.store.add_inputs([("a", None)])
    ws.store.close()
    (ws.root / "distill.db").write_bytes(b"")
    (ws.root / "distill.db-wal").unlink(missing_ok=True)
    assert main(["status", str(ws.root)]) == 2
    assert "0-byte" in capsys.readouterr().err
    assert (ws.root / "distill.db").stat().st_size == 0


def test_init_refuses_an_unrelated_sqlite_file(tmp_path, capsys):
    proj = tmp_path / "proj"
    proj.mkdir()
    other = sqlite3.connect(proj / "distill.db")
    other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    other.commit()
    other.close()
    assert main(["init", str(proj)]) == 2
    err = capsys.readouterr().err
    assert "another program" in err and "invoices" in err
    tables = sqlite3.connect(proj / "distill.db").execute("SELECT name FROM sqlite_master")
    assert [t[0] for t in tables] == ["invoices"]
    assert not (proj / "distill.toml").exists()


def test_write_lock_held_past_the_timeout_is_a_clear_error(tmp_path):
    path = tmp_path / "d.db"
    s = Store(path, busy_timeout_s=0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusy, match="write lock"):
            s.add_inputs([("a", None)])
    finally:
        holder.execute("ROLLBACK")
    assert s.add_inputs([("a", None)]).added == 1
    assert issubclass(StoreBusy, StoreError)


def test_export_rows_salvages_what_a_damaged_store_still_holds(damaged, tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    assert main(["export", str(damaged), "--rows", str(rows)]) == 1
    out, err = capsys.readouterr()
    saved = int(out.split()[1])
    assert 1000 < saved < 2000  # most rows, not the ones on the damaged pages
    assert "row id(s) not saved" in err
    new = tmp_path / "new"
    assert main(["init", str(new)]) == 0
    assert main(["import-rows", str(new), str(rows)]) == 0
    assert Workspace.open(new).store.counts()["inputs"] == saved


def _varint(data, at: int) -> tuple[int, int]:
    value = 0
    for n in range(9):
        b = data[at + n]
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, at + n + 1
    raise AssertionError("varint too long")


def _hide_rows(db, ids: range) -> list[int]:
    """Give the cells of rows `ids` other keys in their b-tree leaf: the file
    fails the integrity check ("out of order") and SQLite no longer finds
    those rows, without any error, as a damaged page did in issue 34 (2).
    Returns the ids hidden: those of `ids` on the page holding the first."""
    data = bytearray(db.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    page = data.index(f"input {ids[0]:04d} ".encode()) // page_size
    header = page * page_size + (100 if page == 0 else 0)
    assert data[header] == 0x0D  # a table leaf page
    hidden = []
    for k in range(int.from_bytes(data[header + 3 : header + 5], "big")):
        ptr = header + 8 + 2 * k
        cell = page * page_size + int.from_bytes(data[ptr : ptr + 2], "big")
        _, at = _varint(data, cell)
        rowid, end = _varint(data, at)
        if rowid in ids:
            assert end - at == 2  # same length: 128..16383
            key = rowid + 8000
            data[at : at + 2] = bytes([0x80 | (key >> 7), key & 0x7F])
            hidden.append(rowid)
    db.write_bytes(bytes(data))
    return sorted(hidden)


def test_salvage_names_and_counts_the_rows_sqlite_cannot_find(tmp_path, capsys):
    ws = Workspace.create(tmp_path / "proj")
    ws.store.add_inputs([(f"input {i:04d} " + "y" * 300, None) for i in range(1, 321)])
    ws.store.close()
    hidden = _hide_rows(ws.root / "distill.db", range(196, 201))
    rows = tmp_path / "rows.jsonl"
    assert main(["export", str(ws.root), "--rows", str(rows)]) == 1
    out, err = capsys.readouterr()
    saved = [json.loads(line)["id"] for line in rows.read_text().splitlines()]
    assert hidden and sorted(set(range(1, 321)) - set(saved)) == hidden
    assert int(out.split()[1]) == len(saved) == 320 - len(hidden)
    n, ids = len(hidden), f"{hidden[0]}-{hidden[-1]}"
    assert f"{n} row id(s) not saved" in err, err
    assert f"{n} SQLite could not find (ids {ids})" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
