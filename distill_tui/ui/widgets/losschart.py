"""The live loss chart: plotext 6 renders to an ANSI string that rich turns
into a Text, so no textual-plotext (its 1.0.1 release calls plotext 5 APIs
that plotext 6 removed). The frame is colourless so it takes the widget's
theme colours; the two series take colours from the app theme."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

from rich.text import Text
from textual.color import Color
from textual.widgets import Static

# plotext draws on one module-level figure.
_lock = threading.Lock()

RGB = tuple[int, int, int]
# A series of fewer points is drawn as points: a line between two validation
# points read as many of them.
LINE_FROM = 6


def iteration_ticks(end: int, width: int) -> list[int]:
    """Whole-number ticks from 0 to `end` (iterations are whole), about one
    per 12 columns, at a round step (1, 2, 5, 10, 20, 50...), and `end`."""
    want = max(1, width // 12)
    step = min(b * 10**k for k in range(12) for b in (1, 2, 5) if end / (b * 10**k) <= want)
    ticks = list(range(0, end + 1, step))
    if ticks[-1] != end:
        # The axis ends where the run ends (or stopped): that tick is labelled,
        # in place of a round one too close to it to read.
        if end - ticks[-1] <= step / 2 and len(ticks) > 1:
            ticks.pop()
        ticks.append(end)
    return ticks


def chart_text(
    train: Sequence[tuple[int, float]],
    val: Sequence[tuple[int, float]],
    width: int,
    height: int,
    train_rgb: RGB = (80, 160, 255),
    val_rgb: RGB = (255, 180, 0),
    x_max: int | None = None,
    names: tuple[str, str] = ("train loss", "val loss"),
) -> Text:
    """`names`: the two series in the legend. `x_max`: where the x axis ends
    (the run's length, or where it stopped); it always starts at 0, so one
    point does not read as -1 to 1."""
    train = [(i, v) for i, v in train if math.isfinite(v)]
    val = [(i, v) for i, v in val if math.isfinite(v)]
    if not train and not val:
        return Text(f"no {names[0]} reported yet", style="italic")
    import plotext as plt
    from plotext import marker, pixel

    with _lock:
        f = plt.figure
        f.clear()
        f.theme("colorless")
        # Our own one-line legend: plotext's box would cover the curve's start.
        f.plot_size(max(20, width), max(6, height - 1))
        f.legend(False)
        for series, rgb, sym in ((train, train_rgb, "•"), (val, val_rgb, "◆")):
            if not series:
                continue
            xs, ys = [i for i, _ in series], [v for _, v in series]
            s = f.signal(xs, ys, marker=marker(sym, pixel(foreground=rgb)))
            if len(series) >= LINE_FROM:
                s.lines()  # a few points are drawn as the points they are
            f.draw(s)
        last = max(i for i, _ in [*train, *val])
        end = max(last, x_max or 0, 1)
        f.ruler("x").lim(0, end)
        ticks = iteration_ticks(end, max(20, width))
        f.ruler("x").ticks(ticks, [str(t) for t in ticks])
        f.label("iteration", axis=0)
        out = f.build().string()
    legend = Text("  ")
    legend.append(f"• {names[0]}", style="rgb({},{},{})".format(*train_rgb))
    legend.append("   ")
    legend.append(f"◆ {names[1]}", style="rgb({},{},{})".format(*val_rgb))
    return Text.assemble(legend, "\n", Text.from_ansi(out, no_wrap=True, end=""))


class LossChart(Static):
    """Redraws from the last histories it was given, at its own size."""

    DEFAULT_CSS = """
    LossChart { height: 1fr; min-height: 8; }
    """

    def __init__(self, names: tuple[str, str] = ("train loss", "val loss"), **kw) -> None:
        super().__init__("", **kw)
        self.names = names
        self.train: list[tuple[int, float]] = []
        self.val: list[tuple[int, float]] = []
        self.x_max: int | None = None

    def set_data(
        self,
        train: list[tuple[int, float]],
        val: list[tuple[int, float]],
        x_max: int | None = None,
    ) -> None:
        self.train, self.val, self.x_max = train, val, x_max
        self.redraw()

    def _rgb(self, name: str, fallback: RGB) -> RGB:
        try:
            value = getattr(self.app.current_theme, name)
            return Color.parse(value).rgb if value else fallback
        except Exception:  # noqa: BLE001 - a theme without that colour
            return fallback

    def redraw(self) -> None:
        w, h = self.size.width or 76, self.size.height or 10
        self.update(
            chart_text(
                self.train,
                self.val,
                w,
                h,
                self._rgb("primary", (80, 160, 255)),
                self._rgb("warning", (255, 180, 0)),
                self.x_max,
                self.names,
            )
        )

    def on_resize(self) -> None:
        self.redraw()
