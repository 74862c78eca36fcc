"""`distill-tui train` against `mlx_lm.lora -c runs/<id>/lora.yaml` on the demo's
real student (SmolLM2-135M-Instruct, LoRA), the same settings, whole process
each (start-up, model load, training, saving), alternating; prints the wall
time and the training tokens/sec each reports (the first report, with
compilation, left out), side by side, with the ratio.

    uv run python bench/bench_train_real.py [--iters N] [--repeat R]

The project is the demo (`create_demo`, every row accepted and exported).
The first distill-tui run converts the GGUF student into the cache and is
not timed; each later one and each mlx_lm.lora run reads the converted
folder. Both validate once, at the end (steps_per_eval = iters).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from distill_tui.core.curate import curation
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.project import Workspace
from distill_tui.core.train import runs as runs_db
from distill_tui.demo import create_demo


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}


def _timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return time.perf_counter() - t0, r.stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=2, help="alternate runs of each tool")
    a = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-train-real-")) / "demo"
    create_demo(root)
    ws = Workspace.open(root)
    ids = [r[0] for r in ws.store.conn.execute("SELECT id FROM rows WHERE status = 'done'")]
    curation.decide(ws.store, ids, "accepted")
    ws.settings.train = ws.settings.train.model_copy(
        update=dict(iters=a.iters, steps_per_report=1, steps_per_eval=a.iters,
                    steps_per_save=a.iters, val_batches=2)
    )  # fmt: skip
    ws.save_settings()
    export_dataset(ws.root, ws.store, ws.settings)
    ours = [sys.executable, "-m", "distill_tui.cli", "train", str(root), "--no-preflight"]
    _timed(ours)  # converts the GGUF student once; writes runs/<id>/lora.yaml
    run = runs_db.latest_run(ws.store)
    assert run is not None
    yaml = root / "runs" / run.id / "lora.yaml"
    mlx_lm = [sys.executable, "-m", "mlx_lm", "lora", "-c", str(yaml)]

    wall: dict[str, list[float]] = {"mlx_lm.lora": [], "distill-tui": []}
    step: dict[str, list[float]] = {"mlx_lm.lora": [], "distill-tui": []}
    for _ in range(a.repeat):
        secs, out = _timed(mlx_lm)
        wall["mlx_lm.lora"].append(secs)
        # Its report table: iteration, loss and an arrow, tokens/sec, ...
        text = re.sub(r"\x1b\[[0-9;]*m", "", out)
        rates = [float(m.replace(",", "")) for m in re.findall(
            r"^\s+\d+\s+[\d.]+ [▼▲]\s+([\d,]+)", text, re.M)]  # fmt: skip
        step["mlx_lm.lora"].append(_mean(rates[1:]))
        secs, _ = _timed(ours)
        wall["distill-tui"].append(secs)
        run = runs_db.latest_run(ws.store)
        assert run is not None
        ms = runs_db.metrics(ws.store, run.id, "train")
        step["distill-tui"].append(_mean([m.tokens_per_sec or 0 for m in ms[1:]]))

    print(f"SmolLM2-135M-Instruct (LoRA, demo settings), {a.iters} iterations,")
    print(f"best of {a.repeat} alternating whole-process runs; load {os.getloadavg()[0]:.1f}")
    print(f"{'':16}{'mlx_lm.lora':>13}{'distill-tui':>13}{'ratio':>8}")
    b, o = min(wall["mlx_lm.lora"]), min(wall["distill-tui"])
    print(f"{'wall time s':16}{b:13.1f}{o:13.1f}{o / b:8.3f}")
    b, o = max(step["mlx_lm.lora"]), max(step["distill-tui"])
    print(f"{'tokens/sec':16}{b:13.1f}{o:13.1f}{o / b:8.3f}")
    print("all runs:", {k: [round(x, 1) for x in v] for k, v in wall.items()})
    return 0


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


if __name__ == "__main__":
    t0 = time.time()
    rc = main()
    print(f"({time.time() - t0:.0f} s)")
    raise SystemExit(rc)
