"""Shared fixtures: a project folder, and a tiny real MLX model built once per
session (random-weight Qwen2 + byte-level BPE tokenizer; nothing downloads)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from distill_tui.core.project import Workspace

# No test may reach a hub or a real API.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.pop("ANTHROPIC_API_KEY", None)
os.environ.pop("OPENAI_API_KEY", None)


@pytest.fixture(scope="session")
def user_cache(tmp_path_factory) -> Path:
    """One cache folder for the session: a GGUF is converted once, not per test."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _isolated_user_config(tmp_path_factory, monkeypatch, user_cache):
    """Keep theme choices, other user settings and converted models out of the
    real home folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path / "proj")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Path to a tiny Qwen2 model folder loadable by `mlx_lm.load`."""
    from distill_tui.demo.tiny import build_tiny_model
    from distill_tui.engine.mlx_thread import mlx_thread

    path = tmp_path_factory.mktemp("tiny-model")
    return mlx_thread().call(build_tiny_model, path)


@pytest.fixture(scope="session")
def uniform_model(tmp_path_factory) -> Path:
    """A tiny model folder that samples every token alike, so some turns end
    at the end token and some run on (tests/support/uniform_model.py)."""
    from support.uniform_model import build_uniform_model

    from distill_tui.engine.mlx_thread import mlx_thread

    return mlx_thread().call(build_uniform_model, tmp_path_factory.mktemp("uniform-model"))


# -- the real student, converted and trained once per test run (tests/support/realmodel.py)
@pytest.fixture(scope="session")
def smollm2(tmp_path_factory) -> Path:
    """SmolLM2-135M-Instruct, the demo's student, as a converted MLX folder:
    converted once per test run, shared by every xdist worker."""
    from support.realmodel import converted_smollm2, run_folder

    return converted_smollm2(run_folder(tmp_path_factory))


@pytest.fixture(scope="session")
def demo_sft(tmp_path_factory, smollm2):
    """The demo project with every row accepted, exported and one SFT adapter
    trained at the demo's defaults (`demo_settings()`, read now): trained once
    per test run. Read only; `demo_sft_project` is a copy to write in."""
    from support.realmodel import build_demo_sft, run_folder

    from distill_tui.demo import demo_settings

    return build_demo_sft(run_folder(tmp_path_factory), demo_settings())


@pytest.fixture
def demo_sft_project(demo_sft, tmp_path: Path, monkeypatch) -> Workspace:
    """This test's copy of `demo_sft`'s project (its run is `demo_sft.run_id`),
    with the cache that holds the converted student."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(demo_sft.cache))
    return demo_sft.copy_to(tmp_path / "demo")


@pytest.fixture
def fake(monkeypatch):
    """A loopback server speaking the Anthropic (and OpenAI) APIs, with the real
    SDK pointed at it through the environment, as a user would configure it."""
    from support.llm_server import FakeLLM

    with FakeLLM() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server


# -- the fast inner loop: `pytest -m "not slow"` ----------------------------------
SLOW_FILES = ("test_terminal_", "test_end_to_end", "test_demo", "test_trainer_process")


def pytest_collection_modifyitems(config, items):
    """Real models, real terminals and the whole loop are `slow`: CI runs them
    all, a developer can leave them out while iterating."""
    for item in items:
        name = item.path.name
        if item.get_closest_marker("realmodel") or name.startswith(SLOW_FILES):
            item.add_marker(pytest.mark.slow)
    # The longest tests first, so the two workers finish together instead of
    # one running a two-minute real-model test alone at the end.
    items.sort(key=_weight)


def _weight(item: pytest.Item) -> int:
    if item.get_closest_marker("realmodel"):
        return 0
    if item.path.name.startswith(("test_end_to_end", "test_trainer_process")):
        return 1
    return 2 if item.get_closest_marker("slow") else 3


# -- every binding pressed in a terminal (see tests/support/bindings.py) ------------------
def pytest_configure(config):
    if hasattr(config, "workerinput"):
        return  # an xdist worker: it inherits the file from the controller's environment
    import tempfile

    from support.terminal import PRESSED_ENV

    fd, path = tempfile.mkstemp(prefix="distill-tui-pressed-", suffix=".txt")
    os.close(fd)
    os.environ[PRESSED_ENV] = path
    config._pressed_file = path
    config._terminal_files_run = set()


# Terminal test files with a passing test in this session (xdist reports the
# workers' results to the controller through this hook too).
_RAN: set[str] = set()


def pytest_runtest_logreport(report):
    name = report.nodeid.split("::")[0].rsplit("/", 1)[-1]
    if report.when == "call" and name.startswith("test_terminal_") and report.passed:
        _RAN.add(name)


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    path = getattr(config, "_pressed_file", None)
    if path is None:
        return
    from support.bindings import missing_bindings, terminal_test_files

    try:
        with open(path, encoding="utf-8") as f:
            pressed = {line.strip() for line in f if line.strip()}
    finally:
        os.unlink(path)
    if exitstatus != 0 or not terminal_test_files() <= _RAN:
        return  # a selection, or failures already: the check would only add noise
    missing = missing_bindings(pressed)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
    if missing:
        if reporter is not None:
            reporter.write_line(f"FAILED: bindings no terminal test pressed: {missing}", red=True)
        session.exitstatus = 1
    elif reporter is not None:
        reporter.write_line(f"every key binding was pressed in a terminal ({len(pressed)} ids)")
