"""What the machine offers: memory (psutil), the guide's student
recommendation for it, models already on disk (the Hugging Face cache, read
with huggingface_hub; GGUF files in the project's models/ and the GGUF
conversion cache), and whether API keys are set (never their values)."""

from __future__ import annotations

import ipaddress
import json
import os
import platform
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from distill_tui.core import paths

GiB = 1024**3

# The guide's table: machine memory -> the largest student that trains comfortably.
RECOMMENDATIONS: list[tuple[int, str]] = [
    (32, "mlx-community/Qwen2.5-14B-Instruct-4bit"),
    (16, "mlx-community/Qwen2.5-7B-Instruct-4bit"),
    (0, "mlx-community/Qwen2.5-1.5B-Instruct-4bit"),
]

API_KEY_VARS = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}


@lru_cache(maxsize=1)  # physical memory does not change while we run
def total_memory_bytes() -> int | None:
    """Physical memory: pages times page size, the figure psutil reports on
    macOS and Linux, without importing psutil before the Task screen's first
    paint (psutil where sysconf does not know)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        import psutil

        return int(psutil.virtual_memory().total)


def available_memory_bytes() -> int | None:
    """Memory a new job can take without swapping, as psutil reckons it
    (MemAvailable on Linux; free + inactive on macOS)."""
    import psutil

    return int(psutil.virtual_memory().available)


def process_rss_bytes() -> int:
    """This process's resident memory: the loaded models and the training
    state live here (unified memory on Apple Silicon counts GPU buffers too)."""
    import psutil

    return int(psutil.Process().memory_info().rss)


@lru_cache(maxsize=1)  # a sysctl call per status refresh would be wasteful
def gpu_wired_limit_bytes() -> int | None:
    """macOS: the GPU wired-memory limit (`iogpu.wired_limit_mb`; 0 means the
    system default, about 75% of memory on Apple Silicon). None elsewhere.
    psutil does not report it, so this one stays a sysctl call."""
    if platform.system() != "Darwin":
        return None
    try:
        out = subprocess.run(
            ["sysctl", "-n", "iogpu.wired_limit_mb"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        mb = int(out)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    if mb == 0:
        total = total_memory_bytes()
        return int(total * 0.75) if total else None
    return mb * 1024 * 1024


def recommend_student(memory_bytes: int | None) -> str:
    gb = (memory_bytes or 0) / GiB
    for threshold, model in RECOMMENDATIONS:
        # Machines sold as 16 GB report slightly less; allow for it.
        if gb >= threshold * 0.95:
            return model
    return RECOMMENDATIONS[-1][1]


@dataclass(frozen=True)
class CachedModel:
    repo_id: str
    size_bytes: int
    path: Path  # the newest snapshot: a folder mlx_lm.load accepts


def cached_models(cache: Path | None = None) -> list[CachedModel]:
    """Models in the local Hugging Face hub cache, largest first, as
    `huggingface_hub.scan_cache_dir` reads it (the cache's own rules for where
    it is: HF_HUB_CACHE, HF_HOME, the default). `cache` overrides the place."""
    from huggingface_hub import CacheNotFound, scan_cache_dir

    try:
        info = scan_cache_dir(cache)
    except CacheNotFound:
        return []
    models = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        newest = max(repo.revisions, key=lambda r: r.last_modified, default=None)
        path = newest.snapshot_path if newest is not None else repo.repo_path
        models.append(CachedModel(repo.repo_id, repo.size_on_disk, path))
    return sorted(models, key=lambda m: (-m.size_bytes, m.repo_id))


def is_local_url(url: str | None) -> bool:
    """Whether `url` is a server on this machine or the local network
    (Ollama, `mlx_lm.server`, LM Studio): such servers need no API key and
    charge nothing unless the user says otherwise."""
    if not url:
        return False
    from urllib.parse import urlparse

    try:
        host = urlparse(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith((".localhost", ".local")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified


@dataclass(frozen=True)
class LocalModel:
    """A model on disk that is not in the Hugging Face cache."""

    model: str  # the student setting that uses it
    label: str
    size_bytes: int


MODELS_DIR = paths.MODELS_DIR


def gguf_models(project: Path | None, cache: Path | None = None) -> list[LocalModel]:
    """GGUF files the project knows: those in its models/ (as the relative
    path the demo uses), then folders the GGUF conversion cache holds whose
    file is not among them (their `source.json` names the file)."""
    found: list[LocalModel] = []
    names: set[str] = set()
    folder = project / MODELS_DIR if project is not None else None
    if folder is not None and folder.is_dir():
        for f in sorted(folder.glob("*.gguf")):
            if f.is_file():
                names.add(f.name)
                rel = f"{MODELS_DIR}/{f.name}"
                found.append(LocalModel(rel, rel, f.stat().st_size))
    root = cache or paths.gguf_cache_dir()
    for source in sorted(root.glob("*/source.json")) if root.is_dir() else []:
        try:
            info = json.loads(source.read_text(encoding="utf-8"))
            size = sum(p.stat().st_size for p in source.parent.iterdir() if p.is_file())
        except (OSError, ValueError):
            continue
        gguf = str(info.get("gguf") or "") if isinstance(info, dict) else ""
        if not gguf or gguf in names:
            continue
        found.append(LocalModel(str(source.parent), f"{gguf} (converted)", size))
    return found


def api_key_present(provider: str, base_url: str | None = None) -> bool | None:
    """True/False for providers that need a key; None for local ones (an MLX
    model, or an OpenAI-compatible server on this machine or network)."""
    var = API_KEY_VARS.get(provider)
    if var is None or (provider == "openai" and is_local_url(base_url)):
        return None
    return bool(os.environ.get(var))


def human_bytes(n: int | float | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
