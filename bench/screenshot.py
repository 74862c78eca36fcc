"""The README's picture: the demo project's Curate screen as Textual draws it,
written as SVG to docs/curate.svg. Run it again when the screen changes:

    uv run python bench/screenshot.py [--out docs/curate.svg] [--size 100x30]

It drives the real app headless (Pilot) on a fresh demo project, without a
student model (the Curate screen needs none), so it takes a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


async def curate_svg(project: Path, size: tuple[int, int]) -> str:
    from distill_tui.demo import create_demo
    from distill_tui.ui.app import DistillApp

    ws = create_demo(project, student=None, preferences=True)
    app = DistillApp(root=ws.root, workspace=ws)
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        deadline = time.monotonic() + 30
        while "billing" not in _text(app) or type(app.screen).__name__ != "CurateScreen":
            if time.monotonic() > deadline:
                raise SystemExit("the Curate screen did not show the demo's rows within 30 s")
            await pilot.pause(0.05)
        for key in ("down", "down", "down"):  # a row a few lines in, its detail beside it
            await pilot.press(key)
        await pilot.pause(0.5)
        return app.export_screenshot(title="distill-tui: Curate")


def _text(app) -> str:  # noqa: ANN001
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "curate.svg")
    ap.add_argument("--size", default="100x30", help="COLUMNSxROWS (default: 100x30)")
    a = ap.parse_args()
    cols, rows = (int(n) for n in a.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="distill-shot-") as tmp:
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")  # the default theme
        svg = asyncio.run(curate_svg(Path(tmp) / "demo", (cols, rows)))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(svg, encoding="utf-8")
    print(f"wrote {a.out} ({len(svg) // 1024} KiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
