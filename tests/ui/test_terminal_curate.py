"""The Curate screen and its dialogs in a real 80x24 terminal: every key, the
columns a curator reads, what bulk decisions touch, $EDITOR, and an export
with nothing accepted. After each key the app is alive (the harness checks)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from distill_tui.core.store import Store

HINT = "ctrl+s or enter apply · ctrl+r reset · esc cancel"


def _row(root: Path, row_id: int) -> tuple[str | None, str | None, str]:
    """(decision, reason, output) of one row, read from the project's store."""
    s = Store(root / "distill.db")
    try:
        r = s.conn.execute(
            "SELECT decision, reason, output FROM rows WHERE id = ?", (row_id,)
        ).fetchone()
        return r[0], r[1], r[2]
    finally:
        s.close()


def _counts(root: Path) -> dict:
    s = Store(root / "distill.db")
    try:
        return s.counts()
    finally:
        s.close()


def _header(t) -> str:  # noqa: ANN001
    return t.text().splitlines()[2]


def _open(terminal, root: Path, **kwargs):  # noqa: ANN001, ANN003, ANN202
    """The app on the project, on the Curate screen."""
    t = terminal(str(root), **kwargs)
    t.wait_for("support-tickets", timeout=60)
    t.press("3", binding="goto-curate")
    t.wait_for("rows 1-100 of 320")
    return t


def _filter(t, key: str, binding: str | None = None) -> None:  # noqa: ANN001
    """Open the filter dialog and close it with `key`."""
    t.press("f", binding="curate-filter")
    t.wait_for("Filter and sort")
    t.wait_for(HINT)  # the whole hint, at 80 columns (drawn a moment after the title)
    t.press(key, binding=binding)
    t.wait_gone("Filter and sort")


def _editor(tmp_path: Path) -> str:
    """An $EDITOR that appends a line to the file, ending it with a newline as
    vi and nano do."""
    script = tmp_path / "append-editor"
    script.write_text("#!/bin/sh\nprintf ' (edited)\\n' >> \"$1\"\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_curate_keys_columns_and_dialogs(terminal, demo_project, tmp_path):
    t = _open(terminal, demo_project, env={"EDITOR": _editor(tmp_path), "VISUAL": ""})
    assert "tok" in _header(t) and "flags" in _header(t)

    # Export with nothing accepted: a clear message, and the app goes on.
    t.press("x", binding="curate-export")
    t.wait_for("no accepted rows to export")

    # a accepts row 1 and moves on; the columns stay, header included.
    t.press("a", binding="curate-accept")
    t.wait_until(lambda: _row(demo_project, 1)[0] == "accepted", "row 1 accepted")
    assert "tok" in _header(t) and "flags" in _header(t)

    # r: typing goes straight to the tag box; enter takes the typed tag.
    t.press("r", binding="curate-reject")
    t.wait_for("Reject: why?")
    t.type("vague")
    t.press("enter")
    t.wait_until(lambda: _row(demo_project, 2)[:2] == ("rejected", "vague"), "row 2 rejected")
    # enter with nothing typed or chosen asks instead of rejecting with no reason.
    t.press("r")
    t.wait_for("Reject: why?")
    t.press("enter")
    t.wait_for("Type a tag, or choose one")
    assert _row(demo_project, 3)[0] is None
    t.press("down", binding="reason-down")  # 1 wrong
    t.press("down")  # 2 incomplete
    t.press("down")  # 3 format
    t.press("up", binding="reason-up")  # back to 2 incomplete
    t.press("enter")
    t.wait_until(lambda: _row(demo_project, 3)[:2] == ("rejected", "incomplete"), "row 3 rejected")
    t.press("r")
    t.wait_for("Reject: why?")
    t.press("escape", binding="reason-cancel")
    t.wait_gone("Reject: why?")
    assert "tok" in _header(t) and "flags" in _header(t)

    # e edits in a dialog; escape leaves the row as it was.
    before = _row(demo_project, 4)[2]
    t.press("e", binding="curate-edit")
    t.wait_for("Edit row 4")
    t.press("escape", binding="edit-cancel")
    t.wait_gone("Edit row 4")
    t.press("e")
    t.wait_for("Edit row 4")
    t.press("end")
    t.type(" plus")
    t.press("ctrl+s", binding="edit-save")
    t.wait_until(lambda: _row(demo_project, 4)[2] == f"{before} plus", "row 4 edited")
    t.press("d", binding="curate-diff")
    t.wait_for("DIFF teacher")
    t.press("d")
    t.press("u", binding="curate-undo")
    t.wait_for("Undid")
    t.wait_until(lambda: _row(demo_project, 4)[2] == before, "the edit undone")

    # E hands the row to $EDITOR; the newline the editor ends the file with is dropped.
    t.press("E", binding="curate-editor")
    t.wait_until(
        lambda: _row(demo_project, 4)[2] == f"{before} (edited)", "the $EDITOR edit saved", 30
    )
    t.wait_for("rows 1-100 of 320")
    assert "tok" in _header(t) and "flags" in _header(t)

    t.press("n", binding="curate-next")
    t.press("g", binding="curate-regen")
    t.wait_for("back in the queue")

    # The filter dialog: its hint fits, and each of its keys does what it says.
    t.press("f")
    t.wait_for("Filter and sort")
    t.press("tab", binding="filter-tab")
    t.press("shift+tab", binding="filter-backtab")
    t.press("escape")
    t.wait_gone("Filter and sort")
    _filter(t, "escape", "filter-cancel")
    _filter(t, "ctrl+r", "filter-reset")
    _filter(t, "ctrl+s", "filter-apply")

    # / searches; escape leaves the search box.
    t.press("slash", binding="curate-search")
    t.type("invoice")
    t.press("enter")
    t.wait_for("text~'invoice'")
    t.press("slash")
    t.press("escape", binding="curate-esc")
    _filter(t, "ctrl+r")
    t.wait_for("all rows")

    t.press("o", binding="curate-sort")
    t.wait_for("rows 301-320 of 320 · by id desc")  # the selected row stays in view
    t.press("left_square_bracket", binding="curate-pgup")
    t.wait_for("rows 201-300 of")
    t.press("right_square_bracket", binding="curate-pgdn")
    t.wait_for("rows 301-320 of")
    t.press("s", binding="curate-stats")
    t.wait_for("ACCEPTED TOKENS")
    t.press("s")
    t.press("v", binding="curate-view")
    t.wait_for("unreviewed")
    t.press("v", "v", "v")  # accepted, rejected, back to every decision
    t.wait_for("of 320 · by id desc")
    assert t.quit() == 0


def test_checks_flags_are_readable(terminal, demo_project):
    t = _open(terminal, demo_project)
    t.press("c", binding="curate-checks")
    t.wait_for("Checks done", timeout=60)
    # Show only flagged rows: flag -> "any flag".
    t.press("f")
    t.wait_for("Filter and sort")
    t.press("tab", "tab", "tab", "enter")
    t.wait_for("any flag")
    t.press("down", "enter")
    t.press("ctrl+s")
    t.wait_for("flag=any")
    # The table is left of the side panel's border, whatever the widths.
    table = "\n".join(line.split("│")[0] for line in t.text().splitlines()[3:20])
    assert "≈dup" in table or "dup" in table, t.text()
    assert " ne " not in table
    assert "tok" in _header(t) and "flags" in _header(t)
    t.press("1", binding="goto-task")
    t.wait_for("Few-shot examples")
    assert t.quit() == 0


def test_bulk_leaves_decided_rows_alone_and_says_so(terminal, demo_project):
    t = _open(terminal, demo_project)
    t.press("r")
    t.wait_for("Reject: why?")
    t.press("1")  # quick pick: wrong
    t.wait_until(lambda: _row(demo_project, 1)[0] == "rejected", "row 1 rejected")
    t.press("a")
    t.wait_until(lambda: _row(demo_project, 2)[0] == "accepted", "row 2 accepted")

    # On the default view b names exactly the rows it changes and those it leaves.
    t.press("b", binding="curate-bulk")
    t.wait_for("Apply to 318 of the 320 rows shown")
    t.wait_for("accept 318 unreviewed rows; 1 rejected row is left alone")
    assert t.has("reject 318 unreviewed rows; 1 accepted row is left alone")
    t.press("escape", binding="confirm-cancel")
    t.wait_gone("Apply to")
    t.press("b")
    t.wait_for("Apply to 318")
    t.press("a")
    t.wait_for("Accepted 318 rows")
    assert _row(demo_project, 1)[:2] == ("rejected", "wrong")  # left alone
    assert _counts(demo_project)["accepted"] == 319

    # Nothing unreviewed is left: b says how to act on decided rows instead.
    t.press("b")
    t.wait_for("No unreviewed rows here")
    # On the rejected view, b acts on the rejected rows, as asked.
    t.press("v", "v", "v")
    t.wait_for("rejected ·", "· rejected")
    t.press("b")
    t.wait_for("accept 1 rejected row")
    t.press("a")
    t.wait_until(lambda: _row(demo_project, 1)[0] == "accepted", "row 1 accepted on purpose")
    assert os.path.exists(demo_project / "distill.db")
    assert t.quit() == 0


def test_E_opens_a_long_input_too_and_writes_only_what_the_editor_changed(terminal, tmp_path):
    """Issue 17: the pane shows only the start of a long input and says E opens
    it all; E hands the editor the output and that input, and a file the editor
    left alone is a field left alone (an empty output stays none)."""
    from support.curate_helpers import add_answered

    from distill_tui.core.curate import curation as cur
    from distill_tui.core.project import Workspace

    long_input = "".join(f"line {i}\r\nnext {i}\nthen {i}\u2028" for i in range(400))
    ws = Workspace.create(tmp_path / "proj")
    add_answered(ws.store, [(long_input, "short answer")])
    ws.store.add_inputs([("not answered yet", None)])
    ws.store.close()
    calls = tmp_path / "calls"
    script = tmp_path / "append-if-not-empty"
    # Appends to the first file (the output) unless it is empty; logs how many files.
    script.write_text(
        f'#!/bin/sh\necho "$#" >> {calls}\n[ -s "$1" ] && printf \' (edited)\\n\' >> "$1"\nexit 0\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    t = terminal(str(ws.root), env={"EDITOR": str(script), "VISUAL": ""})
    t.wait_for("proj", timeout=60)
    t.press("3", binding="goto-curate")
    t.wait_for("rows 1-2 of 2", timeout=60)
    t.press("E", binding="curate-editor")
    t.wait_until(lambda: _row(ws.root, 1)[2] == "short answer (edited)", "the output edited", 30)
    assert calls.read_text().split() == ["2"]  # the output and the long input
    s = Store(ws.root / "distill.db")
    try:
        stored = s.conn.execute("SELECT input FROM rows WHERE id = 1").fetchone()[0]
        assert stored.encode() == long_input.encode()
        assert [sorted(e["after"]) for e in cur.history(s, 1)] == [
            ["edited", "group", "output", "status"]
        ]
    finally:
        s.close()
    t.wait_for("rows 1-2 of 2")
    t.press("down")
    t.press("E")
    t.wait_until(lambda: len(calls.read_text().split()) == 2, "the editor ran again", 30)
    t.wait_for("rows 1-2 of 2")
    s = Store(ws.root / "distill.db")
    try:
        row = s.conn.execute("SELECT output, status, edited FROM rows WHERE id = 2").fetchone()
        assert tuple(row) == (None, "pending", 0)  # nothing typed: nothing written
    finally:
        s.close()
