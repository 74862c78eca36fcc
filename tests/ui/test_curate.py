"""The Curate screen driven with Pilot at 80x24: review keys, edit, undo,
filters, bulk actions, paging and hostile text."""

from __future__ import annotations

from support.curate_helpers import add_answered
from support.ui_helpers import screen_text, wait_until

from distill_tui.core.curate import query as cq
from distill_tui.ui.app import DistillApp
from distill_tui.ui.screens.curate.screen import PAGE, CurateScreen

SIZE = (80, 24)


def _row(ws, row_id):
    return cq.get(ws.store, row_id)


async def _open(pilot, app):
    await pilot.press("3")
    await wait_until(pilot, lambda: isinstance(app.screen, CurateScreen) and app.screen.rows)
    return app.screen


async def _edit(pilot, app, output: str, input: str | None = None) -> None:
    """`e` on the current row, then the dialog's fields filled (not saved yet)."""
    await pilot.press("e")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "EditDialog")
    if input is not None:
        app.screen.query_one("#edit-input").text = input
    app.screen.query_one("#edit-output").text = output


async def test_accept_reject_with_reason_advance_and_undo(workspace):
    add_answered(workspace.store, [(f"question {i}", f"answer {i}") for i in range(5)])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        assert "rows 1-5 of 5" in screen_text(app)
        await pilot.press("a")
        await wait_until(pilot, lambda: screen.current_id == 2)
        assert _row(workspace, 1).decision == "accepted"  # written at once
        await pilot.press("r")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ReasonPicker")
        await pilot.press("1")  # first reason tag
        await wait_until(pilot, lambda: screen.current_id == 3)
        assert (_row(workspace, 2).decision, _row(workspace, 2).reason) == ("rejected", "wrong")
        await pilot.press("u")
        await wait_until(pilot, lambda: _row(workspace, 2).decision is None)
        await wait_until(pilot, lambda: screen.current_id == 2)
        await pilot.press("n")  # next unreviewed after row 2 is 3
        await wait_until(pilot, lambda: screen.current_id == 3)


async def test_reject_with_a_new_reason_tag(workspace):
    add_answered(workspace.store, [("q", "a")])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        await pilot.press("r")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ReasonPicker")
        app.screen.query_one("#reason-new").focus()
        await pilot.press(*"too polite", "enter")
        await wait_until(pilot, lambda: _row(workspace, 1).reason == "too polite")


async def test_edit_in_textarea_shows_diff_and_keeps_original(workspace):
    add_answered(workspace.store, [("q", "teacher said this")])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await _edit(pilot, app, "I fixed this")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _row(workspace, 1).output == "I fixed this")
        await wait_until(pilot, lambda: "I fixed this" in screen_text(app))
        await pilot.press("d")
        await wait_until(pilot, lambda: "-teacher said this" in screen_text(app))
        assert "+I fixed this" in screen_text(app)
        assert screen.side == "diff"
        await pilot.press("u")
        await wait_until(pilot, lambda: _row(workspace, 1).output == "teacher said this")


async def test_an_invalid_json_edit_is_named_in_the_dialog_flagged_and_asked_before_accept(
    workspace,
):
    workspace.settings.task.output_format = "json"
    add_answered(workspace.store, [("q", '{"label": "bug"}'), ("q2", '{"label": "ok"}')])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await _edit(pilot, app, '{"label": "bug",}')
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "line 1 column 17" in screen_text(app))
        assert "ctrl+s again saves it anyway" in screen_text(app)
        assert _row(workspace, 1).output == '{"label": "bug"}'  # not saved yet
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _row(workspace, 1).output == '{"label": "bug",}')
        assert _row(workspace, 1).flags == ("bad-json",)  # at once, no `c` pressed
        await wait_until(pilot, lambda: "flags: bad-json" in screen_text(app))
        # Undone, the output parses again and the flag goes with it; redone by hand.
        await pilot.press("u")
        await wait_until(pilot, lambda: _row(workspace, 1).flags == ())
        await _edit(pilot, app, '{"label": "bug",}')
        await pilot.press("ctrl+s", "ctrl+s")
        await wait_until(pilot, lambda: _row(workspace, 1).flags == ("bad-json",))
        # Accepting it asks first; escape leaves it unreviewed.
        await pilot.press("a")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        assert "Row 1's output is not valid JSON" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, CurateScreen))
        assert _row(workspace, 1).decision is None
        # Bulk accept names the invalid row and can leave it out.
        await pilot.press("b")
        await wait_until(
            pilot, lambda: "1 row of these is not valid JSON (bad-json)" in screen_text(app)
        )
        await pilot.press("j")
        await wait_until(pilot, lambda: _row(workspace, 2).decision == "accepted")
        assert _row(workspace, 1).decision is None
        assert screen.current_id is not None
        # `a` then `a` on the question accepts it as it is.
        await pilot.press("home", "a")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        await pilot.press("a")
        await wait_until(pilot, lambda: _row(workspace, 1).decision == "accepted")


async def test_input_and_output_columns_are_readable_at_80_columns(workspace):
    add_answered(workspace.store, [("I was charged twice this month", "billing, refund asked")])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        await wait_until(pilot, lambda: "I was charged…" in screen_text(app))
        assert "billing, refu…" in screen_text(app)


async def test_a_refused_edit_keeps_the_text_in_the_dialog(workspace):
    add_answered(workspace.store, [("first", "a"), ("second", "b")])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        await _edit(pilot, app, "my careful answer", input="second")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "row 2 already has this input" in screen_text(app))
        assert type(app.screen).__name__ == "EditDialog"
        assert app.screen.query_one("#edit-output").text == "my careful answer"


async def test_search_filter_view_and_bulk_accept_of_shown_rows(workspace):
    add_answered(
        workspace.store,
        [(f"billing {i}", "billing") for i in range(4)] + [(f"bug {i}", "bug") for i in range(3)],
    )
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("slash", *"bug", "enter")
        await wait_until(pilot, lambda: screen.total == 3)
        assert "text~'bug'" in screen_text(app)
        await pilot.press("b")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "BulkDialog")
        await pilot.press("a")
        await wait_until(pilot, lambda: workspace.store.counts()["accepted"] == 3)
        assert {
            r[0]
            for r in workspace.store.conn.execute(
                "SELECT input FROM rows WHERE decision = 'accepted'"
            )
        } == {"bug 0", "bug 1", "bug 2"}
        # The filter dialog clears the search; `v` then cycles to 'unreviewed'.
        await pilot.press("f")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "FilterDialog")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.total == 7)
        await pilot.press("v")
        await wait_until(pilot, lambda: screen.flt.decision == "unreviewed" and screen.total == 4)
        # Bulk undo reverts all three at once.
        await pilot.press("u")
        await wait_until(pilot, lambda: workspace.store.counts()["accepted"] == 0)


async def test_bulk_reject_asks_for_confirmation_and_reason(workspace):
    add_answered(workspace.store, [(f"x {i}", "y") for i in range(3)])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        await pilot.press("b")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "BulkDialog")
        await pilot.press("escape")  # cancelled: nothing happens
        await wait_until(pilot, lambda: isinstance(app.screen, CurateScreen))
        assert workspace.store.counts()["rejected"] == 0
        await pilot.press("b", "r")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "ReasonPicker")
        await pilot.press("2")
        await wait_until(pilot, lambda: workspace.store.counts()["rejected"] == 3)
        assert _row(workspace, 3).reason == "incomplete"


async def test_paging_loads_the_next_page_at_the_edge(workspace):
    add_answered(workspace.store, [(f"r{i}", "o") for i in range(PAGE + 5)])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        assert len(screen.rows) == PAGE
        screen.query_one("#curate-table").move_cursor(row=PAGE - 1)
        await pilot.press("down")
        await wait_until(pilot, lambda: screen.page_start == PAGE and screen.current_id == PAGE + 1)
        assert f"rows {PAGE + 1}-{PAGE + 5} of {PAGE + 5}" in screen_text(app)
        await pilot.press("up")
        await wait_until(pilot, lambda: screen.page_start == 0 and screen.current_id == PAGE)


async def test_hostile_text_is_shown_as_data(workspace):
    nasty_in = "[bold]not bold[/] [/] [link=x]"
    nasty_out = "ansi \x1b[31mred\x1b[0m 🧪 \u202eabc " + "w" * 5000
    add_answered(workspace.store, [(nasty_in, nasty_out)])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        text = screen_text(app)
        assert "[bold]not bold[/] [/]" in text
        assert "␛[31mred" in text  # the escape is visible, not sent to the terminal
        assert "🧪" in text
        await pilot.press("a")
        await wait_until(pilot, lambda: _row(workspace, 1).decision == "accepted")
        assert _row(workspace, 1).output == nasty_out


async def test_stats_panel_shows_counts_and_guide(workspace):
    add_answered(workspace.store, [(f"q{i}", "a" * (i + 1) * 10) for i in range(6)])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        await pilot.press("a", "a", "s")
        await wait_until(pilot, lambda: "HOW MUCH DATA" in screen_text(app))
        text = screen_text(app)
        assert "2 accepted" in text
        assert screen.side == "stats"
        # Each histogram line keeps its count beside its bar at 80 columns.
        bars = [line for line in text.splitlines() if "█" in line]
        assert bars and all(line.rstrip().split()[-1] == "1" for line in bars), bars


async def test_regenerate_sends_row_back_to_queue(workspace):
    add_answered(workspace.store, [("q", "a")])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app)
        await pilot.press("g")
        await wait_until(pilot, lambda: _row(workspace, 1).status == "pending")
        assert _row(workspace, 1).output == "a"  # kept until the new answer arrives


def test_editor_newline_is_dropped_only_when_the_editor_added_it():
    from distill_tui.core.curate.editor import strip_added_newline

    assert strip_added_newline("billing", "billing\n") == "billing"
    assert strip_added_newline("billing", "billing\r\n") == "billing"
    assert strip_added_newline("two\n", "two\n") == "two\n"  # it was there before
    assert strip_added_newline("a", "a\n\n") == "a\n"  # a blank line typed stays


async def test_columns_keep_tok_and_flags_and_grow_with_the_terminal(workspace):
    add_answered(workspace.store, [("a long input " * 10, "a long output " * 10)])
    for size, least in ((SIZE, 8), ((120, 30), 18)):
        app = DistillApp(root=workspace.root, workspace=workspace)
        async with app.run_test(size=size) as pilot:
            screen = await _open(pilot, app)
            await pilot.press("e", "end", *"!!!", "ctrl+s")  # a longer output
            await wait_until(pilot, lambda: _row(workspace, 1).edited)
            await pilot.pause()
            header = screen_text(app).splitlines()[2]
            assert "tok" in header and "flags" in header, header
            table = screen.query_one("#curate-table")
            widths = [c.width for c in table.columns.values()]
            assert widths[1] >= least and widths[2] >= least  # input and output


async def test_an_answer_with_no_token_count_shows_none_not_zero(workspace):
    """Recorded answers (the demo's, imported ones) carry no token count: the
    store keeps 0, which the tok column must not show as "0 tokens"."""
    counted, recorded = add_answered(
        workspace.store, [("Charged twice", "billing billing billing"), ("App crashes", "bug")]
    )
    workspace.store.conn.execute(
        "UPDATE generations SET output_tokens = 0 WHERE row_id = ?", (recorded,)
    )
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        table = screen.row_list.table
        tok = {screen.rows[i].id: str(table.get_row_at(i)[3]) for i in range(len(screen.rows))}
        assert tok == {counted: "5", recorded: ""}


async def test_an_edited_answer_does_not_keep_the_teachers_token_count(workspace):
    """Issue 35 item 12: after an edit the tok column showed the teacher's
    count of the answer it replaced; it is unknown ("?") until c counts it."""
    (row_id,) = add_answered(workspace.store, [("Charged twice", "billing billing billing")])
    app = DistillApp(root=workspace.root, workspace=workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app)
        table = screen.row_list.table
        assert str(table.get_row_at(0)[3]) == "5"
        await _edit(pilot, app, "billing")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _row(workspace, row_id).edited)
        await wait_until(pilot, lambda: str(table.get_row_at(0)[3]) == "?")
