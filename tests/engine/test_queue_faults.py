"""`distill-tui generate` when things go wrong (issue 12, items 2, 3, 8, 9, 10):
rows left running by a killed run, a store locked by another process, a dead
teacher, a huge retry-after, answers that are not JSON. The real Anthropic SDK
talks to the loopback server; nothing is faked inside the engine."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time

import pytest

from distill_tui.cli import main
from distill_tui.core.generate import unsaved
from distill_tui.core.project import Workspace
from distill_tui.core.store import Store
from distill_tui.engine.generate.queue import RetryPolicy, run_queue


def _project(ws: Workspace, n: int, **teacher) -> str:
    t = ws.settings.teacher
    t.model = "claude-haiku-4-5"
    t.requests_per_minute = 0
    t.concurrency = 4
    for k, v in teacher.items():
        setattr(t, k, v)
    ws.save_settings()
    ws.store.add_inputs([(f"input {i}", None) for i in range(n)])
    return str(ws.root)


def _statuses(store: Store) -> dict[str, int]:
    return dict(store.conn.execute("SELECT status, COUNT(*) FROM rows GROUP BY status").fetchall())


@pytest.mark.parametrize("flags", [[], ["--retry-failed"]])
def test_rows_left_running_by_a_killed_run_are_generated(workspace, fake, capsys, flags):
    root = _project(workspace, 4)
    with workspace.store.tx() as c:  # what kill -9 mid-request leaves behind
        c.execute("UPDATE rows SET status = 'running', attempts = 1")
    assert main(["generate", root, "--quiet", *flags]) == 0
    out, err = capsys.readouterr()
    assert "queued 4 row(s) left running" in err
    assert "nothing to generate" not in out
    assert _statuses(workspace.store) == {"done": 4}


def test_dead_teacher_stops_the_run_and_leaves_rows_pending(workspace, monkeypatch, capsys):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{port}")
    root = _project(workspace, 20)
    t0 = time.monotonic()
    assert main(["generate", root, "--quiet"]) == 2
    assert time.monotonic() - t0 < 20
    err = capsys.readouterr().err
    assert "did not answer 5 requests in a row" in err and "Traceback" not in err
    assert _statuses(workspace.store) == {"pending": 20}


def test_failed_rows_exit_1_and_retries_count_only_retries(workspace, fake, capsys):
    root = _project(workspace, 2, max_attempts=2, concurrency=2)
    fake.always = "500"
    assert main(["generate", root, "--quiet"]) == 1
    out, err = capsys.readouterr()
    # 2 rows x 2 attempts: one retry each, the second attempt is not a retry.
    assert "0 done, 2 failed, 2 retries" in out
    assert "2 row(s) failed" in err and "--retry-failed" in err
    assert len(fake.message_requests) == 4


def test_a_day_long_retry_after_stops_the_run_instead_of_waiting(workspace, fake, capsys):
    root = _project(workspace, 3, concurrency=1)
    fake.faults.append("429")
    fake.retry_after = "86400"
    t0 = time.monotonic()
    assert main(["generate", root, "--quiet"]) == 2
    assert time.monotonic() - t0 < 10
    err = capsys.readouterr().err
    assert "asked to wait 24 h" in err and "rows stay pending" in err
    assert _statuses(workspace.store) == {"pending": 3}


def test_a_rate_limit_wait_is_printed(workspace, fake, capsys):
    root = _project(workspace, 1, concurrency=1)
    fake.faults.append("429")
    fake.retry_after = "1.5"
    assert main(["generate", root]) == 0
    assert "rate limited: waiting" in capsys.readouterr().err


def test_max_cost_nan_is_refused(workspace, fake, capsys):
    root = _project(workspace, 1)
    with pytest.raises(SystemExit) as e:
        main(["generate", root, "--max-cost", "nan"])
    assert e.value.code == 2
    assert "not a finite number" in capsys.readouterr().err
    assert fake.message_requests == []


def test_html_bad_json_and_empty_answers_are_failed_attempts(workspace, fake, capsys):
    root = _project(workspace, 3, concurrency=1, max_attempts=1)
    fake.faults.extend(["html", "badjson", "empty"])
    assert main(["generate", root, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "JSONDecodeError" not in err
    errors = sorted(r[0] for r in workspace.store.conn.execute("SELECT error FROM rows"))
    assert sum("not valid JSON" in e for e in errors) == 2
    assert sum("answer was empty" in e for e in errors) == 1
    assert _statuses(workspace.store) == {"failed": 3}


def _hold_write_lock(db, until) -> threading.Thread:
    """Another process's long write transaction, from first request to `until()`."""
    started = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        started.set()
        deadline = time.monotonic() + 30
        while not until() and time.monotonic() < deadline:
            time.sleep(0.01)
        other.execute("ROLLBACK")
        other.close()

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    return t, started


def _locked_run(workspace, fake, write_wait_s: float, until):
    """Run the queue on one row; another connection takes the write lock
    while the teacher is answering."""
    _project(workspace, 1, concurrency=1)
    ws = Workspace(
        workspace.root, workspace.settings, Store(workspace.store.path, busy_timeout_s=0.1)
    )
    fake.latency_s = 0.3
    holder: list[threading.Thread] = []

    def on_row(ev) -> None:
        if ev.status == "running" and not holder:
            t, started = _hold_write_lock(ws.store.path, until)
            started.wait(5)
            holder.append(t)

    result = run_queue(ws, retry=RetryPolicy(base_s=0.01, write_wait_s=write_wait_s), on_row=on_row)
    holder[0].join(10)
    return ws, result


def test_an_answer_waits_out_a_short_write_lock(workspace, fake):
    t0 = time.monotonic()
    ws, result = _locked_run(workspace, fake, 10.0, lambda: time.monotonic() - t0 > 0.8)
    assert result.complete, result.message
    assert _statuses(ws.store) == {"done": 1}
    assert len(fake.message_requests) == 1


def test_a_paid_answer_outlasting_the_lock_wait_is_kept_and_stored_next_run(
    workspace, fake, capsys, caplog
):
    path = unsaved.path_for(workspace.store)
    ws, result = _locked_run(workspace, fake, 0.3, lambda: unsaved.count(workspace.store) > 0)
    assert "never retrieved" not in caplog.text
    assert result.reason == "error" and result.progress.unsaved == 1
    assert "1 paid answer(s) kept in unsaved-answers.jsonl" in result.message
    assert path.is_file() and _statuses(ws.store) == {"running": 1}

    fake.latency_s = 0
    assert main(["generate", str(workspace.root), "--quiet"]) == 0
    assert "stored 1 answer(s) an earlier run had kept" in capsys.readouterr().err
    assert _statuses(ws.store) == {"done": 1} and not path.exists()
    assert len(fake.message_requests) == 1  # the paid answer was not asked for again
    cost = ws.store.counts()["cost_usd"]
    assert cost > 0


def test_the_openai_teacher_treats_bad_answers_the_same(workspace, fake, monkeypatch, capsys):
    root = _project(workspace, 3, concurrency=1, max_attempts=1, provider="openai")
    workspace.settings.teacher.base_url = fake.url + "/v1"
    workspace.save_settings()
    fake.faults.extend(["html", "badjson", "empty"])
    assert main(["generate", root, "--quiet"]) == 1
    errors = sorted(r[0] for r in workspace.store.conn.execute("SELECT error FROM rows"))
    assert sum("not valid JSON" in e for e in errors) == 2, errors
    assert sum("answer was empty" in e for e in errors) == 1, errors
