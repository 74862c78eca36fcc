"""A teacher with no known price is never shown as free on the Queue screen:
its rows read `?` and the totals `unknown`, as `status` says."""

from __future__ import annotations

from distill_tui.ui.screens.queue.view import detail_text, progress_text, row_cells


def test_unpriced_answers_read_unknown_not_zero():
    row = {"id": 7, "status": "done", "teacher": "local-model", "cost_usd": None}
    assert row_cells(row)[5].plain == "?"
    assert row_cells({"id": 8, "status": "pending", "cost_usd": None})[5].plain == ""
    assert row_cells({**row, "cost_usd": 0.0123})[5].plain == "0.0123"
    # Too small for four decimals: never a free-looking 0.0000.
    assert row_cells({**row, "cost_usd": 0.00002})[5].plain == "<.0001"
    assert "$0.000020" in detail_text({**row, "cost_usd": 0.00002}).plain
    idle = progress_text(None, {"pending": 0, "done": 3, "cost_usd": 0.0, "cost_unknown": 3})
    assert "spent unknown (3 without a price)" in idle.plain
    mixed = progress_text(None, {"done": 4, "cost_usd": 0.5, "cost_unknown": 1}).plain
    assert "$0.5000 + unknown (1 without a price)" in mixed
    assert "unknown" in detail_text(row).plain and "$0.0000" not in detail_text(row).plain
