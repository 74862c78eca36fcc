"""What checking a GGUF header in Python (before MLX's reader, which a
damaged file crashes) costs beside the conversion it guards, on the demo's
SmolLM2-135M Q4_1 file (49,152 tokens and their merges in the header).

The check runs only when the cache does not hold the file yet, so its cost
is paid once per file, next to a full conversion. Also prints the free
space the check asks for against what the converted folder takes.

    uv run python bench/bench_gguf_header.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from distill_tui.demo import packaged_gguf
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.models import gguf


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    src = packaged_gguf()
    checks = []
    for _ in range(args.runs):
        t = time.perf_counter()
        header = gguf.checked_header(src)
        checks.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        out = mlx_thread().call(gguf.convert, src, cache=Path(d), dense=True)
        convert = time.perf_counter() - t
        written = sum(p.stat().st_size for p in out.iterdir())
    check = statistics.median(checks)
    need = gguf.space_needed(header, dense=True)
    print(f"{src.name}: {src.stat().st_size / 1e6:.0f} MB, {len(header.tensors)} tensors")
    print(f"header check (median of {args.runs})  {check:8.3f} s")
    print(
        f"first conversion (incl. check) {convert:8.3f} s   check/conversion {check / convert:.3f}"
    )
    print(f"space asked for {need / 1e6:8.1f} MB   written {written / 1e6:.1f} MB")
    print(f"asked/written {need / written:.3f}")


if __name__ == "__main__":
    main()
