"""The Chat screen in a real 80x24 terminal: every key of the screen, its
settings and fuse dialogs and its evaluation view, on the demo project with a
run of the tiny student. The picker lists runs with their status and best
validation loss and remembers the choice; replies never show an end token;
after the settings dialog the next message typed is sent; the evaluation
header names the checkpoint picked; a teacher that is down is named as the
reason on the view that asked it."""

from __future__ import annotations

import time

from support.adapter_helpers import make_run
from support.llm_server import closed_port
from support.terminal import Terminal

from distill_tui.core.curate import curation
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.evaluate import evals
from distill_tui.core.project import Workspace
from distill_tui.core.store import Store
from distill_tui.core.train import runs as runs_db
from distill_tui.demo.tiny import SPECIAL_TOKENS


def _project(root, *, export: bool = False) -> None:  # noqa: ANN001
    """The demo project with run-1 (best and latest checkpoints), finished,
    best validation loss 1.234; with `export`, every row accepted and split."""
    ws = Workspace.open(root)
    make_run(ws, root / "models" / "student")
    runs_db.update_run(ws.store, "run-1", status="finished", best_val_loss=1.234)
    if export:
        ids = [r[0] for r in ws.store.conn.execute("SELECT id FROM rows WHERE status = 'done'")]
        curation.decide(ws.store, ids, "accepted")
        export_dataset(ws.root, ws.store, ws.settings)
    ws.store.close()


def _open_chat(t: Terminal) -> None:
    t.wait_for("support-tickets", timeout=60)
    t.press("5", binding="goto-chat")
    t.wait_for("message the student")


def _send(t: Terminal, text: str) -> None:
    t.type(text)
    t.press("enter")
    t.wait_for("> " + text)


def test_picker_settings_and_every_chat_key(terminal, demo_project):
    _project(demo_project)
    t = terminal(str(demo_project))
    _open_chat(t)
    # The picker: the run with its status and best validation loss, no
    # "no runs yet" option.
    t.wait_for("run-1 best")
    assert "finished" in t.text() and "best val 1.234" in t.text()
    t.press("ctrl+o", binding="chat-pick")  # opens the list, not just the focus
    t.wait_for("run-1 latest")
    assert "no runs yet" not in t.text()
    t.press("escape")  # closes the list
    t.wait_gone("run-1 latest")
    t.press("ctrl+o")
    t.wait_for("run-1 latest")
    t.press("down", "enter")
    t.wait_for("run-1:latest")  # the adapter pane's title

    # ctrl+g then escape: the next message typed is sent, not lost.
    t.press("ctrl+g", binding="chat-settings")
    t.wait_for("Generation settings")
    t.press("escape", binding="chat-settings-cancel")
    t.wait_gone("Generation settings")
    _send(t, "my invoice is wrong")
    t.wait_for("tok/s", timeout=60)
    for token in SPECIAL_TOKENS:
        assert token not in t.text()
    t.press("ctrl+s", binding="chat-save")
    t.wait_for("Saved as row")
    s = Store(demo_project / "distill.db")
    saved = s.conn.execute("SELECT output FROM rows WHERE origin = 'chat'").fetchone()[0]
    s.close()
    assert not any(token in saved for token in SPECIAL_TOKENS)

    # Settings applied with ctrl+s; side by side with the base model, which
    # greedily writes newlines until max tokens: escape stops it.
    t.press("ctrl+g")
    t.wait_for("Generation settings")
    t.press("tab", binding="chat-settings-tab")  # temperature -> top-p
    t.press("tab")  # -> max tokens
    t.press("shift+tab", binding="chat-settings-backtab")
    t.press("tab")
    t.press(*["backspace"] * 6)
    t.type("5000")  # max tokens
    t.press("ctrl+s", binding="chat-settings-apply")
    t.wait_for("max 5000")
    t.press("ctrl+b", binding="chat-compare")
    t.wait_for("vs base model")
    t.press("ctrl+l", binding="chat-clear")
    t.wait_gone("tok/s")
    t.type("tell me more")
    t.press("enter", settle=False)  # settling would wait for the reply's end
    t.wait_for("> tell me more")
    time.sleep(1)
    t.press("escape", binding="chat-stop")
    t.wait_for("stopped", timeout=60)
    for token in SPECIAL_TOKENS:
        assert token not in t.text()

    # Idle escape leaves the message box, so digits switch screens again.
    t.press("escape", binding="chat-leave-field")
    t.press("2")
    t.wait_for("Estimate")
    assert t.quit() == 0

    # The choice is remembered for the project.
    t = terminal(str(demo_project))
    _open_chat(t)
    t.wait_for("run-1:latest")
    assert t.quit() == 0


def test_the_project_reopens_on_chat_with_its_conversation_and_settings(terminal, demo_project):
    _project(demo_project)
    t = terminal(str(demo_project))
    _open_chat(t)
    t.wait_for("run-1 best")
    t.press("ctrl+g")
    t.wait_for("Generation settings")
    t.press("tab", "tab", *["backspace"] * 6)
    t.type("12")  # max tokens
    t.press("ctrl+s")
    t.wait_for("max 12")
    t.press("ctrl+b")
    t.wait_for("vs base model")
    t.type("where is my refund")
    t.press("enter")
    t.wait_for("> where is my refund")
    t.wait_until(lambda: t.text().count("tok ·") == 2, "both replies", timeout=60)
    assert t.quit() == 0

    # Reopened: on Chat, compare on, the settings and both sides' exchange kept.
    t = terminal(str(demo_project))
    t.wait_for("message the student", timeout=60)
    t.wait_for("(from an earlier session)")
    # Each side is restored as its model is picked: the compared side a draw
    # later, scrolled to its end (the base model's reply of newlines can push
    # the prompt out of sight), where each side says where its exchange came from.
    t.wait_until(
        lambda: t.text().count("(from an earlier session)") == 2, "both sides restored", 30
    )
    assert "> where is my refund" in t.text()
    assert "max 12" in t.text() and "vs base model" in t.text()
    # The next message goes on from the kept conversation; ctrl+l forgets it.
    t.press("ctrl+l")
    t.wait_gone("(from an earlier session)")
    assert t.quit() == 0
    t = terminal(str(demo_project))
    t.wait_for("message the student", timeout=60)
    t.wait_for("max 12")
    assert "where is my refund" not in t.text()
    assert t.quit() == 0


def test_evaluation_view_and_fuse_keys(terminal, demo_project):
    _project(demo_project, export=True)
    s = Store(demo_project / "distill.db")
    # An earlier evaluation of run-1:best, and the picker left on run-1:latest.
    evals.save(s, evals.EvalResult("run-1", "best", "valid", "json", []))
    s.set_meta("chat.target", "run-1:latest")
    s.close()
    ws = Workspace.open(demo_project)
    ws.settings.teacher.max_attempts = 2
    ws.save_settings()
    ws.store.close()
    env = {
        "ANTHROPIC_API_KEY": "chat-key",
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{closed_port()}",  # the teacher is down
    }
    t = terminal(str(demo_project), env=env)
    _open_chat(t)
    t.wait_for("run-1:latest")

    t.press("ctrl+r", binding="chat-eval")
    t.wait_for("Evaluation of run-1:latest: none yet")
    t.press("r", binding="eval-run")
    t.wait_for("run-1:latest on valid", timeout=120)
    t.wait_for("exact")
    t.press("c", binding="eval-curator")
    t.wait_for("failing row(s) are unreviewed")
    t.press("s", binding="eval-similar")
    t.wait_for("similar inputs failed: teacher: gave up after 2 attempts: connection", timeout=60)
    t.press("j", binding="eval-judge")
    t.wait_for("judging failed:", timeout=60)
    t.wait_for("connection error")
    t.press("escape", binding="eval-close")
    t.wait_gone("Evaluation of")

    t.press("ctrl+f", binding="chat-fuse")
    t.wait_for("Fuse run-1:latest")
    t.press("escape", binding="chat-fuse-cancel")
    t.wait_gone("Fuse run-1:latest")
    t.press("ctrl+f")
    t.wait_for("Fuse run-1:latest")
    t.press("ctrl+s", binding="chat-fuse-start")
    t.wait_for("fused run-1:latest", timeout=180)
    assert t.quit() == 0
