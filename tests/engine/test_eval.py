"""Evaluation on the tiny model with references chosen so the metric values
can be checked by hand."""

from __future__ import annotations

import json
import threading

import pytest
from support.adapter_helpers import make_run, write_split

from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import evals
from distill_tui.core.train import checkpoints
from distill_tui.engine.chat.evaluate import evaluate, load_split
from distill_tui.engine.chat.session import GenSettings, ModelHost, Target

BUDGET = 8  # max tokens per answer: short enough to be fast, the same everywhere


@pytest.fixture
def setup(workspace, tiny_model):
    make_run(workspace, tiny_model)
    host = ModelHost()
    cp = checkpoints.resolve(workspace, "run-1", "latest")
    sys = "Classify the ticket."
    q1, q2 = "I was charged twice", "The app crashes"
    msgs = [{"role": "system", "content": sys}, {"role": "user", "content": q1}]
    greedy = GenSettings(max_tokens=BUDGET)
    base_answer = host.reply(Target.of(cp).base(), msgs, greedy).text
    adapter_answer = host.reply(Target.of(cp), msgs, greedy).text
    assert adapter_answer.strip() and adapter_answer != base_answer
    # Row 1's reference is what the adapter says; row 2's nobody says.
    write_split(workspace, "valid", [(q1, adapter_answer), (q2, "zzzz qqqq")], system=sys)
    workspace.store.add_inputs([(q1, None)])
    return workspace, host, cp, base_answer, adapter_answer


def test_eval_scores_base_and_adapter_by_hand(setup):
    ws, host, cp, base_answer, adapter_answer = setup
    seen = []
    result = evaluate(ws, host, cp, max_tokens=BUDGET, progress=lambda *a: seen.append(a))
    assert result.rows == 2
    assert seen[-1] == (4, 4, "base")
    base, adapter = result.summary("base"), result.summary("adapter")
    # adapter: row 1 exact (1.0, F1 1.0), row 2 shares no token with "zzzz qqqq"
    assert adapter == {"exact_match": 0.5, "token_f1": 0.5}
    # The random base model only says blank lines: no token in common with either.
    assert base == {"exact_match": 0.0, "token_f1": 0.0}
    assert result.items[0].answers == {"adapter": adapter_answer, "base": base_answer}
    # Only row 2 fails for the adapter; row 1 is linked to its dataset row.
    assert [f.index for f in result.failures()] == [1]
    assert result.items[0].row_id is not None and result.items[1].row_id is None
    # Stored in the evals table, with the numbers --json prints.
    again = evals.latest(ws.store, "run-1")
    assert again is not None and again.id == result.id
    data = again.to_json(items=False)
    assert data["rows"] == 2 and data["adapter"]["exact_match"] == 0.5
    assert json.loads(json.dumps(data)) == data


def test_eval_limit_and_stop(setup):
    ws, host, cp, *_ = setup
    assert evaluate(ws, host, cp, max_tokens=BUDGET, limit=1, save=False).rows == 1
    stop = threading.Event()
    stop.set()
    result = evaluate(ws, host, cp, max_tokens=BUDGET, stop=stop)
    assert result.stopped and result.rows == 0
    assert evals.latest(ws.store) is None  # nothing answered, nothing stored


def test_load_split_reads_completions_and_reports_bad_lines(workspace):
    d = workspace.root / "data"
    d.mkdir()
    (d / "test.jsonl").write_text('{"prompt": "p", "completion": "c"}\n')
    [row] = load_split(workspace, "test")
    assert (row.input, row.reference, row.prompt) == ("p", "c", [{"role": "user", "content": "p"}])
    (d / "valid.jsonl").write_text('{"messages": [{"role": "user", "content": "x"}]}\n')
    with pytest.raises(UserError, match="valid.jsonl:1"):
        load_split(workspace, "valid")
    with pytest.raises(UserError, match="unknown split 'train'"):
        load_split(workspace, "train")
    (d / "test.jsonl").unlink()
    with pytest.raises(UserError, match="no test split yet"):
        load_split(workspace, "test")


def test_load_split_reads_what_export_writes_with_unicode_separators(workspace):
    d = workspace.root / "data"
    d.mkdir()
    rec = {"prompt": "line\u2028two\x85", "completion": "para\u2029two"}
    (d / "valid.jsonl").write_bytes(
        b"\xef\xbb\xbf" + (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
    )
    [row] = load_split(workspace, "valid")
    assert (row.input, row.reference) == (rec["prompt"], rec["completion"])
