"""Preference training on the demo's real student, SmolLM2-135M-Instruct
(issue 21's acceptance): an SFT adapter on the tickets, then DPO on 64 pairs
from the demo tickets (a wrong label as the teacher's original, the right
label as the reviewer's edit), 24 steps of 4 pairs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from test_realmodel import LABEL_ONLY, _write_split

from distill_tui.core import config as cfg
from distill_tui.core import paths
from distill_tui.core.train import checkpoints
from distill_tui.core.train import runs as runs_db
from distill_tui.demo import bundled_rows, create_demo, packaged_gguf, wrong_label
from distill_tui.engine.chat.evaluate import evaluate
from distill_tui.engine.chat.session import ModelHost
from distill_tui.engine.train.trainer import train_run

pytestmark = pytest.mark.realmodel


def _write(root: Path) -> None:
    _write_split(root, train=24, valid=8)
    rows = bundled_rows()
    (root / "data" / "pref").mkdir(parents=True, exist_ok=True)
    # 64 pairs: 48 to train on, 16 held out (none of them an SFT row).
    for name, part in (("train", rows[40:88]), ("valid", rows[-24:-8])):
        with open(root / "data" / "pref" / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for i, r in enumerate(part):
                rec = {
                    "prompt": r["input"],
                    "system": LABEL_ONLY,
                    "chosen": r["output"],
                    "rejected": wrong_label(r["output"]),
                    "source": "edit",
                    "row_id": i,
                }
                f.write(json.dumps(rec) + "\n")


def _train(**kw) -> cfg.Train:
    return cfg.Train(
        **{
            "iters": 8,
            "batch_size": 4,
            "lora_rank": 8,
            "learning_rate": 1e-3,
            "num_layers": 4,
            "max_seq_length": 128,
            "steps_per_report": 4,
            "steps_per_eval": 8,
            "steps_per_save": 8,
            "val_batches": -1,
            **kw,
        }
    )


def test_dpo_after_sft_learns_held_out_pairs_and_keeps_exact_match(tmp_path):
    ws = create_demo(tmp_path / "demo", student=None)
    ws.settings.student.model = str(packaged_gguf())
    ws.save_settings()
    _write(ws.root)
    sft = train_run(ws, _train())
    assert sft.status == "finished"
    dpo = train_run(
        ws, _train(objective="dpo", iters=24, learning_rate=1e-4, steps_per_eval=12, sft_weight=1.0)
    )
    assert dpo.status == "finished" and dpo.iter == 24
    val = runs_db.history(ws.store, dpo.run_id, "val")
    assert abs(val[0][1] - math.log(2)) < 1e-4, val  # policy == reference at step 0
    prefs = runs_db.pref_metrics(ws.store, dpo.run_id)
    assert prefs[-1].pair_accuracy >= 0.9, prefs
    assert prefs[-1].reward_margin > 0

    # One evaluation compares base, the SFT start and SFT+DPO on the same rows
    # and ranks the 16 held-out pairs with each (issue 21 item 5).
    cp = checkpoints.resolve(ws, dpo.run_id, "latest")
    result = evaluate(ws, ModelHost(), cp, limit=8, max_tokens=3, save=False)
    assert result.compared == ["base", "sft", "adapter"] and result.pair_rows == 16

    def exact(who: str) -> float:
        return float(result.summary(who)["exact_match"])

    assert exact("adapter") >= exact("sft")
    assert result.pairs["adapter"] >= 0.9 and result.pairs["adapter"] >= result.pairs["sft"]
    assert paths.pref_dir(ws.root).is_dir()
