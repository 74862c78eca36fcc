"""The Train form by itself (Pilot, 80x24): tab order without hidden stops,
focus after ctrl+w, a wrong value marked on its field and label and not
written, presets fitted to the student's layers, epochs turned into
iterations."""

from __future__ import annotations

from support.tiny_task import write_split
from support.ui_helpers import screen_text, wait_until

from distill_tui.core import config as cfg
from distill_tui.ui.app import DistillApp

SIZE = (80, 24)


def _on_disk(ws) -> cfg.Train:  # noqa: ANN001
    return cfg.load(ws.root / "distill.toml").train


async def _open(pilot, app) -> None:  # noqa: ANN001
    await pilot.press("4")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "TrainScreen")
    await pilot.pause()


async def test_tab_visits_only_visible_fields_and_ctrl_w_returns_to_the_last(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        assert app.focused is not None and app.focused.id == "tf-preset"
        seen = []
        for _ in range(23):
            await pilot.press("tab")
            seen.append(app.focused.id if app.focused else None)
        # Every stop is a field or the command box (which scrolls); then Preset again.
        assert seen[-1] == "tf-preset" and None not in seen
        assert seen[-2] == "train-command-box"
        assert all(i.startswith("tf-") for i in seen[:-2])
        assert len(set(seen)) == 23
        # Down the left column, then down the right one, as the form reads at
        # 80x24 (not row by row across both: tab from Preset reaches Iterations).
        assert seen[:10] == [
            "tf-iters",
            "tf-batch_size",
            "tf-learning_rate",
            "tf-max_seq_length",
            "tf-steps_per_save",
            "tf-steps_per_report",
            "tf-mask_prompt",
            "tf-objective",
            "tf-pref_epochs",
            "tf-sft_weight",
        ]
        assert seen[10] == "tf-fine_tune_type"
        assert seen[-5:-2] == ["tf-pref_learning_rate", "tf-beta", "tf-stop_on_collapse"]
        await pilot.press("shift+tab", "shift+tab", "shift+tab")  # box, Stop on collapse, Beta
        await pilot.press("ctrl+w")
        await wait_until(pilot, lambda: app.focused is None)  # the monitor: digits work
        await pilot.press("ctrl+w")
        await wait_until(pilot, lambda: app.focused is not None)
        assert app.focused.id == "tf-beta"


async def test_typing_into_a_number_replaces_it(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        await pilot.press("tab", *"30")  # Preset -> Iterations, which held 600
        await wait_until(pilot, lambda: _on_disk(workspace).iters == 30)
        assert app.focused is not None and app.focused.id == "tf-iters"
        assert app.focused.value == "30"


async def test_a_wrong_value_is_marked_on_its_field_and_not_written(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        form = app.screen.query_one("TrainForm")
        field = form.query_one("#tf-lora_rank")
        field.focus()
        await pilot.press("end", "backspace", "backspace", "0")
        await wait_until(pilot, lambda: field.has_class("-invalid"))
        assert form.query_one("#tfl-lora_rank").has_class("-invalid")
        error = str(app.screen.query_one("#train-form-error").render())
        assert "LoRA rank: Input should be greater than or equal to 1 (not saved)" in error
        assert _on_disk(workspace).lora_rank == 1  # the last valid value typed ("1")
        await pilot.press("backspace", "8")
        await wait_until(pilot, lambda: _on_disk(workspace).lora_rank == 8)
        assert not field.has_class("-invalid")
        assert str(app.screen.query_one("#train-form-error").render()) == ""


async def test_presets_fit_the_students_layers_and_epochs_set_iterations(workspace, tiny_model):
    workspace.settings.student.model = str(tiny_model)  # 2 layers
    workspace.settings.train.num_layers = -1
    workspace.save_settings()
    write_split(workspace.root / "data")
    rows = sum(1 for _ in open(workspace.root / "data" / "train.jsonl", encoding="utf-8"))
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        app.screen.query_one("#tf-preset").value = "simple"  # 8 layers, batch 4
        await wait_until(pilot, lambda: _on_disk(workspace).lora_rank == 8)
        await wait_until(pilot, lambda: _on_disk(workspace).num_layers == 2)
        app.screen.query_one("#tf-epochs").focus()
        await pilot.press("2")
        expected = -(-2 * rows // 4)
        await wait_until(pilot, lambda: _on_disk(workspace).iters == expected)


async def test_checkboxes_read_without_colour_and_presets_one_per_line(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        text = screen_text(app)
        assert "▐X▌ Mask prompt" in text and "▐ ▌ Save memory" in text  # on / off
        box = app.screen.query_one("#tf-grad_checkpoint")
        box.focus()
        await pilot.press("space")
        await wait_until(pilot, lambda: "▐X▌ Save memory" in screen_text(app))
        assert _on_disk(workspace).grad_checkpoint is True
        # The presets' list: each description whole on its own line at 80 columns.
        app.screen.query_one("#tf-preset").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "low-memory:" in screen_text(app))
        lines = screen_text(app).splitlines()
        assert any("low-memory: batch 1, 8 layers, gradient checkpointing" in li for li in lines)
        assert any("simple: classification, extraction: rank 8, lr 1e-4" in li for li in lines)
