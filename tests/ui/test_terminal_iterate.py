"""The iterate loop without traps (issue 20), in a real 80x24 terminal: a
local teacher needs no API key and is priced by choice on the Task screen;
home/end, an empty filter and the palette's key names; progress that tells
the truth (no ETA while paused, a monitor and plot that end where a run
stopped, validation numbered as mlx_lm.lora numbers it)."""

from __future__ import annotations

import os
import re

from support.llm_server import FakeLLM

from distill_tui.core import config as cfg
from distill_tui.core.project import Workspace
from distill_tui.core.train import runs as runs_db
from distill_tui.ui.screens.train.monitor import TrainMonitor


def _local_teacher(ws: Workspace, url: str) -> None:
    t = ws.settings.teacher
    t.provider, t.model, t.base_url = "openai", "default_model", url + "/v1"
    t.requests_per_minute = 0
    ws.save_settings()


def test_a_local_teacher_needs_no_key_and_gets_its_price_on_the_task_screen(terminal, workspace):
    with FakeLLM() as teacher:
        _local_teacher(workspace, teacher.url)
        env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
        t = terminal(str(workspace.root), env={**env, "OPENAI_API_KEY": ""})
        t.wait_for("Task", timeout=60)
        t.wait_for("no API key needed")
        assert "OPENAI_API_KEY is not set" not in t.text()
        # name, input, output, format, instructions, examples, provider, model, url, price
        t.press(*["tab"] * 10)
        t.wait_for("type 0 if this server is free")
        t.type("abc")
        t.wait_for("'abc' is not a price")
        t.press("backspace", "backspace", "backspace")
        t.type("0")
        read = lambda: cfg.load(workspace.root / "distill.toml").teacher.prices  # noqa: E731
        t.wait_until(lambda: "default_model" in read(), "price saved")
        assert read()["default_model"] == cfg.Price(input=0, output=0)
        t.press("backspace")
        t.wait_until(lambda: "default_model" not in read(), "blank removes the price")
        t.type("1 / 2")
        t.wait_until(lambda: read().get("default_model") == cfg.Price(input=1, output=2), "1/2")
        t.press("escape")
        assert t.quit() == 0


def test_home_and_end_in_the_examples_an_empty_filter_and_palette_keys(terminal, demo_project):
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press(*["tab"] * 6)  # name, input, output, format, instructions, examples
    t.press("end", binding="example-last")
    t.press("e")
    t.wait_for("Example 5")
    t.press("escape")
    t.wait_gone("Example 5")
    t.press("home", binding="example-first")
    t.press("e")
    t.wait_for("Example 1")
    t.press("escape")
    t.wait_gone("Example 1")
    t.press("escape")

    # A filter that matches nothing says so, with the way out; not "generate some".
    t.press("3")
    t.wait_for("rows 1-100")
    t.press("slash")
    t.type("no ticket says this")
    t.press("enter")
    t.wait_for("No row matches this filter")
    assert "320 rows in all" in t.flat() and "ctrl+r clears" in t.flat()
    assert "Generate some" not in t.flat()

    # The palette names keys as they are typed: `]`, not right_square_bracket.
    t.press("ctrl+p")
    t.wait_for("Search for commands")
    t.type("Next page")
    t.wait_for("Next page (])")
    assert "square_bracket" not in t.text()
    t.press("escape")
    t.wait_gone("Search for commands")
    assert t.quit() == 0


def test_a_paused_queue_promises_no_eta(terminal, workspace):
    t_ = workspace.settings.teacher
    t_.model, t_.requests_per_minute, t_.concurrency = "claude-haiku-4-5", 0, 2
    workspace.settings.task.instructions = "Answer."
    workspace.save_settings()
    workspace.store.add_inputs([(f"input {i}", None) for i in range(200)])
    with FakeLLM(latency_s=0.2) as teacher:
        env = {"ANTHROPIC_API_KEY": "queue-key", "ANTHROPIC_BASE_URL": teacher.url}
        t = terminal(str(workspace.root), env=env)
        t.wait_for("Task", timeout=60)
        t.press("2")
        t.wait_for("pending 200")
        t.press("s")
        t.wait_until(lambda: re.search(r"ETA \d+m\d\ds", t.text()), "an ETA while running")
        t.press("p")
        t.wait_for("paused")
        t.wait_for("ETA --")
        t.press("x")
        t.wait_for("last run stopped")
        assert t.quit() == 0


def _stopped_run(ws: Workspace) -> None:
    """A run of 30 iterations, reports every 10, validation every 10
    (mlx-lm's numbering: 1, 10), stopped at iteration 17."""
    run = "20260101-000000-stop"
    runs_db.create_run(ws.store, run, {"model": ws.settings.student.model}, None, 30)
    for m in (
        runs_db.Metric("val", 1, 2.5),
        runs_db.Metric("train", 10, 1.2, 1e-5, 1.0, 100.0, 1000, 0.1, at=10.0),
        runs_db.Metric("val", 10, 0.082),
    ):
        runs_db.record_metric(ws.store, run, m)
    runs_db.update_run(
        ws.store, run, status="stopped", iter=17, best_iter=10, best_val_loss=0.082, pid=None
    )


def test_the_monitor_and_plot_end_where_a_stopped_run_stopped(terminal, workspace):
    _stopped_run(workspace)
    t = terminal(str(workspace.root))
    t.wait_for("Task", timeout=60)
    t.press("4")
    t.press("ctrl+l")
    t.wait_for("Runs · enter monitor")
    t.press("enter")
    t.wait_for("best val 0.082 @ 10")
    t.wait_for("iter 17/30")
    # The x axis runs from 0 to where the run stopped, not to its last report.
    axis = [line for line in t.text().splitlines() if re.match(r"^\s*0(\.0)?\s+\S", line)]
    assert axis and re.search(r"\b17(\.0)?\s*$", axis[0]), t.text()
    assert t.quit() == 0


def test_the_monitor_counts_a_validation_before_the_first_report():
    run = runs_db.Run(
        id="r", status="running", config={}, dataset_hash=None, iter=0, iters_total=30,
        best_iter=10, best_val_loss=0.082, error=None, pid=None, created_at=0.0, updated_at=0.0,
    )  # fmt: skip
    assert TrainMonitor._iteration(run, [], [(1, 2.5), (10, 0.082)]) == 10


def test_the_student_list_shows_the_projects_gguf_files(terminal, workspace, tmp_path):
    (workspace.root / "models").mkdir()
    # Listing reads names and sizes only; the file is not opened.
    (workspace.root / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF" * 1024)
    hub = tmp_path / "hub"
    hub.mkdir()
    t = terminal(str(workspace.root), env={"HF_HUB_CACHE": str(hub)})
    t.wait_for("Task", timeout=60)
    # name ... price, max tokens, concurrency, rpm, student model, the list
    t.press(*["tab"] * 15)
    t.wait_for("models/SmolLM2-135M-Instruct.Q4_1.gguf  4.0 KB")
    assert "(none found)" not in t.text()
    t.press("down", "enter")
    t.wait_until(
        lambda: (
            cfg.load(workspace.root / "distill.toml").student.model
            == "models/SmolLM2-135M-Instruct.Q4_1.gguf"
        ),
        "the GGUF student chosen",
    )
    assert t.quit() == 0
