"""What the machine offers: memory, the guide's student recommendation for it,
models already in the Hugging Face cache, and whether API keys are set (never
their values)."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
    """Physical memory: sysctl on macOS, /proc/meminfo on Linux."""
    if platform.system() == "Darwin":
        try:
            out = subprocess.run(
                ["sysctl", "-n", "hw.memsize"], capture_output=True, text=True, timeout=5
            ).stdout
            return int(out.strip())
        except (OSError, ValueError, subprocess.SubprocessError):
            return None
    return _meminfo().get("MemTotal")


def available_memory_bytes() -> int | None:
    if platform.system() == "Darwin":
        try:
            out = subprocess.run(["vm_stat"], capture_output=True, text=True, timeout=5).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        page = 16384 if platform.machine() == "arm64" else 4096
        pages = 0
        for line in out.splitlines():
            if line.startswith(("Pages free", "Pages inactive", "Pages speculative")):
                pages += int(line.split(":")[1].strip().rstrip("."))
        return pages * page or None
    return _meminfo().get("MemAvailable")


@lru_cache(maxsize=1)  # a sysctl call per status refresh would be wasteful
def gpu_wired_limit_bytes() -> int | None:
    """macOS: the GPU wired-memory limit (`iogpu.wired_limit_mb`; 0 means the
    system default, about 75% of memory on Apple Silicon). None elsewhere."""
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


def _meminfo(path: Path = Path("/proc/meminfo")) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        for line in path.read_text().splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                out[key] = int(parts[0]) * (1024 if len(parts) > 1 and parts[1] == "kB" else 1)
    except OSError:
        pass
    return out


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


def api_key_present(provider: str) -> bool | None:
    """True/False for providers that need a key; None for local ones."""
    var = API_KEY_VARS.get(provider)
    if var is None:
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
