"""Same model, data and settings through `python -m mlx_lm lora` and through
`distill-tui train`, in one run; prints tokens/sec and peak memory of each
and their ratio (the tool must not slow training: ratio >= 0.97).

    uv run python bench/bench_train.py [--iters N] [--hidden H] [--layers L]

Both read their own reports: mlx-lm's printed "tok/s" lines, and the metrics
distill-tui writes to its store. The first report window (compilation) is
left out of both averages.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tiny task's split

from support.tiny_task import write_split  # noqa: E402

from distill_tui.core.project import Workspace  # noqa: E402
from distill_tui.core.train import loraconfig  # noqa: E402
from distill_tui.core.train import runs as runs_db  # noqa: E402
from distill_tui.demo.tiny import build_tiny_model  # noqa: E402
from distill_tui.engine.mlx_thread import mlx_thread  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=2, help="alternate runs of each tool")
    a = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    model = mlx_thread().call(
        build_tiny_model, tmp / "model", hidden_size=a.hidden, num_layers=a.layers,
        intermediate_size=4 * a.hidden,
    )  # fmt: skip
    ws = Workspace.create(tmp / "proj")
    ws.settings.student.model = str(model)
    ws.settings.train = ws.settings.train.replace(
        **dict(
            iters=a.iters, batch_size=a.batch_size, learning_rate=1e-4, num_layers=-1,
            steps_per_report=10, steps_per_eval=a.iters, steps_per_save=a.iters,
            val_batches=2, lora_rank=16, mask_prompt=False,
        )
    )  # fmt: skip
    ws.save_settings()
    write_split(ws.root / "data", n_train=256, n_valid=16)
    t = ws.settings.train
    settings = loraconfig.lora_settings(t, str(model), str(ws.root / "data"), str(tmp / "mlxlm"))
    (tmp / "lora.yaml").write_text(loraconfig.to_yaml(settings))

    results: dict[str, list[tuple[float, float]]] = {"mlx_lm.lora": [], "distill-tui": []}
    for _ in range(a.repeat):
        # mlx_lm.lora, exactly as a user would run it from the run's lora.yaml.
        out = subprocess.run(
            [sys.executable, "-c", _MLX_LM_MAIN, "--config", str(tmp / "lora.yaml")],
            capture_output=True, text=True, check=True, env={**_env(), "COLUMNS": "200"},
        )  # fmt: skip
        text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout)
        rates = [float(m.replace(",", "")) for m in re.findall(
            r"^\s+\d+\s+[\d.]+ [▼▲]\s+([\d,]+)", text, re.M)]  # fmt: skip
        peak = _mlx_lm_peak(text)
        results["mlx_lm.lora"].append((_mean(rates[1:]), peak))

        subprocess.run(
            [sys.executable, "-m", "distill_tui.cli", "train", str(ws.root), "--no-preflight"],
            capture_output=True, text=True, check=True, env=_env(),
        )  # fmt: skip
        run = runs_db.latest_run(ws.store)
        assert run is not None
        ms = runs_db.metrics(ws.store, run.id, "train")
        results["distill-tui"].append(
            (_mean([m.tokens_per_sec or 0 for m in ms[1:]]), max(m.peak_memory_gb or 0 for m in ms))
        )

    base_tps = max(r[0] for r in results["mlx_lm.lora"])
    base_mem = min(r[1] for r in results["mlx_lm.lora"] if r[1]) if any(
        r[1] for r in results["mlx_lm.lora"]) else float("nan")  # fmt: skip
    ours_tps = max(r[0] for r in results["distill-tui"])
    ours_mem = min(r[1] for r in results["distill-tui"])
    print(f"model: Qwen2 hidden {a.hidden}, {a.layers} layers; LoRA rank 16 on all layers;")
    print(f"batch {a.batch_size}, {a.iters} iterations, best of {a.repeat} alternating runs")
    print(f"{'':14}{'mlx_lm.lora':>14}{'distill-tui':>14}{'ratio':>9}")
    print(f"{'tokens/sec':14}{base_tps:14.0f}{ours_tps:14.0f}{ours_tps / base_tps:9.3f}")
    print(f"{'peak mem GB':14}{base_mem:14.4f}{ours_mem:14.4f}{ours_mem / base_mem:9.3f}")
    print("all runs (tok/s, peak GB):", {k: [(round(x), round(y, 4)) for x, y in v]
                                       for k, v in results.items()})  # fmt: skip
    return 0


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "HF_HUB_OFFLINE": "1"}


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


# mlx_lm.lora's own entry point, unchanged; its display does not print peak
# memory, so read the process's peak afterwards.
_MLX_LM_MAIN = (
    "import sys, mlx.core as mx, mlx_lm.lora as L; sys.argv[0] = 'mlx_lm.lora'; L.main(); "
    "print(f'PEAK {mx.get_peak_memory() / 1e9}')"
)


def _mlx_lm_peak(stdout: str) -> float:
    m = re.findall(r"^PEAK ([\d.e-]+)", stdout, re.M)
    return float(m[-1]) if m else 0.0


if __name__ == "__main__":
    t0 = time.time()
    rc = main()
    print(f"({time.time() - t0:.0f} s)")
    raise SystemExit(rc)
