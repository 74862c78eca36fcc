"""Row checks: duplicates, empty, truncated, too long for the student, bad JSON."""

from __future__ import annotations

from support.curate_helpers import add_answered

from distill_tui.core.curate import curation as cur
from distill_tui.core.curate import query as q
from distill_tui.core.curate.checks import duplicate_links, invalid_json, recheck_json, run_checks
from distill_tui.engine.models.student_tokens import load_token_counter

BASE = "My invoice for March shows a charge I do not recognise, please explain it."


def _flags(store, row_id):
    return q.get(store, row_id).flags


def test_duplicates_exact_and_near():
    inputs = [
        (1, BASE),
        (2, "  my INVOICE for march shows a charge i do not recognise,   please explain it."),
        (3, BASE.replace("explain it.", "explain it!")),
        (4, "The app crashes when I open settings on Android."),
    ]
    exact, near = duplicate_links(inputs)
    assert exact == {2: 1}
    assert near == {3: 1}


def test_flags_are_stored_and_filterable(workspace):
    ws = workspace
    ids = add_answered(
        ws.store,
        [(BASE, "billing"), (BASE.upper(), "billing"), ("other", "   "), ("long one", "x " * 20)],
    )
    trunc = add_answered(ws.store, [("cut off", "partial answ")], stop_reason="max_tokens")[0]
    summary = run_checks(ws.store, ws.settings)
    assert _flags(ws.store, ids[1]) == ("duplicate",)
    assert _flags(ws.store, ids[2]) == ("empty",)
    assert _flags(ws.store, trunc) == ("truncated",)
    assert summary.counts["duplicate"] == 1 and not summary.tokens_known
    assert q.ids(ws.store, q.Filter(flag="any")) == [ids[1], ids[2], trunc]
    assert q.ids(ws.store, q.Filter(flag="empty")) == [ids[2]]


def test_bad_json_only_when_the_task_says_json(workspace):
    ws = workspace
    good, bad = add_answered(ws.store, [("a", '{"label": "bug"}'), ("b", "```json\n{}\n```")])
    run_checks(ws.store, ws.settings)
    assert _flags(ws.store, bad) == ()
    ws.settings.task.output_format = "json"
    run_checks(ws.store, ws.settings)
    assert _flags(ws.store, good) == () and _flags(ws.store, bad) == ("bad-json",)


def test_an_edit_on_a_json_task_is_flagged_at_once_and_says_where(workspace):
    ws = workspace
    ws.settings.task.output_format = "json"
    row, other = add_answered(ws.store, [("a", '{"label": "bug"}'), ("b", '{"x": 1}')])
    run_checks(ws.store, ws.settings)
    assert _flags(ws.store, row) == ()
    cur.edit(ws.store, row, output='{"label" "bug"}')
    problem = recheck_json(ws.store, ws.settings, row)
    assert problem == "not valid JSON: line 1 column 10: Expecting ':' delimiter"
    assert _flags(ws.store, row) == ("bad-json",)  # before any full check
    assert q.ids(ws.store, q.Filter(flag="bad-json")) == [row]
    assert invalid_json(ws.store, ws.settings, [row, other]) == {row: problem}
    cur.edit(ws.store, row, output='{"label": "bug"}')
    assert recheck_json(ws.store, ws.settings, row) is None
    assert _flags(ws.store, row) == ()
    # A text task never asks.
    ws.settings.task.output_format = "text"
    cur.edit(ws.store, row, output="{")
    assert recheck_json(ws.store, ws.settings, row) is None
    assert invalid_json(ws.store, ws.settings, [row]) == {}


def test_too_long_uses_the_student_tokenizer_and_rechecks_only_edits(workspace, tiny_model):
    ws = workspace
    ws.settings.train.max_seq_length = 64
    short, long_ = add_answered(ws.store, [("short", "ok"), ("long", "word " * 200)])
    count = load_token_counter(str(tiny_model))
    summary = run_checks(ws.store, ws.settings, count, tokenizer_id="tiny")
    assert summary.checked == 2 and summary.tokens_known
    assert _flags(ws.store, long_) == ("too-long",)
    assert 0 < q.get(ws.store, short).tokens < 64 < q.get(ws.store, long_).tokens
    # Sort by tokens puts the long one first.
    assert q.ids(ws.store, q.Filter(sort="tokens", descending=True))[0] == long_
    cur.edit(ws.store, long_, output="fine now")
    again = run_checks(ws.store, ws.settings, count, tokenizer_id="tiny")
    assert again.checked == 1
    assert _flags(ws.store, long_) == ()
