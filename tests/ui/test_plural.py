"""Counts agree with their nouns (issue 35 item 8: "1 validation pairs")."""

from __future__ import annotations

from distill_tui.core.display import plural
from distill_tui.ui.screens.curate.export import preferences_line


def test_plural():
    assert plural(1, "validation pair") == "1 validation pair"
    assert plural(0, "input") == "0 inputs"
    assert plural(1200, "row") == "1,200 rows"
    assert plural(2, "leaf", "leaves") == "2 leaves"


def test_the_export_toast_says_1_validation_pair():
    counts = {"train": 3, "valid": 1, "kto_train": 1, "kto_valid": 0}
    line = preferences_line(counts, "1 from edits")
    assert "3 training pairs / 1 validation pair (1 from edits), 1 KTO row in" in line
