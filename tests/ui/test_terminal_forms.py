"""Typing ahead in a form: keys sent in one burst, faster than the app draws
(over SSH), land in the fields the person meant: tab is resolved the moment it
is read, not after the keys queued behind it went to the old field."""

from __future__ import annotations

import os
import tomllib

from support.terminal import key_bytes


def _train(root):  # noqa: ANN001, ANN202
    return tomllib.loads((root / "distill.toml").read_text())["train"]


def test_a_burst_of_keys_on_the_train_form_fills_each_field(terminal, demo_project):
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press("4")
    t.wait_for("Preset")
    t.press("tab", binding="train-tab")  # Preset -> Iterations, down the left column
    # Iterations 30 replaced by 50, tab, batch size 8 replaced by 2: all in one write.
    keys = ("5", "0", "tab", "2")
    burst = b"".join(key_bytes(k) for k in keys)
    os.write(t.fd, burst)
    t.wait_until(lambda: _train(demo_project)["batch_size"] == 2, "batch size 2 saved", 30)
    assert _train(demo_project)["iters"] == 50
    t.press("shift+tab", binding="train-backtab")  # Iterations again, its 50 selected
    t.press("7", "0")
    t.wait_until(lambda: _train(demo_project)["iters"] == 70, "iterations 70 saved", 30)
    assert _train(demo_project)["batch_size"] == 2
    assert t.quit() == 0


def test_editing_keys_in_a_burst_act_in_the_order_typed(terminal, tmp_path):
    """Textual resolves a field's own keys (backspace, ctrl+k) after the key
    bubbled up to the app, while a character is typed at once: in one burst
    the correction hit the wrong character (ui/keys_in_order.py)."""
    t = terminal(str(tmp_path / "new"))
    t.wait_for("Instructions")
    t.press("tab", binding="task-tab")  # Name, its text selected
    os.write(t.fd, b"".join(key_bytes(k) for k in ("a", "b", "backspace", "c")))
    t.wait_for("Name              ac")
    for _ in range(12):  # down to Requests/minute
        t.press("tab", binding="task-tab")
    t.wait_for("Requests/minute")
    os.write(t.fd, b"".join(key_bytes(k) for k in ("ctrl+a", "ctrl+k", "7", "7")))
    t.wait_for("Requests/minute   77")
    t.settle()
    assert "Requests/minute   77" in t.text()
    assert "a number is needed" not in t.text()
    assert t.quit() == 0
