"""Preference training in a real 80x24 terminal (issues 21 and 30): X on Curate
exports the pairs beside the split, the Train form's objective shows what it
trains on (the pair counts by source) and with which of its own settings,
ctrl+y adds the SFT student's mistakes as pairs, and a DPO run plots its task
score beside its pair accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.store_reads import runs as _runs

from distill_tui.core import paths
from distill_tui.core.curate import curation
from distill_tui.core.curate import query as cq
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.generate.queue import complete
from distill_tui.core.project import Workspace
from distill_tui.demo import (
    EDITED_ROWS,
    REGENERATED_ROWS,
    record_reviews,
    recorded_answer,
    wrong_label,
)
from distill_tui.engine.train.trainer import train_run


@pytest.fixture
def reviewed(demo_project: Path) -> Path:
    """The demo with a reviewer's corrections (8 edits, 6 regenerations), the
    rest accepted and exported, and one finished SFT run."""
    ws = Workspace.open(demo_project)
    for row_id in (*EDITED_ROWS, *REGENERATED_ROWS):
        (out,) = ws.store.conn.execute("SELECT output FROM rows WHERE id = ?", (row_id,)).fetchone()
        complete(ws.store, row_id, recorded_answer(wrong_label(out)))
    record_reviews(ws)
    curation.accept(ws.store, cq.ids(ws.store, cq.Filter(decision="unreviewed")))
    ws.settings.train.batch_size, ws.settings.train.iters = 4, 10
    ws.settings.train.steps_per_eval = 5
    ws.save_settings()
    export_dataset(ws.root, ws.store, ws.settings)
    assert train_run(ws).status == "finished"
    ws.store.close()
    return demo_project


def test_export_preferences_pick_dpo_and_watch_the_pairs(terminal, reviewed):
    t = terminal(str(reviewed))
    t.wait_for("support-tickets", timeout=60)
    t.press("3", binding="goto-curate")
    t.wait_for("unreviewed", "accepted")
    t.press("X", binding="curate-export-pref", settle=False)
    t.wait_for("Exported", timeout=60)
    t.wait_until(lambda: (paths.pref_dir(reviewed) / "pref.json").is_file(), "data/pref/")
    t.press("4", binding="goto-train")
    t.wait_for("Preset")
    t.wait_for("Objective")
    # Tab down the left column to the objective: its hint says what it trains on.
    for _ in range(8):
        t.press("tab")
    t.wait_for("sft: learn the accepted rows")
    t.press("enter")
    t.press("down")
    t.press("enter")
    t.wait_for("curation holds 14 pairs (8 from edits, 6 from regenerations)")
    t.wait_for("training pairs")
    # What a dpo run uses instead of the SFT fields: its own LR, epochs, SFT term.
    t.wait_for("dpo uses LR 2e-05")
    # ctrl+y: the SFT student's own mistakes become pairs, exported at once.
    t.press("ctrl+y", binding="train-pairs")
    t.wait_for("from its mistakes", timeout=120)
    t.wait_for("from the student's mistakes", timeout=30)
    t.press(*["tab"] * 12)  # down the left column, then the right one to Beta: its hint
    t.wait_for("0.1 as TRL and mlx-lm-lora")
    t.press("tab")
    t.wait_for("stop a dpo/kto run whose chosen answers collapse")
    t.press("ctrl+r", binding="train-start")
    t.wait_for("dpo @ 1: task", timeout=120)
    t.wait_until(
        lambda: (
            (r := _runs(reviewed)[0]).status in ("finished", "early_stopped")
            and r.config["train"]["objective"] == "dpo"
        ),
        "the dpo run ended",
        timeout=180,
    )
    # The student's mistakes on held-out inputs are held-out pairs: enough of
    # them for a pair accuracy with its interval.
    t.wait_for("dpo @ ")
    t.wait_for("accuracy")
    assert t.has("• task score   ◆ pair accuracy")
    # Chat evaluates the DPO run beside its SFT start and the base model, and
    # ranks the held-out pairs with each (issue 21 item 5).
    t.press("5", binding="goto-chat")
    t.wait_for("message the student")
    t.wait_for(f"{_runs(reviewed)[0].id}:")
    t.press("ctrl+r", binding="chat-eval")
    t.wait_for("none yet")
    t.press("r", binding="eval-run")
    t.wait_for("vs sft", timeout=180)
    t.wait_for("pair acc")
    t.assert_no_traceback()
    assert t.quit() == 0
