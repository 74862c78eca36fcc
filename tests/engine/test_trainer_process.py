"""`distill-tui train` as a process: kill -9 then resume continues the same
loss curve, and data-parallel training under `mlx.launch` on loopback."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from support.trainutil import FAST_FLAGS, fast, make_project

from distill_tui.core.train import runs as runs_db
from distill_tui.engine.train import trainer as tr

CLI = [sys.executable, "-m", "distill_tui.cli", "train"]


@pytest.fixture
def ws(workspace, tiny_model):
    return make_project(workspace, tiny_model)


def test_kill_9_then_resume_matches_an_uninterrupted_run(ws):
    iters = 120
    proc = subprocess.Popen(
        [*CLI, str(ws.root), "--iters", str(iters), *FAST_FLAGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    for line in proc.stdout:
        seen.append(line)
        # Checkpoint 20 is on disk by the time iteration 25 is reported.
        if re.match(r"iter\s+25/", line):
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(seen)
    killed = runs_db.latest_run(ws.store)
    assert killed.status == "interrupted"

    resumed = tr.train_run(ws, resume=killed.id)
    assert resumed.run_id == killed.id and resumed.iter == iters
    straight = tr.train_run(ws, fast(iters))

    a = runs_db.history(ws.store, resumed.run_id, "train")
    b = runs_db.history(ws.store, straight.run_id, "train")
    assert [i for i, _ in a] == [i for i, _ in b] == list(range(5, iters + 1, 5))
    for (it, x), (_, y) in zip(a, b, strict=True):
        assert x == pytest.approx(y, rel=1e-4, abs=1e-5), f"iteration {it}"
    # Validation keeps the uninterrupted run's schedule (a resume used to
    # validate where it restarted and shift every later one), so best/ is
    # the same checkpoint.
    va = dict(runs_db.history(ws.store, resumed.run_id, "val"))
    vb = dict(runs_db.history(ws.store, straight.run_id, "val"))
    assert sorted(va) == sorted(vb) == [1, *range(10, iters + 1, 10)]
    for it, v in vb.items():
        assert va[it] == pytest.approx(v, rel=1e-4, abs=1e-5), f"val at {it}"
    ra, rb = runs_db.get_run(ws.store, resumed.run_id), runs_db.get_run(ws.store, straight.run_id)
    assert ra.best_iter == rb.best_iter
    # The trained-token count carried across the crash.
    last_a = runs_db.metrics(ws.store, resumed.run_id, "train")[-1]
    last_b = runs_db.metrics(ws.store, straight.run_id, "train")[-1]
    assert last_a.trained_tokens == last_b.trained_tokens


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000:
            with socket.socket() as s2:
                try:
                    s2.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair")


def test_mlx_launch_two_ranks_share_the_data_and_only_rank_0_writes(ws):
    launch = Path(sys.executable).with_name("mlx.launch")
    distill = Path(sys.executable).with_name("distill-tui")
    cmd = [
        str(launch), "-n", "2", "--backend", "ring", "-p", str(_free_port_pair()), "--",
        str(distill), "train", str(ws.root), "--iters", "12", *FAST_FLAGS,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text

    shares = {}
    for m in re.finditer(r"rank (\d)/2: trained on (\d+) rows: ([\d,]+)", text):
        shares[int(m.group(1))] = {int(x) for x in m.group(3).split(",")}
    assert set(shares) == {0, 1}, text
    # 12 steps of 4 rows are one epoch; each rank took every other row of each
    # batch: disjoint halves of the 48 rows.
    assert shares[0].isdisjoint(shares[1])
    assert shares[0] | shares[1] == set(range(48))
    assert all(r % 2 == 0 for r in shares[0]) and all(r % 2 == 1 for r in shares[1])

    # One run row, one run folder, one set of lines: rank 1 wrote nothing.
    runs = runs_db.list_runs(ws.store)
    assert len(runs) == 1 and runs[0].status == "finished"
    assert runs[0].config["world_size"] == 2
    assert [p.name for p in (ws.root / "runs").iterdir()] == [runs[0].id]
    assert (ws.root / "runs" / runs[0].id / "adapters.safetensors").is_file()
    assert len(re.findall(r"iter\s+12/12\s+train loss", text)) == 1
