"""The near-duplicate filter new inputs pass (core/dataset/dedup.py and
core/synth/candidates.py): reworded copies are caught even when every text shares a
template, and what is dropped says why."""

from __future__ import annotations

import random

from distill_tui.core.config import Example, Project
from distill_tui.core.dataset import dedup
from distill_tui.core.synth.candidates import CandidateFilter, is_fragment, too_long_rule

WORDS = [f"w{i}x" for i in range(400)]


def ticket(rng: random.Random) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 25)))
    return f"Hello support team, {body}. Thanks in advance, regards"


def test_reworded_copies_are_caught_among_texts_sharing_a_template():
    rng = random.Random(3)
    store = [ticket(rng) for _ in range(600)]
    check = CandidateFilter(store)
    copies = []
    for t in rng.sample(store, 40):
        words = t.split()
        words[5] = words[5].upper() + "!"
        copies.append(" ".join(words))
    fresh = [ticket(rng) for _ in range(40)]
    report = check.filter(copies + fresh)
    assert report.kept == fresh
    assert {d.reason for d in report.dropped} == {"near-duplicate"}
    assert all(d.like in store for d in report.dropped)
    # The template's shingles are left out of the signatures, so buckets stay small.
    assert check._near.stop and max(map(len, check._near._buckets.values())) < 60


def test_salts_reach_the_hashes_high_bits():
    """32-bit salts left the order of 64-bit hashes unchanged: 16 equal minima."""
    s = dedup.shingles("a reasonably long sentence about a refund that never came")
    assert len(set(dedup.signature(s))) > 8


def test_exact_repeats_fragments_and_long_inputs_are_dropped_with_a_reason():
    settings = Project()
    settings.task.instructions = "Label it."
    settings.task.examples = [Example(input="a", output="billing")]
    settings.train.max_seq_length = 64
    check = CandidateFilter(["Where is my refund?"], too_long_rule(settings, lambda t: len(t) // 4))
    report = check.filter(["where is my  REFUND?", "{", "word " * 100, "A new one", "a new one"])
    assert report.kept == ["A new one"]
    assert [d.reason for d in report.dropped] == ["duplicate", "fragment", "too-long", "duplicate"]
    assert report.describe() == "kept 1 of 5; dropped 2 duplicate, 1 too-long, 1 fragment"
    assert is_fragment("```json") and is_fragment('"text": "a line",')
    assert is_fragment("},") and is_fragment('{"inputs": [') and not is_fragment('{"a": 1}')
    assert not is_fragment("[/] in a ticket is text") and not is_fragment("[bold]x[/bold]")
