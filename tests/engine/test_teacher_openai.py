"""The OpenAI-compatible teacher against the loopback server: the server's own
error text reaches the user, and the output cap goes out in the field the
endpoint accepts."""

from __future__ import annotations

import pytest
from support.llm_server import MLX_SERVER_404, FakeLLM

from distill_tui.core.config import Teacher
from distill_tui.core.generate import queue as q
from distill_tui.engine.generate.queue import RetryPolicy, run_queue
from distill_tui.engine.generate.teachers.base import build_prompt, request_hash
from distill_tui.engine.generate.teachers.openai_compat import OpenAITeacher, build_request

FAST = RetryPolicy(max_attempts=2, base_s=0.01, cap_s=0.05)


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with FakeLLM() as server:
        yield server


def _setup(ws, fake, n: int) -> None:
    t = ws.settings.teacher
    t.provider, t.model, t.base_url = "openai", "some-model", fake.url + "/v1"
    t.requests_per_minute, t.max_tokens = 0, 64
    ws.settings.task.instructions = "Answer."
    ws.store.add_inputs([(f"input {i}", None) for i in range(n)])


def test_the_servers_own_error_message_is_shown(workspace, fake):
    _setup(workspace, fake, 2)
    fake.always = "404-mlx"  # mlx_lm.server's {"error": "..."} for a model it cannot load
    result = run_queue(workspace, retry=FAST)
    assert result.reason == "error"
    assert MLX_SERVER_404 in result.message
    assert "not found" in result.message
    assert workspace.store.counts()["pending"] == 2


def test_a_server_that_refuses_max_tokens_gets_max_completion_tokens(workspace, fake):
    _setup(workspace, fake, 3)
    workspace.settings.teacher.concurrency = 1  # one at a time: a fixed request order
    fake.refuse_max_tokens = True  # as OpenAI's reasoning models answer
    result = run_queue(workspace, retry=FAST)
    assert result.reason == "finished" and result.progress.done == 3
    assert result.progress.retries == 0 and result.progress.failed == 0
    sent = fake.message_requests
    assert len(sent) == 4 and "max_tokens" in sent[0]  # refused once, never sent again
    assert all(r.get("max_completion_tokens") == 64 and "max_tokens" not in r for r in sent[1:])
    # The stored request hash does not depend on the field's name.
    row = q.rows_page(workspace.store, 0, 1)[0]
    prompt = build_prompt(workspace.settings.task, row["input"])
    want = request_hash(build_request(prompt, workspace.settings.teacher))
    assert q.history(workspace.store, row["id"])[0]["prompt_hash"] == want


def test_openais_own_api_gets_max_completion_tokens_and_others_max_tokens():
    body = {"model": "gpt-5-nano", "max_tokens": 100, "messages": []}
    openai_api = OpenAITeacher(Teacher(provider="openai", model="gpt-5-nano"))
    assert openai_api.wire_body(body) == {
        "model": "gpt-5-nano",
        "max_completion_tokens": 100,
        "messages": [],
    }
    local = OpenAITeacher(
        Teacher(provider="openai", model="m", base_url="http://127.0.0.1:8080/v1")
    )
    assert local.wire_body(body) == body


def test_a_model_with_no_price_is_shown_as_unknown_not_free(workspace, fake, capsys):
    from distill_tui.cli import main

    _setup(workspace, fake, 3)  # a local server's model: no price anywhere
    workspace.save_settings()
    assert main(["generate", str(workspace.root), "--quiet"]) == 0
    out = capsys.readouterr()
    assert "cost unknown" in out.err  # the estimate
    assert "unknown (3 without a price)" in out.out and "$0.0000" not in out.out
    assert main(["status", str(workspace.root)]) == 0
    assert "unknown (3 without a price)" in capsys.readouterr().out
    assert main(["status", str(workspace.root), "--json"]) == 0
    assert '"cost_unknown": 3' in capsys.readouterr().out
    g = q.history(workspace.store, 1)[0]
    assert g["cost_usd"] is None
    # The budget cap refuses to run without a price.
    workspace.store.add_inputs([("one more", None)])
    assert main(["generate", str(workspace.root), "--max-cost", "1"]) == 2
    assert "no price is known" in capsys.readouterr().err


def test_the_judge_runs_on_a_local_server_once_it_is_priced_at_zero(workspace, fake):
    from distill_tui.core.config import Price
    from distill_tui.core.errors import UserError
    from distill_tui.core.evaluate import evals, metrics
    from distill_tui.engine.chat.judge import judge

    _setup(workspace, fake, 0)
    workspace.settings.teacher.model = "default_model"
    fake.reply = lambda _text: '{"pass": false, "reason": "says bug, not billing"}'
    item = evals.EvalItem(0, None, "charged twice", "billing")
    item.answers[evals.ADAPTER] = "bug"
    item.scores[evals.ADAPTER] = metrics.score("bug", "billing")
    result = evals.EvalResult("run-1", "best", "valid", "text", [item])
    with pytest.raises(UserError, match="set its price on the Task screen"):
        judge(workspace, result, retry=FAST)
    # What the Task screen's price field writes for a free local server.
    workspace.settings.teacher.prices = {"default_model": Price(input=0, output=0)}
    summary = judge(workspace, result, retry=FAST)
    assert (summary.judged, summary.cost_usd, summary.capped) == (1, 0.0, False)
    assert item.judge == "says bug, not billing"
