"""Every failure of a headless command ends in one clear line and a non-zero
exit, never a traceback, and names from outside are shown escaped (issue 12,
items 13 and 14)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from distill_tui.cli import main
from distill_tui.core import store as store_mod
from distill_tui.core.project import Workspace


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_init_where_distill_toml_is_a_folder(tmp_path, capsys):
    (tmp_path / "proj" / "distill.toml").mkdir(parents=True)
    assert main(["init", str(tmp_path / "proj")]) == 2
    assert "distill.toml: exists and is not a file" in _one_line(capsys.readouterr().err)


def test_a_write_lock_held_before_generate_starts(tmp_path, capsys, monkeypatch):
    ws = Workspace.create(tmp_path / "proj")
    ws.store.add_inputs([("a", None)])
    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT_S", 0.2)
    other = sqlite3.connect(ws.store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert main(["generate", str(ws.root)]) == 2
    finally:
        other.execute("ROLLBACK")
        other.close()
    line = _one_line(capsys.readouterr().err)
    assert "another process held the database's write lock" in line


def test_status_into_a_closed_pipe_is_quiet(tmp_path):
    Workspace.create(tmp_path / "proj")
    proc = subprocess.Popen(
        [sys.executable, "-m", "distill_tui.cli", "status", str(tmp_path / "proj")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # `| head -1` gone before the first line is written
    err = proc.stderr.read()
    assert proc.wait(timeout=60) in (0, 141)
    assert "Traceback" not in err and "BrokenPipe" not in err and err == ""


@pytest.mark.parametrize("command", ["init", "status"])
def test_names_with_escape_sequences_are_shown_escaped(tmp_path, capsys, command):
    proj = tmp_path / "p\x1b]0;pwned\x07\x1b[31m"
    if command == "status":
        proj.mkdir()
    main([command, str(proj)])
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "p\\x1b]0;pwned\\x07\\x1b[31m" in out + err


def test_the_app_refused_for_want_of_a_terminal_leaves_the_collector_on(tmp_path, capsys):
    """The app pauses Python's cycle collector while it starts: a start that
    fails (here, stdin is not a terminal under pytest) must turn it back on,
    or a script calling main() would run on without it."""
    import gc

    assert gc.isenabled()
    assert main([str(tmp_path)]) == 2
    assert "the app needs a terminal" in capsys.readouterr().err
    assert gc.isenabled()
