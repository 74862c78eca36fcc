"""Issue 35 items 4, 5 and 6 (Ship) in a real 80x24 terminal: ctrl+n during a
fuse says a fuse is running; the fuse's result stays on the Chat screen's
status line and beside the fused model in the picker until the next action;
the Ship dialog's GGUF refusal is read whole inside the dialog."""

from __future__ import annotations

import re

from ui.test_terminal_ship import _exported_run


def test_fuse_result_stays_and_ship_waits_for_the_fuse(terminal, demo_project):
    _exported_run(demo_project)
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press("5", binding="goto-chat")
    t.wait_for("run-1 best")
    t.press("ctrl+f", binding="chat-fuse")
    t.wait_for("Fuse run-1")
    t.press("ctrl+s", binding="chat-fuse-start")
    t.wait_for("fusing")
    t.press("ctrl+n", binding="chat-ship")
    t.wait_for("A fuse is running: ctrl+n ships the fused model once it has finished")
    status = re.compile(r"last fuse: run-1:best -> fused/run-1-best, probes agree \d+/\d+")
    t.wait_until(lambda: status.search(t.text()), "the fuse's result line", timeout=180)
    # Still there after the toasts have gone (Textual's toasts last a few seconds).
    t.wait_gone("into", timeout=30)
    assert status.search(t.text())
    t.press("ctrl+o", binding="chat-pick")
    t.wait_until(
        lambda: re.search(r"fused model  probes agree \d+/\d+  fused/run-1-best", t.text()),
        "the fused model with its result in the list",
    )
    t.press("escape")
    t.wait_gone("fused model")
    # The next action (a message sent) puts the settings back on the line.
    t.press("ctrl+g", binding="chat-settings")
    t.press("escape")
    t.type("hello")
    t.press("enter")
    t.wait_for("> hello")
    t.wait_until(lambda: not status.search(t.text()), "the result line gone")

    # The GGUF refusal, whole, inside the Ship dialog.
    t.press("ctrl+n")
    t.wait_for("Ship run-1-best")
    t.press("enter", "down", "down", "down", "enter")
    t.wait_for("quant")
    t.press("ctrl+s", binding="chat-ship-start")
    t.wait_for("not shipped:", timeout=60)
    t.settle()
    # Every word of it, up to its last, inside the dialog's frame.
    lines = t.text().splitlines()
    last = max(i for i, line in enumerate(lines) if "ollama)" in line or "GGUF)" in line)
    assert "GGUF)" in lines[last], t.text()
    assert lines[last].count("█") == 2 and "▄▄▄" in lines[last + 1], t.text()
    assert t.quit() == 0


def test_the_picker_keeps_each_entry_on_one_line_in_compare_mode(terminal, demo_project):
    _exported_run(demo_project)
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press("5")
    t.wait_for("run-1 best")
    t.press("ctrl+b", binding="chat-compare")
    t.wait_for("vs base model")
    t.press("ctrl+o")
    t.wait_for("run-1 latest")
    lines = t.text().splitlines()
    at = next(i for i, line in enumerate(lines) if "run-1 latest" in line)
    # The entries, one a line: best, latest, the student alone.
    assert "run-1 best" in lines[at - 1] and "base model" in lines[at + 1], t.text()
    assert t.quit() == 0
