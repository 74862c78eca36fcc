"""The queue runner against the loopback server: retries, the permanent-error
stop, the budget stop, pause/resume, stop, limit, pacing, regeneration."""

from __future__ import annotations

import threading
import time

import pytest

from distill_tui.core.config import Price
from distill_tui.core.generate import queue as q
from distill_tui.engine.generate.queue import RetryPolicy, run_queue

FAST = RetryPolicy(max_attempts=4, base_s=0.01, cap_s=0.05)


def _setup(ws, n: int, **teacher):
    t = ws.settings.teacher
    t.model = "claude-haiku-4-5"
    t.requests_per_minute = 0
    t.concurrency = 4
    t.request_timeout_s = 0.5
    for k, v in teacher.items():
        setattr(t, k, v)
    ws.settings.task.instructions = "Answer."
    ws.store.add_inputs([(f"input {i}", None) for i in range(n)])


def _statuses(ws) -> dict[str, int]:
    c = ws.store.counts()
    return {k: c[k] for k in ("pending", "running", "done", "failed")}


def _wait_until(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def test_transient_faults_are_retried_and_counted(workspace, fake):
    _setup(workspace, 6, concurrency=1)
    fake.faults.extend(["429", "529", "500", "drop", "timeout"])
    fake.slow_s = 1.0
    result = run_queue(workspace, retry=RetryPolicy(max_attempts=6, base_s=0.01, cap_s=0.05))
    assert result.reason == "finished"
    assert _statuses(workspace) == {"pending": 0, "running": 0, "done": 6, "failed": 0}
    assert result.progress.retries == 5
    first = q.rows_page(workspace.store, 0, 1)[0]
    # Concurrency 1: the first row met all five faults, then succeeded.
    assert first["attempts"] == 6 and first["error"] is None
    # Each row was answered once: one generation per row.
    n_gen = workspace.store.conn.execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    assert n_gen == 6


def test_retry_after_holds_the_next_request(workspace, fake):
    _setup(workspace, 2, concurrency=1)
    fake.retry_after = "0.4"
    fake.faults.append("429")
    run_queue(workspace, retry=RetryPolicy(base_s=0.001, cap_s=0.001))
    gap = fake.times[1] - fake.times[0]
    assert gap >= 0.38


def test_rows_that_keep_failing_are_marked_failed_and_the_run_goes_on(workspace, fake):
    _setup(workspace, 3, concurrency=1)
    fake.faults.extend(["500"] * 4)  # the first row's four attempts
    result = run_queue(workspace, retry=FAST)
    assert result.reason == "finished" and result.ok
    assert _statuses(workspace) == {"pending": 0, "running": 0, "done": 2, "failed": 1}
    failed = [r for r in q.rows_page(workspace.store, 0, 10) if r["status"] == "failed"][0]
    assert failed["attempts"] == 4 and "gave up after 4 attempts" in failed["error"]
    # Retry failed rows: they go back to pending and get done.
    assert q.retry_failed(workspace.store) == 1
    run_queue(workspace, retry=FAST)
    assert _statuses(workspace)["done"] == 3


@pytest.mark.parametrize("status,words", [("401", "authentication"), ("400", "rejected")])
def test_permanent_error_stops_the_run(workspace, fake, status, words):
    _setup(workspace, 50)
    fake.always = status
    result = run_queue(workspace, retry=FAST)
    assert result.reason == "error" and not result.ok
    assert words in result.message
    # It stopped at once instead of burning through 50 rows, and no row is
    # marked failed for a problem that is not the row's.
    assert len(fake.message_requests) <= 4
    assert _statuses(workspace) == {"pending": 50, "running": 0, "done": 0, "failed": 0}


def test_budget_cap_stops_cleanly(workspace, fake):
    _setup(workspace, 40, concurrency=2)
    # 1 USD per output token makes each answer cost a few dollars.
    workspace.settings.teacher.prices = {"claude-haiku-4-5": Price(input=0, output=1_000_000)}
    result = run_queue(workspace, max_cost_usd=20.0, retry=FAST)
    assert result.reason == "budget"
    spent = q.spent_usd(workspace.store)
    per_row = spent / result.progress.done
    # Stopped before the cap, or past it by less than the in-flight rows.
    assert spent <= 20.0 + 2 * per_row
    assert result.progress.done < 40
    assert _statuses(workspace)["running"] == 0
    # The cap counts what the project spent before: a second run stops at once.
    again = run_queue(workspace, max_cost_usd=spent, retry=FAST)
    assert again.reason == "budget" and again.progress.done == 0


def test_limit_generates_only_n_rows(workspace, fake):
    _setup(workspace, 10)
    result = run_queue(workspace, limit=3)
    assert result.reason == "limit" and result.progress.done == 3
    assert _statuses(workspace)["pending"] == 7


def test_pause_lets_in_flight_finish_then_resume(workspace, fake):
    _setup(workspace, 30, concurrency=2)
    fake.latency_s = 0.05
    pause, stop = threading.Event(), threading.Event()
    states: list[str] = []
    out: dict = {}

    def go():
        out["r"] = run_queue(
            workspace,
            pause_event=pause,
            stop_event=stop,
            on_progress=lambda p: states.append(p.state),
        )

    t = threading.Thread(target=go)
    t.start()
    _wait_until(lambda: len(fake.message_requests) >= 4)
    pause.set()
    _wait_until(lambda: "paused" in states)
    # Requests already in flight finish and are saved; then nothing new starts.
    _wait_until(lambda: workspace.store.counts()["running"] == 0)
    frozen = len(fake.message_requests)
    time.sleep(0.3)
    assert len(fake.message_requests) == frozen
    pause.clear()
    t.join(20)
    assert out["r"].reason == "finished"
    assert _statuses(workspace)["done"] == 30


def test_stop_keeps_pending_rows_queued(workspace, fake):
    _setup(workspace, 30, concurrency=2)
    fake.latency_s = 0.05
    stop = threading.Event()
    seen = []

    def on_row(ev):
        seen.append(ev)
        if sum(e.status == "done" for e in seen) == 4:
            stop.set()

    result = run_queue(workspace, stop_event=stop, on_row=on_row)
    assert result.reason == "stopped"
    s = _statuses(workspace)
    assert s["running"] == 0 and 4 <= s["done"] <= 6 and s["pending"] == 30 - s["done"]


def test_requests_per_minute_cap_paces_requests(workspace, fake):
    _setup(workspace, 12, concurrency=8, requests_per_minute=1200)  # one per 50 ms
    t0 = time.monotonic()
    run_queue(workspace)
    elapsed = time.monotonic() - t0
    assert elapsed >= 11 * 0.05 * 0.9
    # Arrival times at the server: 12 requests span at least 11 intervals. (A
    # minimum gap between two arrivals would be flaky: a request delayed on a
    # busy machine arrives close to the next one, yet the pace is still kept.)
    assert fake.times[-1] - fake.times[0] >= 11 * 0.05 * 0.9


def test_progress_reports_tokens_cost_rate(workspace, fake):
    _setup(workspace, 8)
    seen = []
    result = run_queue(workspace, on_progress=seen.append)
    last = seen[-1]
    assert last.state == "finished" and last.done == 8 and last.planned == 8
    assert last.input_tokens > 0 and last.output_tokens > 0 and last.cost_usd > 0
    assert last.rows_per_min > 0
    assert result.progress.cost_usd == pytest.approx(q.spent_usd(workspace.store))


def test_regenerate_keeps_history(workspace, fake):
    _setup(workspace, 1)
    run_queue(workspace)
    row = q.rows_page(workspace.store, 0, 1)[0]
    with workspace.store.tx() as c:
        c.execute("UPDATE rows SET decision = 'rejected' WHERE id = ?", (row["id"],))
    workspace.settings.task.instructions = "Answer briefly."
    assert q.regenerate(workspace.store, [row["id"]]) == 1
    run_queue(workspace)
    hist = q.history(workspace.store, row["id"])
    assert len(hist) == 2 and hist[0]["prompt_hash"] != hist[1]["prompt_hash"]
    now = q.row_detail(workspace.store, row["id"])
    assert now["status"] == "done"
    d = workspace.store.conn.execute("SELECT decision, generation_id FROM rows").fetchone()
    assert d[0] is None and d[1] == hist[1]["id"]


def test_a_second_runner_is_refused(workspace, fake):
    _setup(workspace, 5)
    token = q.acquire_runner(workspace.store, "the Queue screen")
    try:
        with pytest.raises(q.QueueBusy, match="Queue screen"):
            run_queue(workspace)
    finally:
        q.release_runner(workspace.store, token)
    assert run_queue(workspace).reason == "finished"


def test_openai_compatible_teacher(workspace, fake, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    _setup(workspace, 3, provider="openai", model="gpt-4o-mini", base_url=fake.url + "/v1")
    fake.faults.extend(["429", "500"])
    result = run_queue(workspace, retry=FAST)
    assert result.reason == "finished" and result.progress.retries == 2
    req = fake.message_requests[-1]
    assert req["messages"][0] == {"role": "system", "content": "Answer."}
    assert req["messages"][-1]["role"] == "user"
    assert all(g["teacher"] == "openai:gpt-4o-mini" for g in q.history(workspace.store, 1))
    fake.always = "401"
    workspace.store.add_inputs([("one more", None)])
    assert run_queue(workspace, retry=FAST).reason == "error"


def test_in_flight_counts_the_rows_running_while_their_request_waits(workspace, fake):
    """Issue 35 item 3: "in flight 0" while two rows were running."""
    _setup(workspace, 2, concurrency=2, request_timeout_s=10)
    fake.latency_s = 1.5
    seen: list = []
    t = threading.Thread(target=lambda: run_queue(workspace, on_progress=seen.append))
    t.start()
    try:
        _wait_until(lambda: workspace.store.counts()["running"] == 2)
        time.sleep(0.3)
        assert seen[-1].state == "running" and seen[-1].in_flight == 2
    finally:
        t.join(20)
