"""The loss chart as text (issue 35 item 7): iterations are whole numbers on
the axis, and a series of a few points is drawn as those points, not as a
line of markers between them."""

from __future__ import annotations

from distill_tui.ui.widgets.losschart import chart_text, iteration_ticks


def test_the_axis_counts_whole_iterations():
    assert iteration_ticks(20, 76) == [0, 5, 10, 15, 20]
    assert iteration_ticks(7, 76) == [0, 2, 4, 7]  # the run's end is labelled
    assert iteration_ticks(17, 76) == [0, 5, 10, 17]
    assert iteration_ticks(600, 76) == [0, 100, 200, 300, 400, 500, 600]
    text = chart_text([(5, 2.0), (10, 1.0)], [(1, 3.0)], 76, 12, x_max=20).plain
    axis = text.splitlines()[-2].split()
    assert axis == ["0", "5", "10", "15", "20"]  # not 0.0 3.3 6.7


def test_two_validation_points_are_two_markers():
    val = [(1, 3.0), (20, 0.4)]
    text = chart_text([(i, 1.0 / i) for i in range(2, 21, 2)], val, 76, 12, x_max=20).plain
    assert text.count("◆") == 1 + 2  # the legend's and the two points
    assert text.count("•") > 10 + 1  # ten reports drawn as a line
