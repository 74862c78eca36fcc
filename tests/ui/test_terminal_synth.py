"""Synthesis (issue 22) in a real 80x24 terminal: the Task screen's dialog
with every key (the teacher's topics, add, rename, delete, subtopics, inputs
per leaf, write, stop/close), Magpie with a local teacher, a teacher reply
that is not a list, and the Queue screen's key that deletes a pending input."""

from __future__ import annotations

import json
import random
import re

from support.llm_server import FakeLLM
from support.store_reads import counts

from distill_tui.core.config import Example
from distill_tui.core.project import Workspace
from distill_tui.core.store import Store
from distill_tui.core.synth import topics


def _ready(ws: Workspace) -> None:
    t = ws.settings.teacher
    t.model, t.requests_per_minute = "claude-haiku-4-5", 0
    task = ws.settings.task
    task.instructions = "Label the support ticket: billing, bug or account."
    task.examples = [
        Example(input=f"My {w} stopped working this morning", output="bug")
        for w in ("printer", "login", "export", "sync", "backup")
    ]
    ws.save_settings()


def _reply(last: str) -> str:
    m = re.search(r"List (\d+) distinct", last)
    if m:
        if "subtopics" in last:
            return json.dumps([f"sub {i}" for i in range(int(m.group(1)))])
        return "```json\n" + json.dumps([f"root {i}" for i in range(int(m.group(1)))]) + "\n```"
    n = int(re.search(r"Write (\d+) new inputs", last).group(1))
    topic = re.search(r"Topic: (.*)", last).group(1)
    rng = random.Random(topic)
    words = [f"{a}{b}{c}" for a in "bdfgk" for b in "aeiou" for c in "lmnrst"]
    return json.dumps([f"{topic}: " + " ".join(rng.sample(words, 10)) for _ in range(n)])


def _tree(root) -> list[str]:  # noqa: ANN001
    s = Store(root / "distill.db")
    try:
        return [t.path for t in topics.tree(s)]
    finally:
        s.close()


def test_the_synthesis_dialog_by_keyboard(terminal, workspace):
    _ready(workspace)
    root = workspace.root
    with FakeLLM() as teacher:
        teacher.reply = _reply
        env = {"ANTHROPIC_API_KEY": "synth-key", "ANTHROPIC_BASE_URL": teacher.url}
        t = terminal(str(root), env=env)
        t.wait_for("Task", timeout=60)
        t.press("ctrl+g", binding="task-synth")
        t.wait_for("Synthesize inputs: 0 topics")
        t.wait_for("m (Magpie) needs the local MLX teacher")  # an API teacher: greyed

        t.press("t", binding="synth-propose")
        t.wait_for("added 6 topic(s)")
        assert _tree(root)[:2] == ["root 0", "root 1"]
        # Delete the second root, rename the first, add one of our own.
        t.press("down")
        t.press("delete", binding="synth-delete")
        t.wait_for("deleted 'root 1'")
        t.press("up")
        t.press("r", binding="synth-rename")
        t.press(*["backspace"] * 6)
        t.type("refunds")
        t.press("enter")
        t.wait_until(lambda: _tree(root)[0] == "refunds", "renamed")
        t.press("a", binding="synth-add")
        t.type("angry [b]customers[b]")
        t.press("enter")
        t.wait_until(lambda: "angry [b]customers[b]" in _tree(root), "added, as text")
        # A second level under "refunds": the teacher's, then one of ours.
        t.press("g", binding="synth-grow")
        t.wait_for("added 4 topic(s)")
        t.press("c", binding="synth-add-child")
        t.type("late")
        t.press("enter")
        t.wait_until(lambda: "refunds / late" in _tree(root), "subtopic added")
        # Inputs per leaf: 8, one more, two fewer.
        t.press("+", binding="synth-more")
        t.wait_for("9 per leaf")
        t.press("-", "-", binding="synth-fewer")
        t.wait_for("7 per leaf")
        t.wait_for("w writes")

        t.press("w", binding="synth-write")
        t.wait_for("new inputs in the queue", timeout=60)
        leaves = len([p for p in _tree(root) if p != "refunds"])
        assert counts(root)["pending"] == 7 * leaves
        t.wait_for("7/7")
        t.press("escape", binding="synth-close")
        t.wait_gone("Synthesize inputs:")
        t.assert_no_traceback()


def test_magpie_by_keyboard_with_the_local_teacher(terminal, workspace, uniform_model):
    _ready(workspace)
    t = workspace.settings.teacher
    t.provider, t.model, t.local_batch_size = "mlx", str(uniform_model), 4
    workspace.save_settings()
    term = terminal(str(workspace.root))
    term.wait_for("Task", timeout=60)
    term.press("ctrl+g", binding="task-synth")
    term.wait_for("m: Magpie samples 8 inputs")
    assert "m Magpie" in term.text() and "esc Stop/close" in term.text()  # 80 columns
    term.press("m", binding="synth-magpie")
    # The drop report (a turn that ran to max_tokens is "unfinished"), then the summary.
    term.wait_for("from 8 user turn(s) sampled (Magpie", timeout=60)
    assert term.has("magpie: kept ") and term.has("of 8 written (8 asked)")
    rows = Store(workspace.root / "distill.db")
    try:
        synth = rows.conn.execute(
            "SELECT COUNT(*) FROM rows WHERE source = 'synth: magpie' AND status = 'pending'"
        ).fetchone()[0]
    finally:
        rows.close()
    assert synth == counts(workspace.root)["pending"]
    assert term.has(f"{synth} new input(s) in the queue")
    term.press("escape", binding="synth-close")
    term.wait_gone("Synthesize inputs:")
    term.assert_no_traceback()


def test_a_reply_that_is_no_list_says_so_and_queues_nothing(terminal, workspace):
    _ready(workspace)
    with FakeLLM() as teacher:
        teacher.reply = lambda _t: "Happy to help! " * 300
        env = {"ANTHROPIC_API_KEY": "synth-key", "ANTHROPIC_BASE_URL": teacher.url}
        t = terminal(str(workspace.root), env=env)
        t.wait_for("Task", timeout=60)
        t.press("ctrl+g", binding="task-synth")
        t.press("t", binding="synth-propose")
        t.wait_for("topics failed")
        t.wait_for("held no JSON array or list")
        assert counts(workspace.root)["inputs"] == 0 and _tree(workspace.root) == []
        t.assert_no_traceback()


def test_the_queue_deletes_a_pending_input_after_a_yes(terminal, workspace):
    _ready(workspace)
    workspace.store.add_inputs([("```", None), ("a real input", None)], origin="similar")
    t = terminal(str(workspace.root))
    t.wait_for("Task", timeout=60)
    t.press("2", binding="goto-queue")
    t.wait_for("pending 2")
    t.press("delete", binding="queue-delete")
    t.wait_for("Delete row 1, a pending input?")
    t.press("escape", binding="confirm-cancel")
    t.wait_gone("Delete row 1")
    assert counts(workspace.root)["pending"] == 2
    t.press("delete", binding="queue-delete")
    t.wait_for("Delete row 1, a pending input?")
    t.press("y")
    t.wait_for("deleted pending input 1")
    t.wait_for("pending 1 ")
    assert counts(workspace.root)["pending"] == 1
    t.assert_no_traceback()
