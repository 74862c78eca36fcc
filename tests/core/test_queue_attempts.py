"""A row's request history: every failed attempt (with its error and what came
of it) and every answer, oldest first, for the Queue screen's row detail."""

from __future__ import annotations

from distill_tui.core.generate import queue as q
from distill_tui.core.generate.pricing import Usage


def test_every_attempt_of_a_row_is_kept(workspace):
    store = workspace.store
    store.add_inputs([("ticket", None)])
    (row,) = q.claim(store)
    q.note_retry(store, row.id, "529 overloaded")
    q.fail(store, row.id, "gave up after 2 attempts: 529 overloaded")
    assert q.retry_failed(store) == 1
    q.claim(store)
    q.release(store, [row.id], "not retried (run stopped): timeout")
    q.claim(store)
    record = q.GenerationRecord("billing", "anthropic:x", "h", Usage(10, 2), 0.001, 0.5, "end_turn")
    q.complete(store, row.id, record)

    history = q.attempts(store, row.id)
    assert [(a.get("attempt"), a["outcome"]) for a in history] == [
        (1, "retried"),
        (2, "failed"),
        (3, "released"),
        (None, "answered"),
    ]
    assert history[1]["error"] == "gave up after 2 attempts: 529 overloaded"
    assert history[3]["teacher"] == "anthropic:x"
    # Curation's undo ignores these events.
    from distill_tui.core.curate import curation

    assert curation.last_action(store) is None
