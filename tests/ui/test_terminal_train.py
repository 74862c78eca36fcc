"""The Train screen in a real 80x24 terminal: a bad value is marked and
refused with its message, form edits are saved and survive a restart, a failed
run shows its real reason (monitor, runs list, store), and every Train key
and runs-list key is pressed with escape closing what it opens."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from support.store_reads import runs as _runs
from support.terminal import installed_command

from distill_tui.core import config as cfg
from distill_tui.core import paths
from distill_tui.core.curate import curation
from distill_tui.core.curate import query as cq
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.project import Workspace


@pytest.fixture
def exported(demo_project: Path) -> Path:
    """The demo project with every row accepted and the split exported."""
    ws = Workspace.open(demo_project)
    curation.accept(ws.store, cq.ids(ws.store, cq.Filter(decision="unreviewed")))
    export_dataset(ws.root, ws.store, ws.settings)
    ws.store.close()
    return demo_project


def _settings(root: Path) -> cfg.Train:
    return cfg.load(root / "distill.toml").train


def _field(t, label: str) -> str:  # noqa: ANN001
    """The value shown after a form label on screen."""
    for line in t.text().splitlines():
        m = re.search(re.escape(label) + r"\s+[▌▐]?(\S+)", line)
        if m:
            return m.group(1)
    return ""  # not drawn (yet)


def test_bad_value_is_marked_refused_and_edits_survive_a_restart(terminal, exported):
    text = (exported / "distill.toml").read_text()
    (exported / "distill.toml").write_text(text.replace("num_layers = -1", "num_layers = 16"))
    t = terminal(str(exported))
    t.wait_for("support-tickets", timeout=60)
    t.press("4", binding="goto-train")
    # The saved default does not fit the 2-layer student: said on arrival.
    t.wait_for("16 is more than the student's 2 layers")
    # At 80x24 a checkbox's state reads without colour: X on, blank off.
    t.wait_until(lambda: re.search(r"▐X▌ Mask prompt", t.text()), "prompt masking drawn on")
    assert re.search(r"▐ ▌ Save memory", t.text())
    t.press("ctrl+r", binding="train-start")
    t.wait_for("(not started)")
    assert _runs(exported) == []
    # ctrl+r put the cursor in the wrong field: fix it there.
    t.press("backspace", "backspace")
    t.type("-1")
    t.wait_until(lambda: _settings(exported).num_layers == -1, "num_layers saved")
    # The mark and the message under the form are gone (the toast may linger).
    t.wait_until(lambda: not re.search(r"\(not saved\)|will not start", t.text()), "cleared")
    # A value that is not a number: marked, said, not written.
    # Up the right column from Layers, then up the left one to Batch size.
    t.press(*["shift+tab"] * 12)
    t.press("backspace")
    t.type("x")
    t.wait_for("Batch size: not a number: 'x' (not saved)")
    assert _settings(exported).batch_size == 8
    t.press("ctrl+s", binding="train-save")
    t.wait_for("Batch size: not a number")
    t.press("backspace")
    t.type("4")
    t.wait_until(lambda: _settings(exported).batch_size == 4, "batch size saved")
    t.press("ctrl+s")
    t.wait_for("Saved [train] to distill.toml")
    # Preflight says what it measured; ctrl+w flips to the monitor and back.
    t.press("ctrl+e", binding="train-preflight")
    t.wait_for("No problems found", timeout=60)
    t.press("ctrl+w", binding="train-view")
    t.wait_for("No runs yet: ctrl+r trains")
    t.press("ctrl+w")
    t.wait_for("Preset")
    # The focus came back to the field last used: bracketed on both sides.
    t.wait_until(lambda: re.search(r"Batch size\s+▌4\s+▐", t.text()), "Batch size focused")
    t.press("escape", binding="leave-field")
    assert t.quit() == 0

    t = terminal(str(exported))
    t.wait_for("support-tickets", timeout=60)
    t.press("4")
    t.wait_for("Preset")
    t.wait_until(
        lambda: _field(t, "Layers (-1 all)") == "-1" and _field(t, "Batch size") == "4",
        "the saved values in the form",
    )
    assert t.quit() == 0


def test_a_failed_run_shows_its_reason_and_the_runs_list_keys(terminal, exported):
    # A run started headless past the preflight, on more layers than the student has.
    done = subprocess.run(
        [installed_command(), "train", str(exported), "--num-layers", "99", "--no-preflight"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    reason = "num_layers 99 is more than the student's 2 layers"
    (failed,) = _runs(exported)
    assert failed.status == "failed" and reason in (failed.error or "")

    t = terminal(str(exported))
    t.wait_for("support-tickets", timeout=60)
    t.press("4", binding="goto-train")
    t.press("ctrl+l", binding="train-runs")
    t.wait_for("Runs · enter monitor")
    t.wait_for(reason)
    t.press("enter", binding="runs-open")
    t.wait_for("failed at iteration 0")
    assert t.has(f"✗ {reason}")
    # Resuming it fails the same way, and says why.
    t.press("ctrl+o", binding="train-resume")
    t.wait_for(f"training failed: {reason}", timeout=60)
    assert _runs(exported)[0].error and reason in (_runs(exported)[0].error or "")
    # Chat with a run that has no checkpoint: Chat says so.
    t.press("ctrl+l")
    t.wait_for("Runs · enter monitor")
    t.press("c", binding="runs-chat", settle=False)  # the toast lasts a few seconds
    t.wait_for("checkpoint to chat with yet")  # the toast wraps over the input box
    t.wait_for("message the student")
    t.settle()  # the Chat screen has put the focus in its message box
    t.press("escape")
    t.press("4")
    t.wait_for("Runs · enter monitor")  # the view (and its focus) as left
    # Delete asks first; escape keeps the run, y deletes folder and rows.
    t.press("d", binding="runs-delete")
    t.wait_for("Delete run")
    t.press("escape", binding="confirm-cancel")
    t.wait_gone("yes, delete it")
    assert len(_runs(exported)) == 1
    t.press("d")
    t.wait_for("yes, delete it")
    t.press("y")
    t.wait_for("Deleted run")
    assert _runs(exported) == [] and not paths.run_dir(exported, failed.id).exists()
    t.press("escape", binding="runs-close")
    t.wait_for("No runs yet")
    # A corrupt split: ctrl+r does not start, and says why.
    with open(exported / "data" / "train.jsonl", "a", encoding="utf-8") as f:
        f.write("{not json\n")
    t.press("ctrl+r")
    # (the export's manifest sees the change before mlx-lm reads the file)
    t.wait_for("does not match the last export", timeout=60)
    assert _runs(exported) == []
    assert t.quit() == 0


def test_train_stop_then_chat_with_the_run_from_the_list(terminal, exported):
    t = terminal(str(exported))
    t.wait_for("support-tickets", timeout=60)
    t.press("4")
    t.press("ctrl+r")
    t.wait_until(lambda: any(r.status == "running" for r in _runs(exported)), "a run", 60)
    t.wait_for("iter ", timeout=60)
    t.press("ctrl+x", binding="train-stop")
    t.wait_until(
        lambda: any(r.status in ("stopped", "finished") for r in _runs(exported)), "stopped", 120
    )
    (run,) = _runs(exported)
    t.press("ctrl+l")
    t.wait_for(run.status)
    t.press("c")
    t.wait_for(f"{run.id} best", f"{run.id} latest", timeout=30)
    assert t.quit() == 0
