"""The real-model tests' shared work, done once per test run: SmolLM2 (the
demo's student) converted to an MLX folder, and one SFT adapter trained on
the demo project at the demo's defaults, as a newcomer makes it (accept every
row, export, train). Each test copies the trained project and works on its copy.

Once per run, not per xdist worker: the work goes into a folder every worker
of the run shares (`run_folder`), built by whichever worker comes first while
the others wait on a file lock, and named by a hash of the settings, so a
change to the demo's defaults trains a new adapter instead of reusing one."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from distill_tui.core import config as cfg
from distill_tui.core.project import Workspace


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test run that every xdist worker shares: the parent
    of a worker's base temp folder is the run's; without xdist the base temp
    folder itself (its parent holds earlier runs' folders too)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (made if missing) across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def user_folders(cache: Path) -> Iterator[None]:
    """The environment a test sees (conftest's `_isolated_user_config`), for
    work done in a session fixture, before that fixture has run."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(cache))
        mp.setenv("XDG_CONFIG_HOME", str(cache.parent / "xdg-config"))
        yield


def gguf_cache(cache: Path) -> Path:
    """Where `engine.models.gguf` converts into under XDG_CACHE_HOME=`cache`."""
    return cache / "distill-tui" / "gguf"


def converted_smollm2(shared: Path) -> Path:
    """The packaged SmolLM2 GGUF converted once in the run's shared cache."""
    from distill_tui.demo import packaged_gguf
    from distill_tui.engine.mlx_thread import mlx_thread
    from distill_tui.engine.models import gguf

    cache = shared / "xdg-cache"
    with locked(shared / "smollm2.lock"):
        return mlx_thread().call(gguf.convert, packaged_gguf(), cache=gguf_cache(cache))


@dataclass(frozen=True)
class DemoSft:
    """The demo project with every row accepted, exported and one SFT run
    trained at `settings.train`. Shared by every test of the run: read it,
    or `copy_to` a folder of the test's own before writing anything."""

    project: Path
    run_id: str
    cache: Path  # XDG_CACHE_HOME the run was trained under (the converted student)
    settings: cfg.Project

    def copy_to(self, dest: Path) -> Workspace:
        """A copy of the project to write in; the GGUF student is hard-linked,
        not copied (93 MB, never written). The run's adapter config still
        names the shared project's GGUF as its base model."""

        def link_gguf(src: str, dst: str) -> object:
            if src.endswith(".gguf"):
                with contextlib.suppress(OSError):
                    os.link(src, dst)
                    return dst
            return shutil.copy2(src, dst)

        shutil.copytree(self.project, dest, copy_function=link_gguf)
        return Workspace.open(dest)


def settings_key(settings: cfg.Project) -> str:
    return hashlib.sha256(cfg.dumps(settings).encode()).hexdigest()[:12]


def build_demo_sft(shared: Path, settings: cfg.Project) -> DemoSft:
    """The trained demo project for `settings`, built on first call in this run."""
    folder = shared / f"demo-sft-{settings_key(settings)}"
    cache = shared / "xdg-cache"
    with locked(shared / f"{folder.name}.lock"):
        done = folder / "run-id"
        if not done.is_file():
            shutil.rmtree(folder, ignore_errors=True)  # a build that failed part way
            with user_folders(cache):
                run_id = _train_demo(folder / "demo", settings)
            done.write_text(run_id, encoding="utf-8")
    return DemoSft(folder / "demo", done.read_text(encoding="utf-8"), cache, settings)


def _train_demo(root: Path, settings: cfg.Project) -> str:
    from distill_tui.core.curate import curation
    from distill_tui.core.curate import query as cq
    from distill_tui.core.dataset.export import export_dataset
    from distill_tui.demo import create_demo
    from distill_tui.engine.train.trainer import train_run

    ws = create_demo(root, preferences=True)  # what `distill-tui demo` makes
    ws.settings = settings
    ws.save_settings()
    # `distill-tui curate --accept-all`, the Curate screen's `a` on every row
    curation.accept(ws.store, cq.ids(ws.store, cq.Filter(decision="unreviewed")))
    export_dataset(ws.root, ws.store, ws.settings)
    done = train_run(ws, ws.settings.train)
    assert done.status in ("finished", "early_stopped"), done
    ws.store.close()
    return done.run_id
