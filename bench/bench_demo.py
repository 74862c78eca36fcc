"""The demo loop, from `demo` to `eval`, with the demo's real student
(SmolLM2-135M-Instruct, LoRA) beside the baseline, the random-weight student
the demo used before (full fine-tune); prints each step's wall time, the
validation exact match of base and adapter, and what `chat --base` answers.

    uv run python bench/bench_demo.py [--only smollm2|tiny] [--keep]

Each step is the headless command a user would type (`curate --accept-all`,
`export`, `train`, `eval --json`, `chat --base`), in a fresh project and a
fresh cache folder, so the GGUF conversion is counted as on a new machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from distill_tui.core.project import Workspace
from distill_tui.core.train import runs as runs_db
from distill_tui.demo import create_demo

QUESTION = "What is the capital of France?"


def cli(*args: str, env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", *args], capture_output=True, text=True, env=env
    )
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return time.perf_counter() - t0, r.stdout


def loop(student: str, tmp: Path) -> dict[str, object]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp / f"cache-{student}")}
    os.environ["XDG_CACHE_HOME"] = env["XDG_CACHE_HOME"]  # create_demo runs in-process
    root = tmp / student
    out: dict[str, object] = {}
    t0 = time.perf_counter()
    create_demo(root, student=student)  # type: ignore[arg-type]
    out["demo (create, convert)"] = time.perf_counter() - t0
    a, _ = cli("curate", str(root), "--accept-all", env=env)
    b, _ = cli("export", str(root), env=env)
    out["curate + export"] = a + b
    out["train"], _ = cli("train", str(root), env=env)
    ws = Workspace.open(root)
    run = runs_db.latest_run(ws.store)
    assert run is not None
    val = runs_db.history(ws.store, run.id, "val")
    out["iterations"] = max(i for i, _ in runs_db.history(ws.store, run.id, "train"))
    out["val loss first -> best"] = f"{val[0][1]:.3f} -> {min(v for _, v in val):.3f}"
    out["eval"], text = cli("eval", str(root), "--json", env=env)
    result = json.loads(text)
    out["valid rows"] = result["rows"]
    out["exact match base"] = result["base"]["exact_match"]
    out["exact match adapter"] = result["adapter"]["exact_match"]
    out["chat --base"], said = cli("chat", str(root), "--base", "--prompt", QUESTION, env=env)
    out["base says"] = said.strip().splitlines()[0][:30] if said.strip() else ""
    out["demo to eval"] = sum(
        float(v)  # type: ignore[arg-type,misc]
        for k, v in out.items()
        if k in ("demo (create, convert)", "curate + export", "train", "eval")
    )
    return out


def fmt(key: str, v: object) -> str:
    if isinstance(v, float):
        return f"{v:.0%}" if key.startswith("exact match") else f"{v:.1f} s"
    return str(v)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["smollm2", "tiny"])
    ap.add_argument("--keep", action="store_true", help="keep the projects (path printed)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    students = [a.only] if a.only else ["tiny", "smollm2"]
    results = {s: loop(s, tmp) for s in students}
    names = {"tiny": "baseline: random tiny, full", "smollm2": "SmolLM2-135M-Instruct, LoRA"}
    keys = list(results[students[0]])
    print(f"{'':26}" + "".join(f"{names[s]:>32}" for s in students))
    for k in keys:
        print(f"{k:26}" + "".join(f"{fmt(k, results[s][k]):>32}" for s in students))
    if a.keep:
        print(f"projects in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
