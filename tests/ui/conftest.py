"""Fixtures for the real-terminal tests: a project like the demo's (recorded
tickets) with the tiny student and training settings that finish in seconds,
built once per session and copied for each test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.terminal import Terminal, record_pressed


def _fast_train(ws) -> None:  # noqa: ANN001
    t = ws.settings.train
    t.fine_tune_type, t.num_layers = "full", -1
    t.iters, t.batch_size, t.learning_rate = 30, 8, 1e-3
    t.steps_per_report, t.steps_per_eval, t.steps_per_save, t.val_batches = 5, 15, 15, 2
    t.max_seq_length = 256
    ws.save_settings()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, tiny_model: Path) -> Path:
    """The demo project (320 recorded tickets), its student the session's tiny model."""
    from distill_tui.demo import create_demo

    root = tmp_path_factory.mktemp("demo-template") / "demo"
    ws = create_demo(root, student=None)
    shutil.copytree(tiny_model, root / "models" / "student")
    ws.settings.student.model = "models/student"
    _fast_train(ws)
    ws.store.close()
    return root


@pytest.fixture
def demo_project(demo_template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(demo_template, root)
    return root


@pytest.fixture
def terminal(request) -> Iterator[type[Terminal]]:  # noqa: ANN001
    """Opens terminals for a test and kills whatever is left at its end; the
    bindings each one reached are recorded for the coverage test."""
    opened: list[Terminal] = []

    def open_(*args: str, **kwargs) -> Terminal:  # noqa: ANN003
        t = Terminal(*args, **kwargs)
        opened.append(t)
        return t

    yield open_  # type: ignore[misc]
    for t in opened:
        record_pressed(t.pressed)
        t.kill()
    if request.node.get_closest_marker("crash_expected") is None:
        # The safety net hides a bug from the user, never from the tests.
        for t in opened:
            for arg in t.args:
                log = Path(arg) / ".distill" / "crash.log"
                assert not log.exists(), log.read_text()
