from distill_tui.core.money import usd


def test_small_spends_are_shown_exactly_enough():
    assert usd(0.0074) == "$0.0074"
    assert usd(0.00012345) == "$0.00012"
    assert usd(0.43) == "$0.43"
    assert usd(0) == "$0.00"


def test_dollars_have_cents():
    assert usd(12.345) == "$12.35"
    assert usd(1234.5) == "$1,234.50"
