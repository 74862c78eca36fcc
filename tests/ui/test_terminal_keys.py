"""`[keys]` in distill.toml moves a key (issue 18: posting's keymap): tmux
takes ctrl+b, a terminal may take others. In a real 80x24 terminal: the new
key works, the old one no longer does, the keys overlay shows the new one,
and an id no key has is named with the closest real one."""

from __future__ import annotations


def test_keys_table_moves_a_key_and_names_a_typo(terminal, demo_project):
    path = demo_project / "distill.toml"
    path.write_text(
        path.read_text() + '\n[keys]\n"goto-train" = "f4"\n"goto-taks" = "f6"\n',
        encoding="utf-8",
    )
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    # A toast beside the examples table: its lines are checked one by one.
    t.wait_for("app has the id 'goto-taks'", timeout=30)
    assert t.has("mean 'goto-task'?")
    t.press("4")  # its old key: no longer the Train screen's
    t.settle(1)
    assert not t.has("Preset")
    t.press("f4", binding="goto-train")
    t.wait_for("Preset", timeout=30)
    t.press("question_mark", binding="help")
    t.wait_for("Keys (dimmed: not available now)")
    assert "f4" in t.text()
    t.press("escape")
    t.press("1", binding="goto-task")  # the other screens' keys are unchanged
    t.wait_gone("Preset")
    assert t.quit() == 0
