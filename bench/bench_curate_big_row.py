"""Curate screen with a 2 MB row: time per cursor key, and the other keys that
touch that row (diff, search, edit dialog).

    uv run python bench/bench_curate_big_row.py [--mb 2] [--presses 6]

Fills a fresh project with a few small rows around one whose input and output
are each about N MB of short lines (the output edited on one line, so `d` has
a diff to show), then drives the real app headless at 80x24 with Pilot.

Before and after in one run: "before" lays the row's whole text out in the
detail pane, as the screen did on every move onto the row; "after" is the
screen as it is, drawing a bounded preview. Each figure is from a key press
(or the pane update) to the screen settled.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.curate_helpers import add_answered  # noqa: E402

from distill_tui.core.curate import curation as cur  # noqa: E402
from distill_tui.core.project import Workspace  # noqa: E402


def big_text(mb: float, word: str) -> str:
    line = f"{word} line %06d of a very long pasted document\n"
    n = int(mb * 1_000_000 / len(line % 0))
    return "".join(line % i for i in range(n))


async def _until(cond, timeout: float = 600.0) -> None:  # noqa: ANN001
    deadline = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > deadline:
            raise TimeoutError("screen did not update")
        await asyncio.sleep(0.0005)


async def measure(ws: Workspace, presses: int) -> dict[str, list[float]]:
    from rich.text import Text
    from textual.widgets import DataTable, Static

    from distill_tui.ui.app import DistillApp
    from distill_tui.ui.screens.curate.screen import CurateScreen
    from distill_tui.ui.text import visible

    out: dict[str, list[float]] = {}
    app = DistillApp(root=ws.root, workspace=ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await _until(lambda: isinstance(app.screen, CurateScreen) and len(app.screen.rows) == 3)
        screen = app.screen
        assert isinstance(screen, CurateScreen)
        table = screen.query_one("#curate-table", DataTable)
        pane = screen.query_one("#curate-detail", Static)

        async def timed(name: str, key: str, cond) -> None:  # noqa: ANN001
            t = time.perf_counter()
            await pilot.press(key)
            await _until(cond)
            await pilot.pause()
            out.setdefault(name, []).append(time.perf_counter() - t)

        for _ in range(presses):  # row 1 -> the big row 2 -> row 3 -> back
            await timed("down onto the 2 MB row", "down", lambda: table.cursor_row == 1)
            await timed("down off it", "down", lambda: table.cursor_row == 2)
            await timed("up onto it", "up", lambda: table.cursor_row == 1)
            await timed("up off it", "up", lambda: table.cursor_row == 0)
        await timed("down onto the 2 MB row", "down", lambda: table.cursor_row == 1)
        for _ in range(max(1, presses // 3)):
            await timed("d (diff on, off)", "d", lambda: screen.side == "diff")
            await timed("d (diff on, off)", "d", lambda: screen.side == "detail")
            await timed(
                "e (edit dialog opens)", "e", lambda: type(app.screen).__name__ == "EditDialog"
            )
            await timed("e (edit dialog opens)", "escape", lambda: app.screen is screen)
        out["e (edit dialog opens)"] = out["e (edit dialog opens)"][::2]
        t = time.perf_counter()
        await pilot.press("slash", *"line 000007", "enter")
        await _until(lambda: "line 000007" in (screen.flt.text or "") and screen.total == 1)
        await pilot.pause()
        out["/ search hitting the 2 MB row"] = [time.perf_counter() - t]

        # Before: the whole row laid out in the pane, as on each move before.
        row = screen.current
        assert row is not None
        whole = Text(f"row {row.id}\n\nINPUT\n")
        whole.append(visible(row.input))
        whole.append("\n\nOUTPUT\n")
        whole.append(visible(row.output or ""))
        t = time.perf_counter()
        pane.update(whole)
        await pilot.pause()
        out["before: whole row laid out"] = [time.perf_counter() - t]
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mb", type=float, default=2.0)
    p.add_argument("--presses", type=int, default=6)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "bench")
        big_in, big_out = big_text(args.mb, "input"), big_text(args.mb, "output")
        add_answered(ws.store, [("small 1", "a"), (big_in, big_out), ("small 3", "c")])
        cur.edit(ws.store, 2, output=big_out.replace("line 000100 ", "line 000100 (edited) "))
        res = asyncio.run(measure(ws, args.presses))
    after = statistics.median(res["down onto the 2 MB row"] + res["up onto it"])
    before = res["before: whole row laid out"][0]
    print(f"\n{args.mb:g} MB input and output, 80x24, Pilot\n")
    print(f"{'measure':<34}{'median ms':>11}{'max ms':>10}{'n':>4}")
    for name, vals in res.items():
        med, top = statistics.median(vals) * 1e3, max(vals) * 1e3
        print(f"{name:<34}{med:>11,.1f}{top:>10,.1f}{len(vals):>4}")
    print(
        f"\nmove onto the row: before {before * 1e3:,.0f} ms, after {after * 1e3:,.1f} ms:"
        f" {after / before:.4f}x ({before / after:,.0f} times faster)"
    )


if __name__ == "__main__":
    main()
