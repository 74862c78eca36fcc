"""The Ship dialog writing a GGUF for a Llama student from a GGUF file: the
tiny random Llama of `support.gguf_helpers`, fused, shipped as F16 from the
dialog in the background, and the report shows where it wrote and how many
greedy probes agree with the fused model. And the Task screen's terms line
for a teacher the table does not know."""

from __future__ import annotations

from support.adapter_helpers import make_run, write_split
from support.gguf_helpers import write_gguf
from support.ui_helpers import wait_until
from textual.widgets import Select, Static

from distill_tui.cli import main
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.models import gguf
from distill_tui.ui.app import DistillApp
from distill_tui.ui.screens.chat.screen import ChatScreen
from distill_tui.ui.screens.chat.ship import ShipDialog


async def test_gguf_from_the_dialog_reports_where_and_the_probe_agreement(workspace, tmp_path):
    write_gguf(workspace.root / "student.gguf")
    workspace.settings.student.model = "student.gguf"
    workspace.save_settings()
    folder = mlx_thread().call(gguf.convert, workspace.root / "student.gguf", cache=tmp_path / "c")
    make_run(workspace, folder)
    write_split(workspace, "valid", [("I was charged twice", "billing"), ("It crashes", "bug")])
    assert main(["fuse", str(workspace.root), "--run", "run-1", "--json"]) == 0

    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, ShipDialog))
        dialog = app.screen
        dialog.query_one("#ship-target", Select).value = "gguf"
        dialog.query_one("#ship-quant", Select).value = "f16"
        await pilot.pause()
        await pilot.press("ctrl+s")
        report = dialog.query_one("#ship-report", Static)
        await wait_until(pilot, lambda: "agree" in str(report.render()), 120)
        text = str(report.render())
        out = workspace.root / "fused" / "run-1-best-f16.gguf"
        assert out.is_file() and str(out) in text.replace("\n", "")
        assert "greedy probes agree with the fused model 2/2" in text.replace("\n", " ")
        assert f"llama-cli -m {out}" in text.replace("\n", "")


def test_task_terms_line_is_empty_for_a_teacher_the_table_does_not_know():
    """The Task screen's line: nothing at all for a local model the table has
    no entry for; a known family's terms, as what the user accepted."""
    from distill_tui.core import config as cfg
    from distill_tui.ui.screens.task.fields import terms_line

    assert terms_line(cfg.Teacher(provider="mlx", model="models/teacher")).plain == ""
    line = terms_line(cfg.Teacher(provider="openai", model="gemma-3-27b-it"))
    assert line.plain.startswith("the terms you accepted say: ")
    assert "Model Derivative" in line.plain
