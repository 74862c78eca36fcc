"""Near-duplicates of long texts (issue 34 item 11): the shingles cover the
whole text, so texts sharing a long preamble are not near-duplicates unless
the whole texts are (a reported pair is always >= 0.8), and export says
"near-duplicate" where that is what joined its groups."""

from __future__ import annotations

import random

import pytest
from support.curate_helpers import add_answered

from distill_tui.core.curate import curation as cur
from distill_tui.core.curate.checks import duplicate_links, run_checks
from distill_tui.core.dataset import dedup
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.errors import UserError
from distill_tui.core.synth.candidates import CandidateFilter

WORDS = [f"{a}{b}{c}" for a in "bcdfgklmnp" for b in "aeiou" for c in "rstvz"]


def words(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        out.append(rng.choice(WORDS) + rng.choice(WORDS))
        size += len(out[-1]) + 1
    return " ".join(out)


def contracts(n: int = 60) -> list[str]:
    rng = random.Random(11)
    preamble = "AGREEMENT. " + words(rng, 2100)
    return [f"{preamble} CLAUSES {i}: {words(rng, 3700)}" for i in range(n)]


def jaccard(a: str, b: str) -> float:
    x, y = dedup.shingles(a), dedup.shingles(b)
    return len(x & y) / len(x | y)


def test_a_shared_preamble_past_2000_characters_is_no_near_duplicate():
    texts = contracts()
    assert len(texts[0]) > 5000 and jaccard(texts[0], texts[1]) < 0.5
    exact, near = duplicate_links(list(enumerate(texts, 1)))
    assert exact == {} and near == {}
    report = CandidateFilter().filter(texts)
    assert report.kept == texts and report.dropped == []


def test_a_long_copy_changed_past_2000_characters_is_caught_and_truly_alike():
    texts = contracts(3)
    copy = texts[0][:4000] + texts[0][4000:].replace(" ", "  ", 5).upper()  # case, spacing
    edited = texts[1][:3000] + " one more clause " + texts[1][3000:]
    _exact, near = duplicate_links([(1, texts[0]), (2, texts[1]), (3, edited), (4, copy)])
    assert near == {3: 2}
    assert all(jaccard(dict(enumerate(texts, 1))[b], edited) >= 0.8 for b in near.values())
    check = CandidateFilter(texts)
    report = check.filter([edited])
    assert [d.reason for d in report.dropped] == ["near-duplicate"]
    assert jaccard(report.dropped[0].like or "", edited) >= dedup.THRESHOLD


def test_export_says_near_duplicate_when_that_is_what_joined_the_inputs(workspace):
    ws = workspace
    ws.settings.train.batch_size = 2
    ws.settings.split.valid_fraction = 0.2
    base = "My invoice for March shows a charge I do not recognise, please explain it"
    pairs = [(f"{base}{'!' * (i + 1)}", "billing") for i in range(6)]
    pairs.append(("The app crashes when I open the settings page on Android", "bug"))
    cur.accept(ws.store, add_answered(ws.store, pairs))
    run_checks(ws.store, ws.settings)
    with pytest.raises(UserError) as e:
        export_dataset(ws.root, ws.store, ws.settings)
    msg = str(e.value)
    assert "too few distinct inputs" in msg and "near-duplicate" in msg
    assert "identical inputs on one" not in msg
