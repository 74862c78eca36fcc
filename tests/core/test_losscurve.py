"""Warning signs and early stopping on synthetic loss histories."""

from __future__ import annotations

import math

from distill_tui.core.train.losscurve import EarlyStopper, best_eval, warning_signs


def hist(values, step=10, start=10):
    return [(start + k * step, v) for k, v in enumerate(values)]


def kinds(train, val=()):
    return {s.kind for s in warning_signs(train, val)}


def test_a_healthy_run_has_no_warning():
    train = hist([3.0 * 0.85**k for k in range(12)])
    val = hist([3.1 * 0.88**k for k in range(4)], step=30, start=0)
    assert warning_signs(train, val) == []


def test_a_flat_loss_is_not_decreasing():
    train = hist([2.0, 2.01, 1.99, 2.0, 2.02, 1.99, 2.0, 2.01])
    signs = warning_signs(train)
    assert [s.kind for s in signs] == ["not_decreasing"]
    assert "learning rate may be too low" in signs[0].message


def test_nan_names_the_iteration_and_the_learning_rate():
    train = hist([3.0, 2.5, math.nan])
    (sign,) = [s for s in warning_signs(train) if s.kind == "nan"]
    assert sign.iter == 30
    assert "learning rate" in sign.message


def test_a_spike_is_reported():
    train = hist([3.0, 2.6, 2.3, 2.1, 5.5, 2.0])
    (sign,) = [s for s in warning_signs(train) if s.kind == "spike"]
    assert sign.iter == 50


def test_oscillation_is_reported():
    train = hist([2.0, 3.0, 1.9, 3.1, 2.0, 3.0, 1.8, 3.2, 2.0])
    assert "oscillating" in kinds(train)


def test_overfitting_needs_val_rising_while_train_falls():
    train = hist([3.0, 2.5, 2.0, 1.6, 1.3, 1.0, 0.8, 0.6, 0.5])
    val = [(0, 3.0), (30, 2.2), (60, 2.4), (90, 2.7)]
    signs = warning_signs(train, val)
    (sign,) = [s for s in signs if s.kind == "overfitting"]
    assert sign.iter == 90
    assert "2.200" in sign.message and "2.700" in sign.message


def test_val_rising_with_train_rising_is_not_overfitting():
    train = hist([3.0, 2.5, 2.0, 2.1, 2.3, 2.6, 2.8, 3.0, 3.2])
    val = [(0, 3.0), (30, 2.2), (60, 2.4), (90, 2.7)]
    assert "overfitting" not in kinds(train, val)


def test_one_bad_eval_is_not_overfitting():
    train = hist([3.0, 2.5, 2.0, 1.6, 1.3, 1.0])
    val = [(0, 3.0), (30, 2.2), (60, 2.3)]
    assert "overfitting" not in kinds(train, val)


def test_early_stopper_stops_after_patience_and_keeps_best():
    s = EarlyStopper(patience=2)
    assert s.update(0, 3.0) == (True, False)
    assert s.update(10, 2.0) == (True, False)
    assert s.update(20, 2.5) == (False, False)
    assert s.update(30, 2.6) == (False, True)
    assert (s.best_iter, s.best_loss) == (10, 2.0)
    restored = EarlyStopper.from_dict(s.to_dict())
    assert restored == s


def test_patience_zero_never_stops_and_nan_never_improves():
    s = EarlyStopper(patience=0)
    s.update(0, 1.0)
    for k in range(1, 20):
        assert s.update(k, math.nan) == (False, False)
    assert s.best_iter == 0


def test_best_eval_ignores_nan():
    assert best_eval([(0, 3.0), (10, math.nan), (20, 1.5), (30, 2.0)]) == (20, 1.5)
    assert best_eval([]) is None
