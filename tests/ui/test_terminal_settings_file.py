"""distill.toml made read-only or deleted while the app runs (issue 17,
item 10), in a real 80x24 terminal: a read-only file is refused, said once
and left alone; its mode is kept; a deleted file is noticed and written again
only after the user says so."""

from __future__ import annotations

import stat
import tomllib


def _iters(path) -> int:  # noqa: ANN001
    return tomllib.loads(path.read_text())["train"]["iters"]


def _mode(path) -> int:  # noqa: ANN001
    return stat.S_IMODE(path.stat().st_mode)


def test_read_only_then_deleted_distill_toml(terminal, demo_project):
    path = demo_project / "distill.toml"
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press("4")
    t.wait_for("Preset")
    t.press("tab")  # Preset -> Iterations (30, selected: typing replaces it)
    path.chmod(0o440)
    before = path.read_text()
    t.press("5")
    t.wait_for("distill.toml is read-only")
    t.press("5")
    t.settle()
    # Refused and said once (the line under the form and one toast), not per key.
    assert t.flat().count("is read-only") == 2
    assert path.read_text() == before and _mode(path) == 0o440
    path.chmod(0o640)
    t.press("backspace")  # 55 -> 5, saved now, the mode kept
    t.wait_until(lambda: _iters(path) == 5, "iterations 5 saved")
    assert _mode(path) == 0o640
    # Deleted: said, and asked before it is written again.
    path.unlink()
    t.wait_for("distill.toml was deleted. The app")
    t.press("5")
    t.wait_for("write distill.toml again")
    t.press("escape", binding="confirm-cancel")
    t.wait_gone("write distill.toml again")
    t.press("0")  # 550; declined: not asked again at every key, not written
    t.wait_for("ctrl+s on the Train screen asks")
    assert not path.exists()
    t.press("ctrl+s", binding="train-save")
    t.wait_for("write distill.toml again")
    t.press("w")
    t.wait_until(path.exists, "distill.toml written again")
    assert _iters(path) == 550
    t.assert_no_traceback()
    assert t.quit() == 0
