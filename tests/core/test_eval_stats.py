"""Intervals, flips, the verdict against the parent and the confusion matrix
(issue 31, items 1-3), checked by hand on small cases."""

from __future__ import annotations

import json

import pytest

from distill_tui.core.evaluate import compare, confusion, evals, stats
from distill_tui.core.evaluate.evals import ADAPTER, BASE, SFT, EvalItem, EvalResult
from distill_tui.core.evaluate.metrics import score


def test_clopper_pearson_matches_published_values():
    # R: binom.test(5, 10)$conf.int = 0.187086 0.812914
    lo, hi = stats.clopper_pearson(5, 10)
    assert lo == pytest.approx(0.187086, abs=1e-5) and hi == pytest.approx(0.812914, abs=1e-5)
    # 28 of 32 (0.875): about +-0.12, as the issue says; lower bound 0.7100
    lo, hi = stats.clopper_pearson(28, 32)
    assert lo == pytest.approx(0.71005, abs=1e-4) and hi == pytest.approx(0.96487, abs=1e-4)
    # All or nothing: one side is exact. 0/32 -> upper 1 - 0.025**(1/32)
    assert stats.clopper_pearson(0, 32) == (0.0, pytest.approx(1 - 0.025 ** (1 / 32)))
    assert stats.clopper_pearson(32, 32) == (pytest.approx(0.025 ** (1 / 32)), 1.0)


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = [0.2, 0.5, 0.9, 1.0, 0.0, 0.7] * 5
    a, b = stats.bootstrap(values), stats.bootstrap(values)
    assert a == b
    mean = sum(values) / len(values)
    assert a[0] < mean < a[1] and a[1] - a[0] < 0.4
    assert stats.interval([1.0, 0.0, 1.0]) == stats.clopper_pearson(2, 3)
    assert stats.interval([0.5, 0.0, 1.0]) == stats.bootstrap([0.5, 0.0, 1.0])


def test_sign_test_is_exact_mcnemar():
    # 6 fixed, 0 broken: 2 * 0.5**6 = 0.03125
    assert stats.sign_test(6, 0) == pytest.approx(0.03125)
    # 5 vs 1: 2 * (1 + 6) / 64 = 0.21875
    assert stats.sign_test(5, 1) == pytest.approx(0.21875)
    assert stats.sign_test(0, 0) == 1.0
    assert stats.sign_test(3, 3) == 1.0


def test_flips_and_verdict():
    run = [1.0] * 20 + [0.0] * 12
    parent = [1.0] * 14 + [0.0] * 6 + [1.0] * 0 + [0.0] * 12
    f = compare.flips([r == 1 for r in run], [p == 1 for p in parent], "sft")
    assert (f.fixed, f.regressed, f.kept, f.still_wrong) == (6, 0, 14, 12)
    v = compare.verdict(run, parent, "sft")
    assert v.verdict == "better" and v.net == 6
    assert v.line().startswith("better than its SFT start: +6 rows of 32")
    assert "beyond noise" in v.line()
    # One row either way is noise.
    near = compare.verdict([1.0, 0.0, 1.0], [1.0, 1.0, 0.0], "base")
    assert near.verdict == "no clear change" and "within noise" in near.line()
    # A collapse: right on 29 rows before, none after.
    worse = compare.verdict([0.0] * 32, [1.0] * 29 + [0.0] * 3, "sft")
    assert worse.verdict == "worse" and worse.regressed == 29
    assert "worse than its SFT start: -29 rows of 32" in worse.line()


LABELS = ["billing", "bug", "feature", "account"]


def _result(run: list[str], parent: list[str] | None, vs: str = SFT) -> EvalResult:
    refs = LABELS * 2
    items = []
    for n, ref in enumerate(refs):
        item = EvalItem(n, n + 1, f"input {n}", ref)
        item.answers[ADAPTER] = run[n]
        item.scores[ADAPTER] = score(run[n], ref)
        if parent is not None:
            item.answers[vs] = parent[n]
            item.scores[vs] = score(parent[n], ref)
        items.append(item)
    return EvalResult("run-2", "best", "valid", "text", items)


def test_eval_json_has_ci_flips_verdict_and_a_confusion_matrix_adding_up_to_the_rows():
    parent = LABELS * 2  # all right
    run = ["billing", "bug", "Bug", "oops"] * 2  # feature -> bug, account -> other
    r = _result(run, parent)
    data = json.loads(json.dumps(r.to_json(items=False)))
    assert data["flips"] == {"vs": "sft", "fixed": 0, "regressed": 4, "kept": 4, "still_wrong": 0}
    assert data["verdict"] == "no clear change"  # 4 of 8: p = 0.125
    lo, hi = data["ci"]["adapter"]["exact_match"]
    assert lo == pytest.approx(stats.clopper_pearson(4, 8)[0]) and hi < 1
    assert data["ci"]["sft"]["exact_match"][1] == 1.0
    assert "Clopper-Pearson" in data["ci_method"]
    c = data["confusion"]
    assert c["labels"] == LABELS and c["columns"][-1] == "other"
    assert sum(map(sum, c["matrix"])) == 8
    assert c["matrix"][2] == [0, 2, 0, 0, 0] and c["matrix"][3] == [0, 0, 0, 0, 2]
    assert c["recall"] == [1.0, 1.0, 0.0, 0.0] and c["precision"][1] == 0.5
    assert [i.index for i in r.flipped("regressed")] == [2, 3, 6, 7]
    assert r.flipped("fixed") == []
    # Read back from the store's JSON, the same verdict.
    again = EvalResult.from_json(r.to_json())
    assert again.verdict() == r.verdict()


def test_the_parent_is_the_sft_start_else_the_base_and_none_without_either():
    assert _result(LABELS * 2, LABELS * 2, SFT).parent == SFT
    assert _result(LABELS * 2, LABELS * 2, BASE).parent == BASE
    alone = _result(LABELS * 2, None)
    assert alone.parent is None and alone.verdict() is None
    assert alone.to_json()["verdict"] is None and alone.to_json()["flips"] is None


def test_the_table_has_an_interval_row_under_each_metric():
    headers, rows = evals.comparison(_result(LABELS * 2, LABELS * 2, BASE))
    assert headers == ["metric", "base", "adapter", "change"]
    assert rows[0][0] == "exact_match" and rows[1][0] == "  95% CI"
    assert rows[1][1] == "0.63-1.00"  # 8 of 8: lower bound 0.025**(1/8)


def test_free_text_and_too_many_labels_get_no_matrix():
    assert confusion.confusion([f"sentence {i}" for i in range(10)], ["x"] * 10) is None
    many = [f"l{i}" for i in range(21)] * 2
    assert confusion.confusion(many, many) is None
    assert confusion.label_set([f"l{i}" for i in range(20)] * 2) is not None


def test_twenty_labels_fit_80_columns_cutting_labels_not_counts():
    labels = [f"a rather long label {i}" for i in range(20)]
    refs = labels * 6
    answers = labels * 5 + ["nonsense"] * 20
    c = confusion.confusion(refs, answers)
    assert c is not None
    lines = confusion.render(c, 80)
    assert all(len(line) <= 80 for line in lines)
    assert "…" in lines[1]  # the label is cut
    cells = lines[1].split()
    assert cells[-2:] == ["83%", "100%"]  # recall 5/6, precision 5/5
    assert cells[-23:-2] == ["5"] + ["0"] * 19 + ["1"]  # every count whole, "other" last


def test_json_fields_that_are_labels_get_their_own_matrix():
    refs = [json.dumps({"team": t, "note": f"free text {i}"}) for i, t in enumerate(["a", "b"] * 4)]
    answers = [json.dumps({"team": "a"})] * 7 + ["not json"]
    fields = confusion.field_confusions(refs, answers)
    assert list(fields) == ["team"]
    assert fields["team"].matrix == [[4, 0, 0], [3, 0, 1]]
