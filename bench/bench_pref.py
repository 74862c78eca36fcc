"""A DPO step against an SFT step of the same batch size on the demo's real
student (SmolLM2-135M-Instruct, LoRA rank 8 on 4 layers), each run as
`distill-tui train` in its own process; prints seconds per step and peak
memory side by side with their ratios (issue 21's targets: a DPO step at most
3x an SFT step, peak memory at most 1.1x: the reference model is not held).

    uv run python bench/bench_pref.py [--iters N] [--batch-size B]

Both read the metrics the trainer writes to the store; the first report
window (compilation) is left out of the step times. The DPO batch holds B
pairs, so 2B sequences: the same B prompts with both answers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from distill_tui.core.train import runs as runs_db
from distill_tui.demo import bundled_rows, create_demo, packaged_gguf, wrong_label

SYSTEM = "Label: billing, bug, feature or account."


def _write(root: Path, n: int) -> None:
    rows = bundled_rows()
    (root / "data" / "pref").mkdir(parents=True, exist_ok=True)
    for name, part in (("train", rows[:n]), ("valid", rows[-8:])):
        with open(root / "data" / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for r in part:
                msgs = [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": r["input"]},
                    {"role": "assistant", "content": r["output"]},
                ]
                f.write(json.dumps({"messages": msgs}) + "\n")
        with open(root / "data" / "pref" / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for i, r in enumerate(part):
                rec = {
                    "prompt": r["input"],
                    "system": SYSTEM,
                    "chosen": r["output"],
                    "rejected": wrong_label(r["output"]),
                    "source": "edit",
                    "row_id": i,
                }
                f.write(json.dumps(rec) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=4)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pref-"))
    ws = create_demo(tmp / "demo", student=None)
    ws.settings.student.model = str(packaged_gguf())
    ws.settings.train = ws.settings.train.replace(
        **dict(
            iters=a.iters, batch_size=a.batch_size, lora_rank=8, num_layers=4,
            learning_rate=1e-4, max_seq_length=128, steps_per_report=4,
            steps_per_eval=10**6, steps_per_save=10**6, val_batches=1,
            early_stopping_patience=0,
        )
    )  # fmt: skip
    ws.save_settings()
    _write(ws.root, 64)
    exe = [sys.executable, "-m", "distill_tui.cli", "train", str(ws.root), "--no-preflight"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    results = {}
    for objective in ("sft", "dpo"):
        subprocess.run(
            [*exe, "--objective", objective], capture_output=True, text=True, check=True, env=env
        )
        run = runs_db.latest_run(ws.store)
        assert run is not None
        ms = runs_db.metrics(ws.store, run.id, "train")
        steps = [1 / m.it_per_sec for m in ms[1:] if m.it_per_sec]
        results[objective] = (
            sum(steps) / len(steps),
            max(m.peak_memory_gb or 0 for m in ms),
        )
    (s_t, s_m), (d_t, d_m) = results["sft"], results["dpo"]
    print("model: SmolLM2-135M-Instruct (GGUF, converted), LoRA rank 8 on 4 layers,")
    print(f"batch {a.batch_size} (DPO: {a.batch_size} pairs), {a.iters} iterations each")
    print(f"{'':16}{'SFT':>10}{'DPO':>10}{'ratio':>8}  target")
    print(f"{'s per step':16}{s_t:10.3f}{d_t:10.3f}{d_t / s_t:8.2f}  <= 3")
    print(f"{'peak mem GB':16}{s_m:10.3f}{d_m:10.3f}{d_m / s_m:8.2f}  <= 1.1")
    return 0


if __name__ == "__main__":
    t0 = time.time()
    rc = main()
    print(f"({time.time() - t0:.0f} s)")
    raise SystemExit(rc)
