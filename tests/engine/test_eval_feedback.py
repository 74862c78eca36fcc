"""Failures back to the teacher, against the loopback server: new inputs like
the failing rows join the generation queue, and the teacher judges answers
within a cost cap. Evaluations are built by hand (no model needed) except in
the one end-to-end CLI test on the tiny model."""

from __future__ import annotations

import json

import pytest
from support.adapter_helpers import make_run, write_split
from support.llm_server import FakeLLM

from distill_tui.cli import main
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import evals, metrics
from distill_tui.core.generate import side_costs
from distill_tui.engine.chat.judge import judge, parse_verdict
from distill_tui.engine.generate.queue import RetryPolicy, run_queue
from distill_tui.engine.synth.similar import ORIGIN, add_similar, parse_inputs

FAST = RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.02)


@pytest.fixture
def fake(monkeypatch, workspace):
    with FakeLLM() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        t = workspace.settings.teacher
        t.model = "claude-haiku-4-5"
        t.requests_per_minute = 0
        t.request_timeout_s = 2
        task = workspace.settings.task
        task.instructions = "Label the support ticket: billing, bug or account."
        task.input_description = "a customer's support ticket, one or two sentences"
        workspace.save_settings()  # the CLI reads distill.toml
        yield server


def _stored_eval(ws, answers: list[tuple[str, str, str]]) -> evals.EvalResult:
    items = []
    for n, (inp, ref, ans) in enumerate(answers):
        item = evals.EvalItem(n, None, inp, ref)
        item.answers[evals.ADAPTER] = ans
        item.scores[evals.ADAPTER] = metrics.score(ans, ref)
        items.append(item)
    result = evals.EvalResult("run-1", "best", "valid", "text", items)
    evals.save(ws.store, result)
    return result


def test_similar_inputs_join_the_queue_and_their_cost_is_counted(workspace, fake):
    fake.reply = lambda _text: (
        'Sure:\n```json\n["My card was billed two times", "Refund for a double charge?",'
        ' "I was charged twice"]\n```'
    )
    failing = ["I was charged twice", "Why two payments this month"]
    res = add_similar(workspace, failing, 3, retry=FAST)
    # The prompt names the task's input description and quotes the failures.
    asked = fake.message_requests[0]
    text = json.dumps(asked)
    assert "one or two sentences" in text and "Why two payments this month" in text
    # A failing input echoed back is not a new input: dropped, and said why.
    assert len(res.inputs) == 3 and res.report is not None
    assert res.report.kept == ["My card was billed two times", "Refund for a double charge?"]
    assert [(d.text, d.reason) for d in res.report.dropped] == [
        ("I was charged twice", "duplicate")
    ]
    assert res.added == 2 and "2 added to the generation queue" in res.summary()
    rows = workspace.store.conn.execute(
        "SELECT input, origin, status FROM rows ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        ("My card was billed two times", ORIGIN, "pending"),
        ("Refund for a double charge?", ORIGIN, "pending"),
    ]
    spent = side_costs.totals(workspace.store)[side_costs.SIMILAR]
    assert spent["requests"] == 1 and res.cost_usd > 0
    assert spent["usd"] == pytest.approx(res.cost_usd)
    # The queue answers them like any other pending row.
    fake.reply = None
    assert run_queue(workspace, retry=FAST).reason == "finished"
    assert workspace.store.counts()["done"] == 2


def test_similar_retries_a_429_and_refuses_an_empty_reply(workspace, fake):
    fake.faults.append("429")
    fake.reply = lambda _t: "Here you go:\n1. first new one\n2. second new one"
    assert add_similar(workspace, ["x"], 2, retry=FAST).added == 2
    # An empty answer is a failed attempt (retried), then a clear error.
    fake.reply = lambda _t: "   "
    with pytest.raises(UserError, match="gave up after 3 attempts: the teacher's answer was empty"):
        add_similar(workspace, ["x"], 2, retry=FAST)
    fake.reply = lambda _t: "Sure:"
    with pytest.raises(UserError, match="held no JSON array or list of inputs"):
        add_similar(workspace, ["x"], 2, retry=FAST)
    with pytest.raises(UserError, match="no failing rows"):
        add_similar(workspace, [], 2)


def test_parse_inputs_accepts_lists_lines_and_cut_off_replies():
    assert parse_inputs('["a", {"k": 1}, "a"]') == ["a", '{"k": 1}']
    assert parse_inputs("Here are 3 inputs:\n- 'one'\n* two\n3) three") == ["one", "two", "three"]
    assert parse_inputs("1. full line\n2. cut of", truncated=True) == ["full line"]
    # Unmarked lines are commentary, never inputs; fences and braces are fragments.
    assert parse_inputs("Sure, here:\n```\n{\nsome stray line\n- real one\n```") == ["real one"]
    assert parse_inputs("x" * 5000) == []
    assert parse_inputs('{"inputs": ["a b", "{"]}') == ["a b"]


def test_a_code_block_from_a_weak_teacher_is_not_split_into_inputs(workspace, fake):
    """Issue 22, item 7: a reply that is a JSON object spread over lines gave
    five "inputs" (a fence, `{`, one line each); now it is read as JSON or
    refused, and near-copies of the failing rows are dropped with a reason."""
    fake.reply = lambda _t: (
        '```json\n{\n  "inputs": [\n    "My invoice shows a charge I never made",\n'
        '    "i was charged TWICE"\n  ]\n}\n```'
    )
    res = add_similar(workspace, ["I was charged twice!"], 2, retry=FAST)
    assert res.inputs == ["My invoice shows a charge I never made", "i was charged TWICE"]
    assert res.added == 1 and res.report is not None
    assert [d.reason for d in res.report.dropped] == ["near-duplicate"]
    assert "dropped 1 near-duplicate" in res.summary()
    fake.reply = lambda _t: '```\n{\n  "text": "a",\n}\n```'  # broken JSON, no list
    with pytest.raises(UserError, match="held no JSON array or list"):
        add_similar(workspace, ["x"], 2, retry=FAST)
    assert workspace.store.counts()["pending"] == 1


def test_parse_verdict():
    assert parse_verdict('```json\n{"pass": false, "reason": "wrong label"}\n```') == (
        False,
        "wrong label",
    )
    assert parse_verdict("PASS - same meaning") == (True, "same meaning")
    assert parse_verdict("I cannot tell") == (None, "")


def _verdicts(text: str) -> str:
    if "printer" in text:
        return '{"pass": true, "reason": "same label, other words"}'
    return "FAIL: says bug, the reference says billing"


def test_judge_grades_wrong_answers_and_passes_exact_ones_unasked(workspace, fake):
    fake.reply = _verdicts
    result = _stored_eval(
        workspace,
        [
            ("charged twice", "billing", "billing"),
            ("printer jams", "bug", "a bug"),
            ("refund please", "billing", "bug"),
        ],
    )
    summary = judge(workspace, result, max_cost_usd=None, retry=FAST)
    assert len(fake.message_requests) == 2  # the exact match was not sent
    assert (summary.judged, summary.rows, summary.capped) == (3, 3, False)
    assert result.summary(evals.ADAPTER)[evals.JUDGE] == pytest.approx(2 / 3)
    assert [i.judge for i in result.items] == [
        "exact match",
        "same label, other words",
        "says bug, the reference says billing",
    ]
    assert summary.cost_usd > 0
    assert summary.cost_usd == pytest.approx(side_costs.total_usd(workspace.store, "judge"))
    evals.update(workspace.store, result)
    again = evals.latest(workspace.store).to_json()
    assert again["adapter"]["judge"] == pytest.approx(2 / 3)
    assert again["judge"]["judged"] == 3 and "judged 3/3" in again["judge"]["note"]


def test_judge_stops_at_the_cost_cap_and_says_so(workspace, fake):
    fake.reply = _verdicts
    rows = [(f"printer {i}", "bug", "billing") for i in range(5)]
    result = _stored_eval(workspace, rows)
    summary = judge(workspace, result, max_cost_usd=1e-9, retry=FAST)
    # The first verdict costs more than the cap: no second request is made.
    assert len(fake.message_requests) == 1
    assert summary.capped and summary.judged == 1
    assert "stopped at the $0.00 cost cap" in summary.note()
    assert result.summary(evals.ADAPTER)[evals.JUDGE] == 1.0  # over the judged row only


def test_eval_last_judge_and_add_similar_from_the_cli(workspace, fake, tiny_model, capsys):
    make_run(workspace, tiny_model)
    fake.reply = lambda t: _verdicts(t) if "<answer>" in t else '["new ticket one"]'
    _stored_eval(workspace, [("printer jams", "bug", "billing"), ("ok", "bug", "bug")])
    d = str(workspace.root)
    args = ["eval", d, "--last", "--judge", "--add-similar", "2", "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["adapter"]["judge"] == 1.0 and data["judge"]["judged"] == 2
    assert data["similar"]["added"] == 1
    assert workspace.store.counts()["pending"] == 1
    assert main(["eval", d, "--last"]) == 0
    out = capsys.readouterr().out
    assert "judge" in out and "judged 2/2" in out
    assert main(["eval", d, "--add-similar", "0"]) == 2


def test_eval_judge_end_to_end_on_the_tiny_model(workspace, fake, tiny_model, capsys):
    fake.reply = lambda _t: '{"pass": false, "reason": "not the label"}'
    make_run(workspace, tiny_model)
    write_split(workspace, "valid", [("a", "billing"), ("b", "bug")])
    d = str(workspace.root)
    args = ["eval", d, "--json", "--no-base", "--max-tokens", "4", "--judge"]
    assert main([*args, "--judge-max-cost", "5"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["adapter"]["judge"] == 0.0 and data["judge"]["judged"] == 2
    assert "judge" not in data["base"]
