"""The model card's numbers mean what they say (issue 34, items 21 and 22):
one `dataset_hash`, the same in split.json, a run's record and the card; the
curation history counted, not only the current decisions; and answers that
came recorded with the project say "recorded" where a teacher's say dates."""

from __future__ import annotations

import json

from distill_tui.core.curate import curation
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.generate import queue
from distill_tui.core.generate.pricing import Usage
from distill_tui.core.ship import model_card, provenance


def _answer(ws, teacher: str, text: str) -> None:
    for c in queue.claim(ws.store, 100):
        record = queue.GenerationRecord(text, teacher, "h", Usage(1, 1), 0.0, 0.1, "end_turn")
        queue.complete(ws.store, c.id, record)


def test_one_dataset_hash_in_split_json_the_run_and_the_card(workspace):
    from distill_tui.engine.train.runplan import dataset_hash as run_hash

    ws = workspace
    ws.settings.split.valid_fraction = 0.25
    ws.settings.split.test_fraction = 0.25
    ws.store.add_inputs([(f"ticket {i}", None) for i in range(12)])
    _answer(ws, "anthropic:claude-haiku-4-5", "billing")
    curation.decide(ws.store, list(range(1, 13)), "accepted")
    res = export_dataset(ws.root, ws.store, ws.settings)
    assert res.counts["test"] > 0  # the test split is not what a run trains on
    manifest = json.loads((ws.root / "data" / "split.json").read_text())
    assert manifest["dataset_hash"] == res.dataset_hash == run_hash(ws.root / "data")
    card = model_card.render(provenance.gather(ws), "m")
    assert f"- dataset_hash: `{res.dataset_hash}`" in card
    assert "dataset sha256" not in card


def test_card_counts_reject_regenerate_accept_and_says_recorded(workspace):
    ws = workspace
    ws.store.add_inputs([(f"ticket {i}", None) for i in range(4)])
    _answer(ws, "recorded:demo", "bug")
    curation.decide(ws.store, [1, 2, 3, 4], "accepted")
    for row in (1, 2):  # rejected, regenerated, then accepted
        curation.decide(ws.store, [row], "rejected", "wrong")
        curation.regenerate(ws.store, [row])
        _answer(ws, "anthropic:claude-haiku-4-5", "billing")
        curation.decide(ws.store, [row], "accepted")
    curation.decide(ws.store, [3], "rejected", "wrong")
    prov = provenance.gather(ws)
    assert prov.curation["accepted"] == 3 and prov.curation["rejected"] == 1
    assert prov.curation["rejections"] == 3 and prov.curation["regenerations"] == 2
    assert prov.curation["reject_regenerate_accept"] == 2
    card = model_card.render(prov, "m")
    assert "3 rejection(s) and 2 regeneration(s), 2 row(s) rejected, regenerated" in card
    recorded = next(line for line in card.splitlines() if line.startswith("| recorded:demo"))
    assert recorded.rstrip(" |").endswith("recorded"), recorded
    by = {t.teacher: t for t in prov.teachers}
    assert by["recorded:demo"].first is None and by["anthropic:claude-haiku-4-5"].first
