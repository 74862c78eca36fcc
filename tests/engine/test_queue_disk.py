"""`generate` on a disk that fills up (issue 17, item 3): every answer paid
for is in the store or in unsaved-answers.jsonl, whose room is written before
the first request; when even that file cannot take an answer the run stops
at once and says how many were lost. A real small file system (tmpfs) and the
loopback teacher; nothing inside the engine is faked."""

from __future__ import annotations

from collections import Counter

import pytest
from support.small_disk import fill, small_disk

from distill_tui.cli import main
from distill_tui.core.generate import unsaved
from distill_tui.core.project import Workspace
from distill_tui.engine.generate.queue import RetryPolicy, run_queue


def _project(ws: Workspace, n: int, concurrency: int) -> str:
    t = ws.settings.teacher
    t.model = "claude-haiku-4-5"
    t.requests_per_minute = 0
    t.concurrency = concurrency
    ws.save_settings()
    ws.store.add_inputs([(f"input {i} " + "x" * 2000, None) for i in range(n)])
    return str(ws.root)


@pytest.fixture
def disk(tmp_path):
    with small_disk(tmp_path / "disk", 1024) as d:
        yield d


def _statuses(ws: Workspace) -> dict[str, int]:
    return dict(ws.store.conn.execute("SELECT status, COUNT(*) FROM rows GROUP BY status"))


def test_a_disk_filling_mid_run_loses_no_paid_answer(disk, fake, capsys):
    ws = Workspace.create(disk / "proj")
    root = _project(ws, 12, concurrency=4)
    fake.latency_s = 0.3
    filled = []

    def on_row(ev) -> None:
        if ev.status == "done" and not filled:
            filled.append(fill(disk))

    result = run_queue(ws, on_row=on_row, retry=RetryPolicy(base_s=0.01))
    p = result.progress
    asked = len(fake.message_requests)
    assert result.reason == "error", result.message
    assert "disk full (" in result.message and "bytes free on" in result.message
    assert p.lost == 0 and p.unsaved >= 1, result.message
    assert f"{p.unsaved} paid answer(s) kept in unsaved-answers.jsonl" in result.message
    assert p.done + p.unsaved == asked < 12  # stopped asking once the store failed
    assert unsaved.count(ws.store) == p.unsaved

    filled[0].unlink()
    assert main(["generate", root, "--quiet"]) == 0
    assert f"stored {p.unsaved} answer(s) an earlier run had kept" in capsys.readouterr().err
    assert _statuses(ws) == {"done": 12}
    assert len(fake.message_requests) == 12  # nothing paid for twice
    per_row = Counter(r[0] for r in ws.store.conn.execute("SELECT row_id FROM generations"))
    assert set(per_row.values()) == {1}
    assert not unsaved.path_for(ws.store).exists()


def test_when_not_even_the_kept_file_can_grow_the_run_stops_at_once(disk, fake):
    ws = Workspace.create(disk / "proj")
    _project(ws, 6, concurrency=1)
    # Far longer than the room kept for one answer of max_tokens tokens.
    fake.reply = lambda text: "y" * 200_000
    filled = []

    def on_row(ev) -> None:
        if ev.status == "running" and not filled:
            filled.append(fill(disk))

    result = run_queue(ws, on_row=on_row, retry=RetryPolicy(base_s=0.01))
    assert result.reason == "error"
    assert result.progress.lost == 1 and result.progress.done == 0
    assert "1 answer(s) received and not kept" in result.message, result.message
    assert "disk full (" in result.message
    assert len(fake.message_requests) == 1  # never kept requesting


def test_no_room_to_keep_answers_means_no_request(disk, fake, capsys):
    ws = Workspace.create(disk / "proj")
    root = _project(ws, 8, concurrency=8)  # room for 8 answers: about 72 KB
    ws.store.counts()  # the store stays open, as the app holds it: its -shm exists
    fill(disk, leave_bytes=48 * 1024)  # room for the store's writes, not for 8 answers
    assert main(["generate", root, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert "not started: disk full (" in last and "nothing was requested" in last, err
    assert fake.message_requests == []
