"""The iterate loop without traps (issue 20), in a real 80x24 terminal: a
local teacher needs no API key and is priced by choice on the Task screen."""

from __future__ import annotations

import os

from fakes.llm_server import FakeLLM

from distill_tui.core import config as cfg
from distill_tui.core.project import Workspace


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
