"""The Anthropic teacher through the real SDK against the loopback server."""

from __future__ import annotations

import pytest
from support.llm_server import FakeLLM, answer_for

from distill_tui.core.config import Example
from distill_tui.core.errors import UserError
from distill_tui.core.generate import queue as q
from distill_tui.engine.generate.queue import run_queue
from distill_tui.engine.generate.teachers.anthropic import AnthropicTeacher
from distill_tui.engine.generate.teachers.base import build_prompt

KEY = "sk-ant-test-DO-NOT-STORE-0123456789"


@pytest.fixture
def fake(monkeypatch):
    with FakeLLM() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server


def _task(ws):
    ws.settings.teacher.model = "claude-haiku-4-5"
    ws.settings.teacher.requests_per_minute = 0  # unpaced: these tests are about content
    ws.settings.task.instructions = "Classify the ticket as billing, bug or feature."
    ws.settings.task.examples = [
        Example(input="I was charged twice", output="billing"),
        Example(input="It crashes", output="bug"),
    ]


def test_request_has_cached_prefix_and_input_last(workspace, fake):
    _task(workspace)
    workspace.store.add_inputs([("please add dark mode", None), ("refund me", None)])
    result = run_queue(workspace)
    assert result.reason == "finished" and result.progress.done == 2

    req = fake.message_requests[0]
    assert req["system"][0]["text"].startswith("Classify the ticket")
    roles = [m["role"] for m in req["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    # The cache breakpoint is on the last block of the shared prefix only.
    assert req["messages"][3]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in req["messages"][4]["content"][-1]
    assert req["messages"][4]["content"][0]["text"] in ("please add dark mode", "refund me")
    # The SDK sent the key from the environment.
    assert KEY in fake.headers[0].get("authorization", "") + fake.headers[0].get("x-api-key", "")

    rows = {r["input"]: r for r in q.rows_page(workspace.store, 0, 10)}
    assert rows["refund me"]["output"] == answer_for("refund me")
    assert rows["refund me"]["status"] == "done"
    gens = [g for r in rows.values() for g in q.history(workspace.store, r["id"])]
    # One request wrote the cache, the other read it: counted separately.
    assert sorted(g["cache_read_tokens"] > 0 for g in gens) == [False, True]
    assert all(g["teacher"] == "anthropic:claude-haiku-4-5" for g in gens)
    assert all(g["cost_usd"] > 0 and g["latency_s"] is not None for g in gens)
    assert all(g["stop_reason"] == "end_turn" for g in gens)


def test_api_key_is_written_to_no_project_file(workspace, fake):
    _task(workspace)
    workspace.store.add_inputs([(f"ticket {i}", None) for i in range(5)])
    fake.faults.extend(["401"])
    run_queue(workspace)  # a failed auth run writes its error to the store
    fake.faults.clear()
    run_queue(workspace)
    workspace.store.close()
    files = [p for p in workspace.root.rglob("*") if p.is_file()]
    assert files
    for p in files:
        assert KEY.encode() not in p.read_bytes(), p


def test_prompt_hash_changes_with_instructions(workspace):
    s = workspace.settings
    from distill_tui.core.errors import UserError  # noqa: F401 - same module, clarity

    p1 = build_prompt(s.task, "x")
    s.task.instructions = "Something else."
    p2 = build_prompt(s.task, "x")
    from distill_tui.engine.generate.teachers.anthropic import build_request
    from distill_tui.engine.generate.teachers.base import request_hash

    h1 = request_hash(build_request(p1, s.teacher))
    h2 = request_hash(build_request(p2, s.teacher))
    assert h1 != h2
    assert h1 == request_hash(build_request(p1, s.teacher))


def test_missing_key_is_a_clear_user_error(workspace, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(UserError, match="ANTHROPIC_API_KEY"):
        AnthropicTeacher(workspace.settings.teacher)
