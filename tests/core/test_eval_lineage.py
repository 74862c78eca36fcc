"""A run's lineage and last verdict (issue 31, items 4-5): a DPO run that
collapsed after an SFT start is `worse`; fuse and ship refuse it unless
forced, naming the figures; `status --json` lists each run's objective,
parent and last verdict; its model card says what it is and that it is
worse; the dataset line knows a preference run trained on data/pref/."""

from __future__ import annotations

import json

import pytest
from support.verdict_helpers import sft_and_collapsed_dpo

from distill_tui.cli import main
from distill_tui.core import paths
from distill_tui.core.evaluate import lineage, verdict
from distill_tui.core.ship import model_card, provenance


@pytest.fixture
def runs(workspace):
    return sft_and_collapsed_dpo(workspace)


def test_the_collapsed_dpo_run_is_worse_than_its_sft_start_and_the_sft_run_better(runs):
    assert verdict.last_verdict(runs.store, "sft-1") == "better"
    gate = verdict.gate(runs.store, "dpo-1", "best")
    assert gate.worse
    assert "worse than its SFT start: -29 rows of 32" in gate.line()
    with pytest.raises(verdict.WorseThanParent) as e:
        gate.check("ship", force=False)
    assert "not shipping" in str(e.value) and "--force" in str(e.value)
    gate.check("ship", force=True)  # forced: no refusal
    none = verdict.gate(runs.store, "other", None)
    assert not none.evaluated and "no evaluation yet" in none.line()


def test_status_json_lists_each_runs_objective_parent_and_last_verdict(runs, capsys):
    assert main(["status", str(runs.root), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["runs"]
    assert listed == [
        {
            "id": "dpo-1",
            "objective": "dpo",
            "parent": "sft-1",
            "status": "finished",
            "best_checkpoint": {"iter": 20, "val_loss": 0.5},
            "last_verdict": "worse",
        },
        {
            "id": "sft-1",
            "objective": "sft",
            "parent": None,
            "status": "finished",
            "best_checkpoint": {"iter": 20, "val_loss": 0.5},
            "last_verdict": "better",
        },
    ]


def test_the_model_card_names_the_objective_and_says_it_is_worse(runs):
    # What `train` records for a DPO run: the hash of data/pref/.
    pref = paths.pref_dir(runs.root)
    pref.mkdir(parents=True)
    (pref / "train.jsonl").write_text('{"prompt": "a", "chosen": "b", "rejected": "c"}\n')
    (pref / "valid.jsonl").write_text("")
    run_dir = paths.run_dir(runs.root, "dpo-1")
    run_dir.mkdir(parents=True)
    (run_dir / "dataset.sha256").write_text(lineage.current_data_hash(runs.root, "dpo") + "\n")

    prov = provenance.gather(runs, "dpo-1", "best")
    assert prov.split_is_runs
    t = prov.training
    assert (t["objective"], t["parent_run"], t["beta"], t["sft_weight"]) == ("dpo", "sft-1", 0.1, 0)
    card = model_card.render(prov, "dpo-1-best")
    assert "- objective: dpo" in card and "- parent_run: sft-1" in card
    assert "the current export is not the run's" not in card
    assert "| metric | SFT start | distilled |" in card
    assert "0.094 (0.02-0.25)" in card  # 3 of 32 with its exact interval
    assert "**Verdict: worse than its SFT start: -29 rows of 32" in card
    assert "regressed 29" in card and "**This model is worse than its SFT start**" in card
    # Once data/pref/ changes, the line says so.
    (pref / "train.jsonl").write_text("")
    card = model_card.render(provenance.gather(runs, "dpo-1", "best"), "x")
    assert "the current export is not the run's" in card


def test_the_sft_runs_card_compares_with_the_base_and_is_not_called_worse(runs):
    card = model_card.render(provenance.gather(runs, "sft-1", "best"), "sft-1-best")
    assert "- objective: sft" in card and "- parent_run: base model" in card
    assert "| metric | base | distilled |" in card
    assert "**Verdict: better than the base model: +32 rows of 32" in card
    assert "is worse" not in card
