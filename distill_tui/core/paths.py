"""Where things live: one module owns every path the app reads or writes."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_NAME = "distill.toml"
STORE_NAME = "distill.db"
DATA_DIR = "data"
RUNS_DIR = "runs"
MODELS_DIR = "models"  # where a project keeps its own model files (the demo's student)


def config_path(project: Path) -> Path:
    return project / CONFIG_NAME


def store_path(project: Path) -> Path:
    return project / STORE_NAME


def data_dir(project: Path) -> Path:
    return project / DATA_DIR


def pref_dir(project: Path) -> Path:
    """The preference export (DPO pairs, KTO rows) beside the SFT split."""
    return data_dir(project) / "pref"


def runs_dir(project: Path) -> Path:
    return project / RUNS_DIR


def models_dir(project: Path) -> Path:
    return project / MODELS_DIR


def run_dir(project: Path, run_id: str) -> Path:
    return runs_dir(project) / run_id


def train_inputs_file(run_dir: Path) -> Path:
    """A run's record of its training inputs (one hash a line), so an
    evaluation can tell a re-exported validation split holds them."""
    return run_dir / "train_inputs.sha256"


def crash_log(project: Path | None) -> Path:
    """Where the app records unexpected errors with their tracebacks: inside the
    project (`.distill/crash.log`), or the user's state folder when none is open."""
    if project is not None and is_project(project):
        return project / ".distill" / "crash.log"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "distill-tui" / "crash.log"


def is_project(folder: Path) -> bool:
    return config_path(folder).is_file()


def user_config_dir() -> Path:
    """Per-user settings (theme choice), never inside a project."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "distill-tui"


def user_cache_dir() -> Path:
    """What the app can rebuild (converted models), never inside a project."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "distill-tui"


def gguf_cache_dir() -> Path:
    """GGUF files converted to mlx-lm model folders, one per file content."""
    return user_cache_dir() / "gguf"


def is_gguf(model: str) -> bool:
    return model.lower().endswith(".gguf")


def user_settings_path() -> Path:
    return user_config_dir() / "settings.toml"


def themes_dirs() -> list[Path]:
    """Theme folders: the repository's `themes/` in a checkout, the wheel's copy
    when installed, then the user's own."""
    here = Path(__file__).resolve().parent.parent
    dirs = [here.parent / "themes", here / "themes", user_config_dir() / "themes"]
    return [d for d in dirs if d.is_dir()]


def local_model_dir(model: str) -> Path | None:
    """A model's folder on this machine without downloading anything: the
    folder itself, or a Hugging Face id's snapshot in the hub cache (found by
    huggingface_hub, which knows where its cache is); None when not here."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        return folder
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached, not a repo id
        return None


def resolve_model(project: Path, model: str) -> str:
    """A model setting as mlx_lm.load wants it: a path relative to the project
    (the demo's student) becomes absolute; a Hugging Face id or an absolute
    path is returned unchanged. A `.gguf` file stays a file here: the engine
    converts it when it loads it (`engine.gguf.mlx_path`)."""
    candidate = Path(model).expanduser()
    if not candidate.is_absolute() and (project / candidate).exists():
        return str((project / candidate).resolve())
    return str(candidate) if candidate.exists() else model
