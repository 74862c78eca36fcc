"""Curate screen at 100,000 rows: time to open it, and key-press latency.

    uv run python bench/bench_curate.py [--rows 100000] [--presses 60]

Fills a fresh project with N answered rows (plain SQL, as the queue would leave
them), then drives the real app headless at 80x24 with Pilot:

- open: from pressing `3` to the table holding its first page (cold: the first
  visit composes the screen; warm: switching back from screen 1);
- keys: from a key press to the screen showing its effect (cursor moved, row
  redrawn, page loaded), median and 95th percentile.

Baselines: the issue's targets (open < 1 s, keys without visible lag, taken as
100 ms), and the naive design the screen avoids, a DataTable holding all N rows
(timed for opening only).
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

from distill_tui.core.project import Workspace  # noqa: E402
from distill_tui.core.store import sha  # noqa: E402


def fill(ws: Workspace, n: int) -> None:
    now = time.time()
    with ws.store.tx() as c:
        c.executemany(
            "INSERT INTO rows (id, input, input_sha, status, output, generation_id,"
            " created_at, updated_at) VALUES (?, ?, ?, 'done', ?, ?, ?, ?)",
            (
                (
                    i,
                    f"Support ticket {i}: my invoice shows charge #{i * 7919 % 100003}",
                    sha(f"t{i}"),
                    f"billing {'x' * (i % 300)}",
                    i,
                    now,
                    now,
                )
                for i in range(1, n + 1)
            ),
        )
        c.executemany(
            "INSERT INTO generations (id, row_id, output, teacher, prompt_hash, output_tokens,"
            " stop_reason, created_at) VALUES (?, ?, ?, 'bench', 'h', ?, 'end_turn', ?)",
            ((i, i, "billing", 3 + i % 75, now) for i in range(1, n + 1)),
        )


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]


async def _until(cond, timeout: float = 30.0) -> None:  # noqa: ANN001
    deadline = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > deadline:
            raise TimeoutError("screen did not update")
        await asyncio.sleep(0.0005)


async def measure(ws: Workspace, presses: int) -> dict[str, list[float]]:
    from textual.widgets import DataTable

    from distill_tui.ui.app import DistillApp
    from distill_tui.ui.screens.curate.screen import PAGE, CurateScreen

    out: dict[str, list[float]] = {"open cold": [], "open warm": []}
    app = DistillApp(root=ws.root, workspace=ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        t = time.perf_counter()
        await pilot.press("3")
        await _until(lambda: isinstance(app.screen, CurateScreen) and len(app.screen.rows) == PAGE)
        out["open cold"].append(time.perf_counter() - t)
        screen = app.screen
        assert isinstance(screen, CurateScreen)
        for _ in range(5):
            await pilot.press("1")
            await _until(lambda: not isinstance(app.screen, CurateScreen))
            screen.row_list.rows = []
            t = time.perf_counter()
            await pilot.press("3")
            await _until(lambda: app.screen is screen and len(screen.rows) == PAGE)
            out["open warm"].append(time.perf_counter() - t)

        table = screen.query_one("#curate-table", DataTable)

        async def timed(name: str, key: str, cond_after) -> None:  # noqa: ANN001
            before = cond_after()
            t = time.perf_counter()
            await pilot.press(key)
            await _until(lambda: cond_after() != before)
            out.setdefault(name, []).append(time.perf_counter() - t)

        for _ in range(presses):
            # An unbound key: what Pilot's press-and-settle costs by itself.
            t = time.perf_counter()
            await pilot.press("z")
            out.setdefault("z (no-op: harness floor)", []).append(time.perf_counter() - t)
        for _ in range(presses):
            await timed("down (move)", "down", lambda: table.cursor_row)
        for _ in range(presses):
            await timed("a (accept+advance)", "a", lambda: table.cursor_row)
        for _ in range(presses // 3):
            await timed("n (next unreviewed)", "n", lambda: screen.current_id)
        pages_left = (screen.total - 1) // PAGE - screen.page_start // PAGE
        for _ in range(min(presses // 3, pages_left)):
            await timed("] (next page)", "right_square_bracket", lambda: screen.page_start)
        for _ in range(presses // 3):
            await timed("u (undo)", "u", lambda: screen.current_id)
    return out


async def naive_open(n: int) -> float:
    """The design to avoid: every row a DataTable row."""
    from textual.app import App
    from textual.widgets import DataTable

    ws_rows = [(str(i), f"Support ticket {i}", "billing", "3") for i in range(n)]

    class Naive(App):
        def compose(self):  # noqa: ANN202
            yield DataTable()

    app = Naive()
    async with app.run_test(size=(80, 24)) as pilot:
        t = time.perf_counter()
        table = app.query_one(DataTable)
        table.add_columns("id", "input", "output", "tok")
        table.add_rows(ws_rows)
        await pilot.pause()
        return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--presses", type=int, default=60)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "bench")
        t = time.perf_counter()
        fill(ws, args.rows)
        print(f"filled {args.rows:,} rows in {time.perf_counter() - t:.1f} s")
        res = asyncio.run(measure(ws, args.presses))
    naive = asyncio.run(naive_open(args.rows))
    print(f"\n{'measure':<22}{'median ms':>10}{'p95 ms':>9}{'n':>5}   baseline")
    for name, vals in res.items():
        med, p95 = statistics.median(vals) * 1e3, pct(vals, 0.95) * 1e3
        if name.startswith("open"):
            base = f"target 1000 ms: {med / 1000:.3f}x; all-rows DataTable {naive * 1e3:,.0f} ms:"
            base += f" {med / (naive * 1e3):.4f}x"
        else:
            floor = statistics.median(res["z (no-op: harness floor)"]) * 1e3
            base = f"target 100 ms: {p95 / 100:.2f}x (p95); {med / floor:.1f}x the floor"
        print(f"{name:<22}{med:>10.1f}{p95:>9.1f}{len(vals):>5}   {base}")


if __name__ == "__main__":
    main()
