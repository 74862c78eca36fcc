"""Hand-checked values for the evaluation metrics."""

import pytest

from distill_tui.core.evaluate import metrics as m


def test_normalize_forgives_case_space_fence_and_wrapping_punctuation():
    assert m.normalize('  "Billing."\n') == "billing"
    assert m.normalize("```\nBug\n```") == "bug"
    assert m.normalize("two   words\there") == "two words here"
    # Punctuation inside the answer is content.
    assert m.normalize("a.b") == "a.b"


def test_exact_match():
    assert m.exact_match("Billing.", "billing") == 1.0
    assert m.exact_match("billing issue", "billing") == 0.0


def test_token_f1_hand_checked():
    # pred tokens: the cat sat ; ref: the cat sat down
    # common 3, precision 3/3, recall 3/4 -> F1 = 2*1*0.75/1.75 = 6/7
    assert m.token_f1("The cat sat.", "the cat sat down") == pytest.approx(6 / 7)
    # Repeated tokens count at most as often as in the reference:
    # pred "a a a" ref "a b": common 1, P 1/3, R 1/2 -> F1 = 0.4
    assert m.token_f1("a a a", "a b") == pytest.approx(0.4)
    assert m.token_f1("", "") == 1.0
    assert m.token_f1("", "x") == 0.0
    assert m.token_f1("x", "y") == 0.0


def test_json_metrics_hand_checked():
    ref = '{"label": "billing", "urgent": true, "count": 2}'
    pred = '```json\n{"label": "Billing", "urgent": false, "count": 2.0}\n```'
    assert m.parse_json(pred)[0] is True
    assert m.field_matches(pred, ref) == {"label": True, "urgent": False, "count": True}
    assert m.json_field_score(pred, ref) == pytest.approx(2 / 3)
    assert m.json_field_score("not json", ref) == 0.0
    assert m.field_matches("[1]", ref) == {"label": False, "urgent": False, "count": False}
    # A non-object reference compares whole values.
    assert m.json_field_score("[1, 2]", "[1,2]") == 1.0


def test_score_picks_metrics_by_output_format():
    assert set(m.score("a", "a")) == {"exact_match", "token_f1"}
    s = m.score('{"a": 1}', '{"a": 1, "b": 2}', "json")
    # tokens a 1 vs a 1 b 2: P 1, R 1/2 -> F1 2/3
    assert s == {
        "exact_match": 0.0,
        "token_f1": pytest.approx(2 / 3),
        "json_valid": 1.0,
        "json_fields": 0.5,
    }


def test_mean_scores_and_failure():
    rows = [{"exact_match": 1.0, "token_f1": 1.0}, {"exact_match": 0.0, "token_f1": 0.5}]
    assert m.mean_scores(rows) == {"exact_match": 0.5, "token_f1": 0.75}
    assert m.mean_scores([]) == {}
    assert not m.is_failure(rows[0])
    assert m.is_failure(rows[1])
