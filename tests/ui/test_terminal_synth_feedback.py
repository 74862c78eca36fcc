"""The synthesis dialog's feedback (issue 35 item 13) in a real 80x24
terminal: `m` with an API teacher says why not; deleting a topic with
subtopics asks first; a leaf that kept nothing shows the teacher's last reply
on `v`; a run that queued nothing does not send the user to the Queue."""

from __future__ import annotations

from support.llm_server import FakeLLM

from ui.test_terminal_synth import _ready, _tree


def test_synthesis_dialog_feedback(terminal, workspace):
    _ready(workspace)
    workspace.settings.teacher.max_attempts = 1
    workspace.save_settings()
    root = workspace.root
    with FakeLLM() as teacher:
        teacher.reply = lambda _last: "I'd rather not write [b]those[/b] today."
        env = {"ANTHROPIC_API_KEY": "synth-key", "ANTHROPIC_BASE_URL": teacher.url}
        t = terminal(str(root), env=env)
        t.wait_for("Task", timeout=60)
        t.press("ctrl+g", binding="task-synth")
        t.wait_for("Synthesize inputs: 0 topics, 0 leaves")

        t.press("m", binding="synth-magpie")  # an API teacher: refused, in words
        t.wait_for("Magpie needs the local MLX teacher")

        t.press("a", binding="synth-add")
        t.type("billing")
        t.press("enter")
        t.wait_until(lambda: _tree(root) == ["billing"], "one topic")
        t.wait_for("Synthesize inputs: 1 topic, 1 leaf,")
        t.press("c", binding="synth-add-child")
        t.type("refunds")
        t.press("enter")
        t.wait_until(lambda: _tree(root) == ["billing", "billing / refunds"], "two topics")
        t.wait_for("Synthesize inputs: 2 topics, 1 leaf,")
        t.press("up")
        t.press("delete", binding="synth-delete")
        t.wait_for("Delete 'billing' and its 1 subtopic?")
        t.press("n")
        t.wait_gone("Delete 'billing'")
        assert _tree(root) == ["billing", "billing / refunds"]

        t.press("down")
        t.press("w", binding="synth-write")
        t.wait_for("v shows a leaf's last reply", timeout=60)
        assert t.has("0 new inputs in the queue") and not t.has("the Queue (2) answers them")
        t.press("v", binding="synth-reply")
        t.wait_for("The teacher's last reply for 'billing / refunds'")
        assert t.has("I'd rather not write [b]those[/b] today.")  # as text, not markup
        t.press("escape", binding="synth-reply-close")
        t.wait_gone("The teacher's last reply")

        t.press("up")
        t.press("delete")
        t.wait_for("Delete 'billing' and its 1 subtopic?")
        t.press("y")
        t.wait_until(lambda: _tree(root) == [], "both deleted")
        t.wait_for("deleted 'billing' and its 1 subtopic")
        t.press("escape", binding="synth-close")
        t.wait_gone("Synthesize inputs:")
        t.assert_no_traceback()
