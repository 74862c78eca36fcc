"""The model card and provenance.json (issue 31, items 4 and 6): the general
perplexity of base and run with a warning past the threshold, and a
preference run's pairs counted by source (edit, regen, student) from
data/pref/pref.json while that export is the run's."""

from __future__ import annotations

import json

import pytest
from support.verdict_helpers import sft_and_collapsed_dpo

from distill_tui.core import paths
from distill_tui.core.evaluate import evals, general, lineage
from distill_tui.core.ship import model_card, provenance


@pytest.fixture
def runs(workspace):
    return sft_and_collapsed_dpo(workspace)


def _with_perplexity(ws, run_id: str, base: float, run: float) -> None:
    result = evals.latest(ws.store, run_id)
    assert result is not None
    result.general, result.general_tokens = {"base": base, "adapter": run}, 2012
    evals.update(ws.store, result)


def test_the_warning_starts_past_the_justified_rise():
    assert general.WARN_RISE == 0.5
    assert general.warning({"base": 8.0, "adapter": 12.0}) is None  # 50%: not past it
    said = general.warning({"base": 10.0, "adapter": 16.0})
    assert said is not None and "rose 60%" in said
    assert general.warning({"adapter": 13.0}) is None  # no base: nothing to compare
    line = general.line({"base": 10.0, "adapter": 13.0}, 2012)
    assert line is not None and line.startswith("general perplexity base 10.00 -> run 13.00")
    assert "(+30.0%) on 2,012 tokens of" in line and "Alice" in line
    assert len(general.text().split()) > 1000  # a few thousand tokens shipped in the package


def test_the_card_gives_the_general_perplexity_and_warns_when_it_rose(runs):
    _with_perplexity(runs, "sft-1", 12.0, 12.5)
    card = model_card.render(provenance.gather(runs, "sft-1", "best"), "sft-1-best")
    assert "Forgetting check: general perplexity base 12.00 -> run 12.50 (+4.2%)" in card
    assert "| general ppl |" not in card and "Warning: general perplexity" not in card
    _with_perplexity(runs, "sft-1", 12.0, 19.2)
    prov = provenance.gather(runs, "sft-1", "best")
    assert prov.evaluation is not None
    assert prov.evaluation["general_perplexity"] == {"base": 12.0, "adapter": 19.2}
    card = model_card.render(prov, "sft-1-best")
    assert "**Warning: general perplexity rose 60% over the base model's" in card


def test_a_preference_runs_pairs_by_source_while_its_export_is_the_current_one(runs):
    pref = paths.pref_dir(runs.root)
    pref.mkdir(parents=True)
    (pref / "train.jsonl").write_text('{"prompt": "a", "chosen": "b", "rejected": "c"}\n')
    (pref / "valid.jsonl").write_text("")
    by_source = {"edit": 3, "regen": 0, "student": 5}
    (pref / "pref.json").write_text(json.dumps({"counts": {}, "by_source": by_source}))
    run_dir = paths.run_dir(runs.root, "dpo-1")
    run_dir.mkdir(parents=True)
    (run_dir / "dataset.sha256").write_text(lineage.current_data_hash(runs.root, "dpo") + "\n")

    prov = provenance.gather(runs, "dpo-1", "best")
    assert prov.training["pairs_by_source"] == by_source
    card = model_card.render(prov, "dpo-1-best")
    assert "- preference pairs by source: 8 (3 from edits, 5 from the student's mistakes)" in card
    assert "pairs_by_source" in json.dumps(prov.to_json())
    # Exported again since: the counts are not the run's, and the card says so.
    (pref / "train.jsonl").write_text("")
    prov = provenance.gather(runs, "dpo-1", "best")
    assert prov.training["pairs_by_source"] is None
    assert "pairs by source: unknown" in model_card.render(prov, "x")
    # An SFT run has no pairs line.
    assert "pairs_by_source" not in provenance.gather(runs, "sft-1", "best").training
