"""The verdict and the flips decide on the task's metric (issue 31, item 1
with core/evaluate/task_metric.py): JSON fields for a JSON task, exact match
for a label task and for free text."""

from __future__ import annotations

import json

from distill_tui.core.evaluate import compare, metrics, task_metric
from distill_tui.core.evaluate.evals import ADAPTER, BASE, EvalItem, EvalResult


def _result(fmt: str, refs: list[str], run: list[str], parent: list[str]) -> EvalResult:
    items = []
    for n, ref in enumerate(refs):
        item = EvalItem(n, None, f"ticket {n}", ref)
        for who, answers in ((ADAPTER, run), (BASE, parent)):
            item.answers[who] = answers[n]
            item.scores[who] = metrics.score(answers[n], ref, fmt)
        items.append(item)
    return EvalResult("run-1", "best", "valid", fmt, items)


def test_a_json_run_that_broke_fields_is_worse_even_when_neither_was_ever_exact():
    refs = [json.dumps({"team": t, "urgent": n % 2 == 0}) for n, t in enumerate(["a", "b"] * 8)]
    # The parent has every field right in another key order: never an exact match.
    parent = [json.dumps(dict(reversed(json.loads(r).items()))) for r in refs]
    run = [json.dumps({"urgent": None, "team": "nobody"}) for _ in refs]
    result = _result("json", refs, run, parent)
    assert result.summary(BASE)[metrics.EXACT] == 0.0  # exact match saw no difference
    v = result.verdict()
    assert v is not None and v.verdict == compare.WORSE and v.metric == metrics.JSON_FIELDS
    assert "JSON fields 0.000 vs 1.000" in v.line()
    flips = result.flips()
    assert flips is not None and (flips.regressed, flips.kept) == (16, 0)
    assert len(result.flipped("regressed")) == 16
    assert result.to_json()["paired"]["metric"] == metrics.JSON_FIELDS


def test_label_and_free_text_tasks_are_judged_on_exact_match():
    assert task_metric.verdict_metric("text") == metrics.EXACT
    refs = ["billing", "bug", "feature", "account"] * 4
    result = _result("text", refs, refs, ["billing"] * 16)
    v = result.verdict()
    assert v is not None and v.metric == metrics.EXACT and v.verdict == compare.BETTER
    assert "exact match 1.000 vs 0.250" in v.line()
    # Free text: a word off keeps F1 above the pairs' line, yet the row is not right.
    long_refs = [f"the invoice for order {n} was charged twice last month" for n in range(16)]
    nearly = [r.replace("twice", "two times") for r in long_refs]
    free = _result("text", long_refs, nearly, long_refs)
    assert all(task_metric.row_right(i.scores[ADAPTER], metrics.F1) for i in free.items)
    assert free.verdict().verdict == compare.WORSE  # type: ignore[union-attr]


def test_a_verdict_stored_before_it_named_its_metric_reads_as_exact_match():
    stored = _result("text", ["a"] * 4, ["a"] * 4, ["b"] * 4).to_json()["paired"]
    del stored["metric"]
    assert compare.Verdict.from_json(stored).metric == metrics.EXACT
