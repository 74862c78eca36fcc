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
