"""The app shell and the Task screen, driven with Pilot at 80x24."""

from __future__ import annotations

from support.ui_helpers import screen_text, wait_until

from distill_tui.core import config as cfg
from distill_tui.core.project import Workspace
from distill_tui.ui import themes
from distill_tui.ui.app import DistillApp

SIZE = (80, 24)


async def test_keys_1_to_5_reach_each_screen(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        expected = {
            "1": "TaskScreen",
            "2": "QueueScreen",
            "3": "CurateScreen",
            "4": "TrainScreen",
            "5": "ChatScreen",
        }
        for key in "23451":
            await pilot.press("escape", key)
            await wait_until(pilot, lambda k=key: type(app.screen).__name__ == expected[k])
            # the tab bar is on every screen (drawn once the switch's held updates end)
            await wait_until(pilot, lambda: "1 Task" in screen_text(app))


async def test_the_form_takes_the_focus_and_a_tab_at_once_reaches_the_name(workspace):
    """Focus comes a frame after the first one (it restyles the whole form); a
    tab pressed before it still starts from the form, as it always has."""
    for press_at_once in (True, False):
        app = DistillApp(root=workspace.root, workspace=workspace)
        async with app.run_test(size=SIZE) as pilot:
            if not press_at_once:
                await wait_until(pilot, lambda a=app: a.screen.focused is not None)
                assert app.screen.focused.id == "task-form"
            await pilot.press("tab")
            await wait_until(pilot, lambda a=app: a.screen.focused is not None)
            assert app.screen.focused.id == "task-name"


async def test_the_hook_after_the_first_frame_runs_once_with_the_screen_drawn(workspace):
    """`distill-tui DIR` turns Python's cycle collector back on in this hook."""
    seen: list[str] = []
    app = DistillApp(
        root=workspace.root,
        workspace=workspace,
        after_first_frame=lambda: seen.append(screen_text(app)),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(seen))
        await pilot.press("2", "1")
        await pilot.pause()
        assert len(seen) == 1
        assert "Instructions" in seen[0] and "Quit" in seen[0]


async def test_task_form_saves_to_disk_at_once(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#task-name")
        await pilot.press("ctrl+a", "ctrl+k", *"tickets")
        await pilot.click("#task-instructions")
        await pilot.press(*"Label it.")
        on_disk = lambda: cfg.load(workspace.root / "distill.toml")  # noqa: E731
        await wait_until(pilot, lambda: on_disk().task.name == "tickets")
        await wait_until(pilot, lambda: on_disk().task.instructions == "Label it.")
        # An invalid value is refused with a message and the file keeps the old one.
        # The refused value is marked under its field, saying which value counts.
        field = app.screen.query_one("#teacher-max-tokens")
        field.focus()
        field.value = "0"
        await wait_until(pilot, lambda: "not saved" in screen_text(app))
        assert "distill.toml keeps 1024" in screen_text(app)
        assert field.has_class("refused")
        assert on_disk().teacher.max_tokens == 1024


async def test_a_refused_value_at_the_bottom_of_the_form_shows_its_reason(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#teacher-concurrency")
        field.focus()
        form = app.screen.query_one("#task-form")
        await pilot.pause()
        # The field on the last line of the form: the line under it is below the fold.
        bottom = field.virtual_region.y - form.scrollable_content_region.height + 1
        form.scroll_to(y=bottom, animate=False)
        await pilot.pause()
        field.value = "0"
        await wait_until(pilot, lambda: field.has_class("refused"))
        await wait_until(pilot, lambda: "distill.toml keeps 8" in screen_text(app))


async def test_examples_add_edit_delete_reorder(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#examples")
        table.focus()
        saved = lambda: cfg.load(workspace.root / "distill.toml").task.examples  # noqa: E731
        for inp, out in [("first [bold]in", "one [/]"), ("second in", "two")]:
            await pilot.press("a")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "ExampleDialog")
            app.screen.query_one("#ex-input").text = inp
            app.screen.query_one("#ex-output").text = out
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "TaskScreen")
        await wait_until(pilot, lambda: len(saved()) == 2)
        assert saved()[0].output == "one [/]"  # markup kept as data
        assert "first [bold]in" in screen_text(app)
        await pilot.press("shift+up")  # cursor is on the second row: move it up
        await wait_until(pilot, lambda: saved()[0].input == "second in")
        await pilot.press("e")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ExampleDialog")
        app.screen.query_one("#ex-output").text = "TWO"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: saved()[0].output == "TWO")
        await pilot.press("d")  # asks first; y deletes
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        assert len(saved()) == 2
        await pilot.press("y")
        await wait_until(pilot, lambda: [e.input for e in saved()] == ["first [bold]in"])


async def test_folder_without_project_starts_on_task_and_creates_it(tmp_path):
    root = tmp_path / "new"
    root.mkdir()
    app = DistillApp(root=root, workspace=None)
    async with app.run_test(size=SIZE) as pilot:
        assert type(app.screen).__name__ == "TaskScreen"
        await pilot.press("3")  # no project yet: other screens are unavailable
        assert type(app.screen).__name__ == "TaskScreen"
        app.screen.query_one("#task-name").value = "fresh"
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: (root / "distill.toml").is_file())
        assert Workspace.open(root).settings.task.name == "fresh"
        await pilot.press("escape", "3")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CurateScreen")


async def test_import_dialog_reports_counts(workspace, tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"prompt": "[/] \\u001b[31mred"}\nbroken\n{"prompt": "b"}\n')
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ImportDialog")
        app.screen.query_one("#import-paths").value = str(corpus)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "2 new input(s)" in screen_text(app))
        assert "malformed JSON" in screen_text(app)
        assert workspace.store.counts()["inputs"] == 2


async def test_theme_choice_is_remembered(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        assert {"distill-dark", "distill-light"} <= set(app.available_themes)
        app.theme = "distill-light"
        await pilot.pause()
    assert themes.saved_theme() == "distill-light"
    app2 = DistillApp(root=workspace.root, workspace=workspace)
    async with app2.run_test(size=SIZE):
        assert app2.theme == "distill-light"


async def test_command_palette_carries_screen_actions(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Import inputs" in titles
        assert "Go to Curate" in titles


async def test_status_bar_counts_all_teacher_spend(workspace):
    from distill_tui.core.generate import side_costs
    from distill_tui.core.generate.pricing import Usage

    side_costs.record(workspace.store, side_costs.JUDGE, Usage(input_tokens=10), 0.25)
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "$0.25" in screen_text(app))


async def test_a_dropdown_opened_over_the_form_has_a_border(workspace):
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#task-output-format").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "JSON" in screen_text(app))
        # Its options sit inside a frame, apart from the text they cover.
        assert "▊free text" in screen_text(app) and "▊JSON" in screen_text(app)


async def test_a_whole_number_field_takes_digits_only_and_a_sane_size(workspace):
    """Python's int() reads "1_000"; a path typed into the wrong field once
    saved 3,112,213,541 requests a minute."""
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        field = app.screen.query_one("#teacher-rpm")
        field.focus()
        field.value = "1_000"
        await wait_until(pilot, lambda: "'1_000' is not a number" in screen_text(app))
        field.value = "3112213541"
        await wait_until(pilot, lambda: "must be at most 1000000:" in screen_text(app))
        field.value = "600"
        await wait_until(pilot, lambda: not field.has_class("refused"))
        on_disk = lambda: cfg.load(workspace.root / "distill.toml")  # noqa: E731
        await wait_until(pilot, lambda: on_disk().teacher.requests_per_minute == 600)


async def test_keys_and_file_edits_before_the_form_below_the_fold_is_made(workspace, monkeypatch):
    """The Task form's part below the fold is made after the first frame. A
    ctrl+r pressed, or a distill.toml edited, before it exists is neither an
    error nor lost: ctrl+r waits for it, and it is made from the file as
    reloaded."""
    from distill_tui.core import sysinfo
    from distill_tui.ui.screens.task.screen import TaskScreen

    held: list[TaskScreen] = []
    make_rest = TaskScreen._mount_rest
    monkeypatch.setattr(TaskScreen, "_mount_rest", lambda self: held.append(self))
    failures: list[str] = []
    monkeypatch.setattr(DistillApp, "report_error", lambda s, e, where="": failures.append(str(e)))
    monkeypatch.setattr(
        DistillApp, "report_unexpected", lambda s, e, where: failures.append(repr(e))
    )
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(held))
        assert not app.screen.query("#teacher-max-tokens")  # not made yet
        await pilot.press("ctrl+r")
        toml = workspace.root / "distill.toml"
        toml.write_text(toml.read_text().replace("max_tokens = 1024", "max_tokens = 2048"))
        app.check_settings_file()
        await wait_until(pilot, lambda: workspace.settings.teacher.max_tokens == 2048)
        await pilot.pause()
        await make_rest(held[0])
        recommended = sysinfo.recommend_student(sysinfo.total_memory_bytes())
        field = app.screen.query_one("#student-model")
        await wait_until(pilot, lambda: field.value == recommended)
        assert app.screen.query_one("#teacher-max-tokens").value == "2048"
        await wait_until(pilot, lambda: cfg.load(toml).student.model == recommended)
    assert failures == []


async def test_a_tab_before_the_part_below_the_fold_is_laid_out_goes_to_name(
    workspace, monkeypatch
):
    """Textual orders tab stops by their place on screen; the part below the
    fold, mounted but not yet laid out, sits at the top left. A tab pressed in
    that moment (a fast typist, right after the app opens) once jumped from the
    form to the Base URL field."""
    from distill_tui.ui.screens.task.screen import TaskScreen

    reached: list[str | None] = []
    make_rest = TaskScreen._mount_rest

    async def mount_then_tab(self: TaskScreen) -> None:
        await make_rest(self)  # mounted, not laid out yet
        self.set_focus(self.query_one("#task-form"))
        self.focus_next()
        reached.append(self.focused.id if self.focused else None)

    monkeypatch.setattr(TaskScreen, "_mount_rest", mount_then_tab)
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(reached))
        assert reached == ["task-name"]
        await pilot.press("tab", "tab")  # once laid out, its fields are tab stops again
        await wait_until(pilot, lambda: app.screen.focused.id == "task-output-desc")
        app.screen.set_focus(app.screen.query_one("#teacher-model"))
        await pilot.press("tab")
        await wait_until(pilot, lambda: app.screen.focused.id == "teacher-base-url")
