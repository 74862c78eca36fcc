"""What every screen shares, in a real 80x24 terminal: `?` lists the screen's
keys, the footer fits 80 columns, the command palette and the theme picker
close with escape, escape+digit typed fast still switches screens, keys the
app does not use are harmless, distill.toml edited in an editor is picked up
and not overwritten, and ctrl+q with a training run asks what to do."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from support.store_reads import runs as _runs
from support.terminal import Terminal
from textual.app import App
from textual.binding import Binding

from distill_tui.ui.app import DistillApp
from distill_tui.ui.screens.base import BaseScreen
from distill_tui.ui.screens.chat.screen import ChatScreen
from distill_tui.ui.screens.curate.screen import CurateScreen
from distill_tui.ui.screens.queue.screen import QueueScreen
from distill_tui.ui.screens.task.screen import TaskScreen
from distill_tui.ui.screens.train.screen import TrainScreen

SCREENS = [
    ("1", "task", "Task", TaskScreen, "Name"),
    ("2", "queue", "Queue", QueueScreen, "pending"),
    ("3", "curate", "Curate", CurateScreen, "rows 1-100"),
    ("4", "train", "Train", TrainScreen, "Preset"),
    ("5", "chat", "Chat", ChatScreen, "message the student"),
]
# The first key each screen's footer shows (so a test knows the footer is this screen's).
FOOTER_FIRST = {
    "task": "^o Import inputs",
    "queue": "s Start",
    "curate": "a Accept",
    "train": "^r Train",
    "chat": "^b Compare",
}
HELP = "Keys (dimmed: not available now)"


def _goto(t: Terminal, digit: str, mode: str, marker: str) -> None:
    t.press("escape")  # leave a text field, if the screen put the focus in one
    t.press(digit, binding=f"goto-{mode}")
    t.wait_for(marker, timeout=60)


def _footer(t: Terminal) -> str:
    return t.text().splitlines()[-1]


def _footer_labels() -> set[str]:
    """`key description` as the footer draws each binding of the package."""
    app = App()
    labels = set()
    for cls in (DistillApp, BaseScreen, *(s[3] for s in SCREENS)):
        for b in cls.__dict__.get("BINDINGS", []):
            for key in b.key.split(","):
                labels.add(f"{app.get_key_display(Binding(key, b.action))} {b.description}")
    return labels


def _whole_keys(line: str, labels: set[str]) -> bool:
    parts = _segments(" ".join(line.split()), labels)
    return parts is not None and len(parts) >= 4 and parts[-2:] == ["? Keys", "^q Quit"]


def _segments(line: str, labels: set[str]) -> list[str] | None:
    """Split a footer line into whole labels, or None if one is cut."""
    if not line:
        return []
    for label in sorted(labels, key=len, reverse=True):
        if line == label or line.startswith(label + " "):
            rest = _segments(line[len(label) :].strip(), labels)
            if rest is not None:
                return [label, *rest]
    return None


def test_keys_help_and_footer_on_every_screen(terminal, demo_project):
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    labels = _footer_labels()
    for digit, mode, name, cls, marker in SCREENS:
        _goto(t, digit, mode, marker)

        # The footer: whole labels only, `? Keys` (in a text field: how to
        # leave it) and `^q Quit` always there.
        t.wait_until(lambda m=mode: _footer(t).startswith(FOOTER_FIRST[m]), f"{name}'s footer", 10)
        if "esc Leave field" in _footer(t):
            t.press("escape", binding="chat-leave-field" if mode == "chat" else "leave-field")
        t.wait_until(
            lambda m=mode: (
                _footer(t).startswith(FOOTER_FIRST[m]) and _whole_keys(_footer(t), labels)
            ),
            f"{name}: a footer of whole keys ending in ? Keys ^q Quit",
            10,
        )
        line = _footer(t)
        if mode == "train":  # no run to stop: ^x is drawn greyed, ^r is not
            row = t.screen.buffer[t.screen.lines - 1]
            train, stop = line.index("^r Train") + 3, line.index("^x Stop") + 3
            assert row[train].fg != row[stop].fg, "^x Stop is not greyed"

        # `?`: every key of this screen, with its description, and the app's.
        t.press("question_mark", binding="help")
        t.wait_for(HELP)
        shown = t.flat()
        for b in cls.__dict__["BINDINGS"]:  # unavailable ones too, dimmed
            assert b.description in shown, f"{name}: {b.description!r} ({b.id}) not in ?"
        for text in ("Everywhere", "1 Task", "5 Chat", "? Keys", "^q Quit", "^t Theme"):
            assert text in shown, f"{name}: {text!r} not in ?\n{shown}"
        assert f"{name} screen" in shown
        assert "Copy selected text" not in shown  # Textual's own keys: one summary line
        t.press("escape", binding="help-close")
        t.wait_gone(HELP)
        t.wait_for(marker)
    assert t.quit() == 0


def test_palette_theme_picker_and_escape(terminal, demo_project):
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press("3", binding="goto-curate")
    t.wait_for("rows 1-100")

    t.press("ctrl+p")
    t.wait_for("Search for commands")
    text = t.text()
    assert "Screenshot" not in text and "Maximize" not in text and "Focus Next" not in text
    t.type("expo")  # the screen's actions are commands
    t.wait_for("Export")
    t.press("escape")
    t.wait_gone("Search for commands")

    # The palette's Keys opens the same overlay as `?`; escape closes it.
    t.press("ctrl+p")
    t.wait_for("Search for commands")
    t.type("Keys")
    t.wait_for("Every key of this screen")
    t.press("enter")
    t.wait_for(HELP)
    t.press("question_mark", binding="help-close")  # `?` again closes it too
    t.wait_gone(HELP)

    t.press("ctrl+t", binding="theme")
    t.wait_for("Search for themes")
    t.press("escape")
    t.wait_gone("Search for themes")
    t.wait_for("rows 1-100")
    assert t.quit() == 0


def _write_raw(t: Terminal, data: bytes, binding: str) -> None:
    """Bytes exactly as a terminal sends them in one read (escape+digit typed fast)."""
    os.write(t.fd, data)
    t.pressed.append(binding)
    t.settle()
    t.assert_alive()


def test_escape_then_digit_typed_fast_switches_screens(terminal, demo_project):
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    order = [SCREENS[i] for i in (4, 1, 2, 3, 0)]  # chat first: its message box has the focus
    t.press("5", binding="goto-chat")
    t.wait_for("message the student")
    t.type("hello")
    for digit, mode, _name, _cls, marker in order:
        _write_raw(t, b"\x1b" + digit.encode(), f"esc-{mode}")
        t.wait_for(FOOTER_FIRST["chat"] if mode == "chat" else marker, timeout=60)
    # Back on the chat screen the typed text is still there, and no digit was typed.
    _write_raw(t, b"\x1b5", "esc-chat")
    t.wait_for("hello")
    assert "hello5" not in t.text() and "hello1" not in t.text()
    assert t.quit() == 0


UNUSED_KEYS = [
    b"\x1bOQ",  # F2
    b"\x1b[15~",  # F5
    b"\x1b[24~",  # F12
    b"\x1b[2~",  # insert
    b"\x19",  # ctrl+y
    b"\x1bz",  # alt+z
    b"\x1b[1;5P",  # ctrl+F1
    b"\x00",  # ctrl+space
    b"\x1b[1;3A",  # alt+up
]


def _press_unused(t: Terminal) -> None:
    for data in UNUSED_KEYS:
        os.write(t.fd, data)
        time.sleep(0.05)
    t.settle()
    t.assert_alive()


def test_keys_the_app_does_not_use_are_harmless(terminal, demo_project):
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    for digit, mode, _name, _cls, marker in SCREENS:
        _goto(t, digit, mode, marker)
        t.press("escape", binding="leave-field")
        _press_unused(t)
        t.wait_for(marker)
    assert t.quit() == 0


def test_keys_in_a_folder_without_a_project_are_harmless(terminal, tmp_path):
    t = terminal(str(tmp_path / "new"))
    t.wait_for("ctrl+n", timeout=60)
    t.press("escape")
    for digit in "2345":  # greyed: nothing to show yet
        t.press(digit)
    t.press("question_mark")
    t.wait_for(HELP)
    assert "Create project" in t.flat()
    t.press("escape")
    t.wait_gone(HELP)
    _press_unused(t)
    t.wait_for("Name")
    assert t.quit() == 0


def test_distill_toml_edited_on_disk_is_picked_up_not_overwritten(terminal, demo_project):
    path = demo_project / "distill.toml"
    t = terminal(str(demo_project))
    t.wait_for("Output looks like", timeout=60)

    # An editor changes a setting (and adds a comment) while the app runs.
    text = path.read_text(encoding="utf-8")
    edited = text.replace('name = "support-tickets"', 'name = "tickets-by-hand"')
    edited = re.sub(r"(?m)^max_tokens = \d+$", "max_tokens = 77", edited)
    path.write_text("# tuned by hand\n" + edited, encoding="utf-8")
    t.wait_for("distill.toml reloaded", timeout=10)
    t.wait_for("Name              tickets-by-hand")  # the form shows the file's value

    # An edit in the app afterwards is made to the file's values, not to a stale copy.
    t.press("ctrl+r", binding="task-recommend")  # sets the student model
    t.wait_until(
        lambda: "models/student" not in path.read_text(encoding="utf-8"),
        "the app's edit saved",
        10,
    )
    saved = path.read_text(encoding="utf-8")
    assert 'name = "tickets-by-hand"' in saved and "max_tokens = 77" in saved

    # The Train form follows an edit of [train] too, so a later save keeps it.
    t.press("4", binding="goto-train")
    t.wait_for("Iterations")
    path.write_text(re.sub(r"(?m)^iters = \d+$", "iters = 123", saved), encoding="utf-8")
    t.wait_for("distill.toml reloaded", timeout=10)
    t.wait_for("Iterations         123")
    assert t.quit() == 0


# -- ctrl+q while training runs ---------------------------------------------------


def _ready_to_train(root: Path, iters: int) -> None:
    """Every row accepted and exported (as the demo flow does by keys), and a
    run of `iters` iterations."""
    from distill_tui.core.curate import curation
    from distill_tui.core.dataset.export import export_dataset
    from distill_tui.core.project import Workspace

    ws = Workspace.open(root)
    ids = [r[0] for r in ws.store.conn.execute("SELECT id FROM rows").fetchall()]
    curation.accept(ws.store, ids)
    ws.settings.train.iters = iters
    ws.settings.train.steps_per_eval = ws.settings.train.steps_per_save = 1000
    ws.save_settings()
    export_dataset(ws.root, ws.store, ws.settings)
    ws.store.close()


QUESTION = "Quit while training is running?"


def _asked_to_quit_while_training(terminal, root: Path, iters: int) -> Terminal:  # noqa: ANN001
    """The app on `root`, training `iters` iterations, with ctrl+q just pressed."""
    _ready_to_train(root, iters)
    t = terminal(str(root))
    t.wait_for("support-tickets", timeout=60)
    t.press("4", binding="goto-train")
    t.press("ctrl+r", binding="train-start")
    t.wait_until(
        lambda: any(r.status == "running" and r.iter > 0 for r in _runs(root)),
        "training under way",
        120,
    )
    t.press("ctrl+q", binding="quit")
    t.wait_for(QUESTION)
    return t


def _stopped_and_exited(t: Terminal, root: Path) -> None:
    assert t.wait_exit(120) == 0
    assert "Stopping training" in t.output()  # said while it stopped, however briefly
    t.assert_no_traceback()
    assert _runs(root)[0].status == "stopped"


def test_quit_while_training_cancel_then_stop(terminal, demo_project):
    t = _asked_to_quit_while_training(terminal, demo_project, 100_000)
    t.press("question_mark")  # the dialog's keys
    t.wait_for(HELP)
    assert "Leave it running" in t.text()
    t.press("escape")
    t.wait_gone(HELP)
    t.press("escape", binding="quit-cancel")
    t.wait_gone(QUESTION)
    assert _runs(demo_project)[0].status == "running"  # nothing stopped

    t.press("ctrl+q")
    t.wait_for(QUESTION)
    t.press("s", binding="quit-stop", exits=True)
    _stopped_and_exited(t, demo_project)


def test_quit_twice_while_training_stops_it_and_quits(terminal, demo_project):
    t = _asked_to_quit_while_training(terminal, demo_project, 100_000)
    t.press("ctrl+q", exits=True)  # again: stop it and quit
    _stopped_and_exited(t, demo_project)


def test_quit_while_training_leave_it_running(terminal, demo_project):
    t = _asked_to_quit_while_training(terminal, demo_project, 240)
    t.press("l", binding="quit-leave", settle=False)
    t.wait_for("keeps running without a screen", timeout=20)
    assert t.poll_exit() is None  # the process goes on
    assert _runs(demo_project)[0].status == "running"
    assert t.wait_exit(300) == 0  # and ends by itself when the run has
    assert _runs(demo_project)[0].status == "finished"


def test_quit_dialog_says_when_the_job_ends_under_it(terminal, demo_project):
    # Long enough that the dialog is up before the run ends (40 iterations ran
    # out first at 15 it/s with OpenBLAS), short enough to end under it.
    t = _asked_to_quit_while_training(terminal, demo_project, 200)
    t.wait_for("The job has ended", timeout=120)
    assert _runs(demo_project)[0].status == "finished"
    t.press("ctrl+q", settle=False)
    assert t.wait_exit(30) == 0
