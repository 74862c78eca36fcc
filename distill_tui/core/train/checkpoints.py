"""A run folder's layout, in one place, and finding runs and their adapter
checkpoints on disk.

The trainer writes mlx-lm's layout: `runs/<run_id>/adapters.safetensors` (the
latest weights), `adapter_config.json`, intermediate `0000100_adapters.safetensors`
files, and `runs/<run_id>/best/` for the lowest validation loss. Chat, eval and
fuse name a checkpoint as `best`, `latest` or `iter N`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace

# The names the trainer writes and everything else reads (mlx-lm's own names).
ADAPTER_FILE = "adapters.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
BEST_DIR = "best"  # the adapter with the lowest validation loss
CHECKPOINTS_DIR = "checkpoints"  # resumable state, one folder per iteration
_ITER_FILE = re.compile(r"^(\d+)_adapters\.safetensors$")


@dataclass(frozen=True)
class Checkpoint:
    run_id: str
    name: str  # "best", "latest" or "iter N"
    weights: Path
    config_path: Path
    base_model: str

    @property
    def label(self) -> str:
        return f"{self.run_id}:{self.name}"

    def config(self) -> dict:
        return json.loads(self.config_path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    status: str | None  # from the runs table; None for a folder without a row
    checkpoints: tuple[Checkpoint, ...]

    def checkpoint(self, name: str) -> Checkpoint | None:
        return next((c for c in self.checkpoints if c.name == name), None)


def _base_model(config_path: Path, default: str) -> str:
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return default
    model = data.get("model") if isinstance(data, dict) else None
    return model if isinstance(model, str) and model else default


def checkpoints_in(run_dir: Path, default_model: str) -> tuple[Checkpoint, ...]:
    run_id = run_dir.name
    config = run_dir / ADAPTER_CONFIG
    found: list[Checkpoint] = []
    best = run_dir / BEST_DIR
    if (best / ADAPTER_FILE).is_file():
        # The best folder may carry its own config or rely on the run's.
        cfg = best / ADAPTER_CONFIG if (best / ADAPTER_CONFIG).is_file() else config
        if cfg.is_file():
            found.append(
                Checkpoint(
                    run_id, BEST_DIR, best / ADAPTER_FILE, cfg, _base_model(cfg, default_model)
                )
            )
    if not config.is_file():
        return tuple(found)
    base = _base_model(config, default_model)
    if (run_dir / ADAPTER_FILE).is_file():
        found.append(Checkpoint(run_id, "latest", run_dir / ADAPTER_FILE, config, base))
    iters = []
    for f in run_dir.iterdir():
        m = _ITER_FILE.match(f.name)
        if m:
            iters.append((int(m.group(1)), f))
    for it, f in sorted(iters):
        found.append(Checkpoint(run_id, f"iter {it}", f, config, base))
    return tuple(found)


def list_runs(ws: Workspace) -> list[RunInfo]:
    """Runs with at least one checkpoint, newest first."""
    root = paths.runs_dir(ws.root)
    if not root.is_dir():
        return []
    table = {
        r["id"]: (r["status"], r["created_at"])
        for r in ws.store.conn.execute("SELECT id, status, created_at FROM runs")
    }
    runs = []
    for d in root.iterdir():
        if not d.is_dir():
            continue
        cps = checkpoints_in(d, paths.resolve_model(ws.root, ws.settings.student.model))
        if not cps:
            continue
        status, created = table.get(d.name, (None, d.stat().st_mtime))
        runs.append((created, RunInfo(d.name, status, cps)))
    runs.sort(key=lambda x: x[0], reverse=True)
    return [r for _, r in runs]


def resolve(ws: Workspace, run_id: str | None, checkpoint: str | None = None) -> Checkpoint:
    """The checkpoint a user named; `run_id=None` means the newest run and
    `checkpoint=None` means best if the run has one, else latest."""
    runs = list_runs(ws)
    if not runs:
        raise UserError(f"{ws.root}: no training runs with adapters yet (train first)")
    if run_id is None:
        run: RunInfo | None = runs[0]
    else:
        run = next((r for r in runs if r.run_id == run_id), None)
        if run is None:
            names = ", ".join(r.run_id for r in runs[:10])
            raise UserError(f"no run {run_id!r} with adapters in {ws.root} (runs: {names})")
    assert run is not None
    if checkpoint is None:
        return run.checkpoint(BEST_DIR) or run.checkpoint("latest") or run.checkpoints[-1]
    name = checkpoint.strip()
    if name.isdigit():
        name = f"iter {int(name)}"
    cp = run.checkpoint(name)
    if cp is None:
        have = ", ".join(c.name for c in run.checkpoints)
        raise UserError(f"run {run.run_id} has no {checkpoint!r} checkpoint (it has: {have})")
    return cp


# Fused models: `fuse` writes them under the project's fused/ folder by default.
FUSED_DIR = "fused"


def fused_dir(root: Path) -> Path:
    return Path(root) / FUSED_DIR


def default_fused_out(root: Path, cp: Checkpoint) -> Path:
    return fused_dir(root) / f"{cp.run_id}-{cp.name.replace(' ', '-')}"


def _is_model(d: Path) -> bool:
    return (d / "config.json").is_file() and any(d.glob("*.safetensors"))


def list_fused(ws: Workspace) -> list[Path]:
    """Model folders under fused/ that `mlx_lm.load` can read (a config and
    safetensors weights), newest first. A fuse still writing does so in a
    hidden staging folder (`core.staging`) and is left out."""
    root = fused_dir(ws.root)
    if not root.is_dir():
        return []
    found = [
        d
        for d in [root, *root.iterdir()]
        if d.is_dir() and not d.name.startswith(".") and _is_model(d)
    ]
    return sorted(found, key=lambda d: d.stat().st_mtime, reverse=True)
