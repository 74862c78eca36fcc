"""Message Batches mode against the loopback server: submit, poll, store,
and resume an open batch after a restart without submitting it again."""

from __future__ import annotations

import pytest
from support.llm_server import answer_for

from distill_tui.core.generate import queue as q
from distill_tui.engine.generate.teachers.message_batches import run_batches


def _setup(ws, n):
    t = ws.settings.teacher
    t.model, t.batch_poll_s, t.base_url = "claude-haiku-4-5", 0.01, None
    ws.settings.task.instructions = "Answer."
    ws.store.add_inputs([(f"input {i}", None) for i in range(n)])


def test_batch_runs_to_the_end_at_half_price(workspace, fake):
    _setup(workspace, 5)
    fake.batch_ready_after = 3
    result = run_batches(workspace)
    assert result.reason == "finished" and result.progress.done == 5
    assert len(fake.batches) == 1
    rows = q.rows_page(workspace.store, 0, 10)
    assert all(r["status"] == "done" and r["output"] == answer_for(r["input"]) for r in rows)
    # Same tokens as a direct request would cost, at half the price.
    from distill_tui.core.generate.pricing import Usage, cost, price_for

    g = q.history(workspace.store, rows[0]["id"])[0]
    u = Usage(
        g["input_tokens"], g["output_tokens"], g["cache_read_tokens"], g["cache_write_tokens"]
    )
    assert g["cost_usd"] == pytest.approx(cost(u, price_for("claude-haiku-4-5")) / 2)


def test_an_open_batch_resumes_after_a_restart(workspace, fake):
    _setup(workspace, 4)
    fake.batch_ready_after = 10**9  # never ends while the first run polls
    import threading

    stop = threading.Event()
    stop.set()  # the first run submits, polls once and stops (like a killed process)
    first = run_batches(workspace, stop_event=stop)
    assert first.reason == "stopped"
    assert workspace.store.counts()["running"] == 4
    # A plain (non-batch) run must not touch rows held by the batch.
    assert q.reset_stale(workspace.store) == 0

    fake.batch_ready_after = 0
    again = run_batches(workspace)
    assert again.reason == "finished" and again.progress.done == 4
    assert len(fake.batches) == 1  # resumed by id, not submitted twice
    assert workspace.store.counts()["done"] == 4
