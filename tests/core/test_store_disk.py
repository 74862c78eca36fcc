"""A full disk or a read-only project folder is said as such by every command
that opens the store, never "not a distill-tui store"; and a failed open
leaves no cut-short -shm file behind (issue 17, item 9)."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from support.small_disk import fill, read_only, small_disk, writable

from distill_tui.cli import main
from distill_tui.core import disk
from distill_tui.core.project import Workspace


@pytest.fixture
def proj(tmp_path):
    with small_disk(tmp_path / "disk", 400) as d:
        ws = Workspace.create(d / "proj")
        ws.store.add_inputs([(f"input {i}", None) for i in range(20)])
        ws.store.close()  # checkpoints the WAL: only distill.db and distill.toml stay
        yield ws.root


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_a_full_disk_is_said_and_leaves_no_stray_files(proj, tmp_path, capsys):
    before = sorted(p.name for p in proj.iterdir())
    filler = fill(proj.parent)
    for argv in (["status", proj], ["export", proj], ["generate", proj]):
        assert main([str(a) for a in argv]) == 2, argv
        err = _one_line(capsys)
        assert "disk full (0 bytes free on " in err, err
        assert str(proj.parent) in err and "not a distill-tui store" not in err, err
    assert sorted(p.name for p in proj.iterdir()) == before  # no 3-byte distill.db-shm
    filler.unlink()
    assert main(["status", str(proj)]) == 0
    assert "inputs 20" in capsys.readouterr().out


def test_a_read_only_project_folder_is_said(proj, capsys):
    read_only(proj.parent)
    try:
        for argv in (["status", proj], ["export", proj], ["generate", proj]):
            assert main([str(a) for a in argv]) == 2, argv
            err = _one_line(capsys)
            assert "the project folder is read-only" in err, err
            assert "not a distill-tui store" not in err, err
    finally:
        writable(proj.parent)
    assert main(["status", str(proj)]) == 0


def test_disk_errors_are_explained_from_their_errno(tmp_path):
    # Where no small file system can be mounted: the same words from the errno.
    full = disk.explain_os(OSError(errno.ENOSPC, "No space left on device"), tmp_path)
    assert full is not None and full.startswith("disk full (") and "bytes free on" in full
    ro = disk.explain_os(OSError(errno.EROFS, "Read-only file system"), tmp_path)
    assert ro == f"the project folder is read-only ({tmp_path})"
    foreign = sqlite3.DatabaseError("file is not a database")
    assert disk.explain_sqlite(foreign, tmp_path) is None
