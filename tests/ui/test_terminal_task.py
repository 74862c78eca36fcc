"""The Task screen, its examples and the import dialog in a real 80x24
terminal: every key, fast typing across fields, a refused value, the
questions asked before something is replaced or dropped, and a new project
created with ctrl+n. After each key the app is alive (the harness checks)."""

from __future__ import annotations

import os
from pathlib import Path

from distill_tui.core import config as cfg
from distill_tui.core import paths, sysinfo
from distill_tui.core.store import Store
from distill_tui.core.train import runs as runs_db


def _settings(root: Path) -> cfg.Project:
    return cfg.load(root / "distill.toml")


def _open(terminal, root: Path):  # noqa: ANN001, ANN202
    t = terminal(str(root))
    t.wait_for("support-tickets", timeout=60)
    return t


def test_fast_typing_keeps_each_field_and_refused_values_are_marked(terminal, demo_project):
    t = _open(terminal, demo_project)
    t.press("tab", binding="task-tab")  # Name
    # One burst, as a fast typist over SSH sends it: each text lands in its field.
    os.write(t.fd, b"abc\tdef\tghi")
    t.wait_until(
        lambda: (
            (
                _settings(demo_project).task.name,
                _settings(demo_project).task.input_description,
                _settings(demo_project).task.output_description,
            )
            == ("abc", "def", "ghi")
        ),
        "each field saved with its own text",
    )
    t.press("shift+tab", binding="task-backtab")
    t.type("in")
    t.wait_until(lambda: _settings(demo_project).task.input_description == "in", "shift+tab")

    # Max tokens 0 is refused: marked under the field, and the file keeps its value.
    kept = _settings(demo_project).teacher.max_tokens
    t.press(
        *["tab"] * 9
    )  # output, format, instructions, examples, provider, model, url, price, max
    t.type("0")
    t.wait_for(f"must be at least 1: not saved; distill.toml keeps {kept}")
    assert _settings(demo_project).teacher.max_tokens == kept
    t.press("backspace")
    t.wait_for("a number is needed")
    t.type("32")
    t.wait_gone("not saved")
    t.wait_until(lambda: _settings(demo_project).teacher.max_tokens == 32, "32 saved")
    t.press("escape", binding="leave-field")
    assert t.quit() == 0


def test_examples_ask_before_anything_is_lost(terminal, demo_project):
    t = _open(terminal, demo_project)
    examples = lambda: _settings(demo_project).task.examples  # noqa: E731
    assert len(examples()) == 5
    t.press(*["tab"] * 6)  # name, input, output, format, instructions, examples
    t.press("a", binding="example-add")
    t.wait_for("New example")
    t.type("half typed")
    t.press("escape", binding="example-cancel")  # asks: something was typed
    t.wait_for("Drop what you typed")
    t.press("escape", binding="confirm-cancel")  # keep editing
    t.wait_gone("Drop what you typed")
    t.press("tab", binding="example-tab")
    t.type("an answer")
    t.press("shift+tab", binding="example-backtab")
    t.press("ctrl+s", binding="example-save")
    t.wait_for("Few-shot examples: 6")
    assert (examples()[5].input, examples()[5].output) == ("half typed", "an answer")

    t.press("e", binding="example-edit")
    t.wait_for("Example 6")
    t.press("escape")  # nothing typed: closes at once
    t.wait_gone("Example 6")
    t.press("shift+up", binding="example-up")
    t.wait_until(lambda: examples()[4].input == "half typed", "moved up")
    t.press("shift+down", binding="example-down")
    t.wait_until(lambda: examples()[5].input == "half typed", "moved down")

    t.press("d", binding="example-delete")
    t.wait_for("Delete example 6?")
    t.press("escape")
    t.wait_gone("Delete example 6?")
    assert len(examples()) == 6
    t.press("d")
    t.wait_for("Delete example 6?")
    t.press("y")
    t.wait_for("Few-shot examples: 5")
    assert len(examples()) == 5

    t.press("a")
    t.wait_for("New example")
    t.type("x")
    t.press("escape")
    t.wait_for("Drop what you typed")
    t.press("y")
    t.wait_gone("New example")
    assert len(examples()) == 5
    assert t.quit() == 0


def test_student_replacement_asks_when_runs_exist_and_import_labels(
    terminal, demo_project, tmp_path
):
    store = Store(demo_project / "distill.db")
    student = _settings(demo_project).student.model
    config = {"model": paths.resolve_model(demo_project, student)}
    runs_db.create_run(store, "20260101-000000-abcd", config, None, 30)
    runs_db.update_run(store, "20260101-000000-abcd", status="finished", iter=30, pid=None)
    store.close()
    recommended = sysinfo.recommend_student(sysinfo.total_memory_bytes())

    t = _open(terminal, demo_project)
    t.press("ctrl+r", binding="task-recommend")
    t.wait_for("1 training run used")
    t.press("escape")
    t.wait_gone("1 training run used")
    t.press("ctrl+r")
    t.wait_for("1 training run used")
    t.press("n")
    t.wait_gone("1 training run used")
    assert _settings(demo_project).student.model == student
    t.press("ctrl+r")
    t.wait_for("1 training run used")
    t.press("y")
    t.wait_until(lambda: _settings(demo_project).student.model == recommended, "replaced")

    # The import dialog: every field labelled; ctrl+s imports, escape closes.
    inputs = tmp_path / "one.txt"
    inputs.write_text("a brand new ticket\n")
    t.press("ctrl+o", binding="task-import")
    t.wait_for("Import inputs")
    for label in ("Files or folders", "File names (glob)", "Max file size (bytes)", "JSONL field"):
        assert t.has(label), label
    t.type(str(inputs))
    t.press("tab", binding="import-tab")
    t.press("tab", "backspace")  # max file size emptied
    t.press("ctrl+s", binding="import-run")
    t.wait_for("Max file size: a number of bytes")
    t.type("5000")
    t.press("shift+tab", binding="import-backtab")
    t.press("ctrl+s")
    t.wait_for("1 new input(s)")
    t.press("escape", binding="import-close")
    t.wait_for("321 in · 1 pend")  # the status bar counts it
    assert t.quit() == 0


def test_ctrl_n_creates_the_project_and_says_so(terminal, tmp_path):
    root = tmp_path / "new"
    root.mkdir()
    t = terminal(str(root))
    t.wait_for("no project yet")
    t.press("tab")
    t.type("brand-new")
    t.press("ctrl+n", binding="task-create")
    t.wait_for("Project created in")
    assert _settings(root).task.name == "brand-new"
    t.wait_until(lambda: "brand-new" in t.text().splitlines()[0], "the name in the tab bar")
    t.press("ctrl+o")
    t.wait_for("ctrl+s import, esc close")
    t.press("escape")
    t.wait_gone("ctrl+s import, esc close")
    assert t.quit() == 0


def test_the_provider_dropdown_opens_closes_and_picks_with_keys(terminal, demo_project):
    t = _open(terminal, demo_project)
    provider = lambda: _settings(demo_project).teacher.provider  # noqa: E731
    assert provider() == "anthropic"
    # name, input, output, format, instructions, examples, provider
    t.press(*["tab"] * 7, binding="task-tab")
    # One burst, as over SSH: the keys after the one that opens the list come
    # before the list is made and has the focus; they still act in order.
    os.write(t.fd, b"\x1b[B\x1b[B\r")  # down (opens), down, enter
    t.pressed.append("dropdown-down")
    t.wait_until(lambda: provider() == "openai", "the burst picked OpenAI-compatible")
    t.wait_gone("▊Local MLX")
    t.press("enter", binding="dropdown-open")
    t.wait_for("▊Local MLX")
    t.wait_for("esc Close list")
    t.press("escape", binding="dropdown-close")
    t.wait_gone("▊Local MLX")
    assert provider() == "openai"
    t.press("up", binding="dropdown-up")  # opens on the current choice
    t.wait_for("▊Local MLX")
    t.press("down", "enter")
    t.wait_until(lambda: provider() == "mlx", "provider saved")
    t.wait_for("no API key needed")
    t.wait_gone("▊Local MLX")
    assert t.quit() == 0
