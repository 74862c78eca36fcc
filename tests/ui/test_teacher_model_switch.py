"""The Task screen's provider switch (issue 35 item 9): a Claude model id is
cleared when the provider becomes OpenAI-compatible, with a line saying what
goes there, and a local server's `/v1/models` is offered when it answers."""

from __future__ import annotations

from support.llm_server import FakeLLM
from support.ui_helpers import wait_until
from textual.widgets import Input, Static

from distill_tui.ui.app import DistillApp
from distill_tui.ui.widgets.dropdown import Dropdown


async def _switch(workspace, base_url: str | None):
    workspace.settings.teacher.base_url = base_url
    workspace.save_settings()
    app = DistillApp(root=workspace.root, workspace=workspace)
    return app


async def test_switching_to_a_local_server_offers_what_it_serves(workspace):
    with FakeLLM(models=["smollm2-135m", "other"]) as server:
        app = await _switch(workspace, server.url + "/v1")
        async with app.run_test(size=(80, 24)) as pilot:
            model = app.screen.query_one("#teacher-model", Input)
            assert model.value == "claude-sonnet-4-6"
            app.screen.query_one("#teacher-provider", Dropdown).value = "openai"
            await wait_until(pilot, lambda: model.value == "smollm2-135m")
            hint = app.screen.query_one("#teacher-model-hint", Static)
            await wait_until(pilot, lambda: "first this server serves" in str(hint.render()))
            await wait_until(pilot, lambda: workspace.settings.teacher.model == "smollm2-135m")


async def test_switching_with_no_server_clears_the_claude_id_and_says_why(workspace):
    app = await _switch(workspace, None)
    async with app.run_test(size=(80, 24)) as pilot:
        model = app.screen.query_one("#teacher-model", Input)
        app.screen.query_one("#teacher-provider", Dropdown).value = "openai"
        await wait_until(pilot, lambda: model.value == "")
        assert "/v1/models" in model.placeholder
        hint = app.screen.query_one("#teacher-model-hint", Static)
        assert "cleared 'claude-sonnet-4-6'" in str(hint.render())
