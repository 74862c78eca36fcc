"""A terminal window made tiny, huge and back again, on every screen: the app
redraws and keeps running."""

from __future__ import annotations


def test_every_screen_survives_resizing(terminal, demo_project):
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    for key, marker in (
        ("1", "Instructions"),
        ("2", "pending"),
        ("3", "rows 1-"),
        ("4", "Preset"),
        ("5", "Chat"),
    ):
        t.press(key)
        t.wait_for(marker)
        for cols, rows in ((40, 10), (20, 5), (200, 60), (80, 24)):
            t.resize(cols, rows)
        t.wait_for(marker)
    assert t.quit() == 0
