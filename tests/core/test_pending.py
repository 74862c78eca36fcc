"""Deleting a pending input (the Queue screen's delete key): only one with
nothing saved for it; anything answered or curated is refused with why."""

from __future__ import annotations

import pytest

from distill_tui.core.errors import UserError
from distill_tui.core.generate import queue as q
from distill_tui.core.generate.pending import delete_pending
from distill_tui.core.generate.pricing import Usage


def test_only_an_unanswered_pending_input_is_deleted(workspace):
    store = workspace.store
    store.add_inputs([("```", None), ("answered", None)])
    assert delete_pending(store, 1) == "```"
    assert store.counts()["inputs"] == 1
    with pytest.raises(UserError, match="row 1 is gone already"):
        delete_pending(store, 1)
    (claimed,) = q.claim(store, 1)
    with pytest.raises(UserError, match="row 2 is running: only pending inputs"):
        delete_pending(store, claimed.id)
    q.complete(
        store,
        claimed.id,
        q.GenerationRecord("ok", "t", "h", Usage(1, 1), 0.001, 0.1, "end_turn"),
    )
    q.regenerate(store, [claimed.id])  # pending again, with a paid answer
    with pytest.raises(UserError, match="has teacher answers or curation history"):
        delete_pending(store, claimed.id)
    assert store.counts()["inputs"] == 1
