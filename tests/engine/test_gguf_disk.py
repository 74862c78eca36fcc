"""The GGUF cache on a disk that fills: conversions killed mid-write are
cleared, and a full disk is one line naming the cache folder and the space
needed (a real small tmpfs, mounted in a private mount namespace)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.gguf_helpers import MOUNTED, private_tmpfs, write_gguf
from support.tiny_task import write_split

from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.models import gguf


def test_conversions_killed_mid_write_are_cleared_from_the_cache(tmp_path):
    """A `.partial` folder whose process is gone (kill -9 mid-conversion) is
    removed by the next conversion; one a live process is writing is not."""
    cache = tmp_path / "cache"
    gone = cache / ".0123456789abcdef01234567-dense-v1.999999999.partial"
    live = cache / f".0123456789abcdef01234567-dense-v1.{os.getppid()}.partial"
    for d in (gone, live):
        d.mkdir(parents=True)
        (d / "model.safetensors").write_bytes(b"\0" * 1024)
    src = tmp_path / "m.gguf"
    write_gguf(src)
    folder = mlx_thread().call(gguf.convert, src, cache=cache)
    assert not gone.exists() and live.is_dir()
    assert sorted(p.name for p in cache.iterdir()) == sorted([folder.name, live.name, "stamps"])
    # A file already converted is a cache hit, which clears them too.
    gone.mkdir()
    assert mlx_thread().call(gguf.convert, src, cache=cache) == folder
    assert not gone.exists() and live.is_dir()


# Lets the space check pass, so the writes themselves meet the full disk.
_NO_SPACE_CHECK = """
import sys
from distill_tui.engine.models import gguf
gguf.space_needed = lambda header, dense: 0
from distill_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _train_on_small_cache(workspace, tmp_path, size: str, script: Path | None = None):
    src = workspace.root / "m.gguf"
    write_gguf(src)
    workspace.settings.student.model = "m.gguf"
    workspace.save_settings()
    write_split(workspace.root / "data")
    cache = tmp_path / "xdg"
    cache.mkdir()
    unshare = private_tmpfs(cache)
    if unshare is None:
        pytest.skip("cannot mount a small tmpfs in a private mount namespace here")
    run = [str(script)] if script else ["-m", "distill_tui.cli"]
    args = ["train", str(workspace.root), "--iters", "1"]
    r = subprocess.run(
        [*unshare, "sh", "-c", MOUNTED, "sh", size, str(cache), sys.executable, *run] + args,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
    )
    return r, cache / "distill-tui" / "gguf"


def test_a_cache_disk_too_small_is_one_line_naming_the_folder_and_the_space(workspace, tmp_path):
    r, folder = _train_on_small_cache(workspace, tmp_path, "256k")
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert f"{folder}: not enough space to convert m.gguf: it needs about" in r.stderr


@pytest.mark.parametrize(
    ("size", "failing"),
    [("8k", "No space left on device"), ("96k", "Unable to write")],  # tokenizer, weights
)
def test_a_cache_disk_that_fills_while_converting_is_one_line(workspace, tmp_path, size, failing):
    script = tmp_path / "no_check.py"
    script.write_text(_NO_SPACE_CHECK)
    r, folder = _train_on_small_cache(workspace, tmp_path, size, script)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert f"{folder}: cannot write the converted copy of m.gguf (" in r.stderr
    assert failing in r.stderr
