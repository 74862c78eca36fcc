"""Benchmark the generation queue against the loops it replaces.

    uv run python bench/bench_queue.py            # about 2 minutes
    uv run python bench/bench_queue.py --full     # the guide's loop over all 500 inputs too

(a) HTTP teacher, loopback server answering after 100 ms, 500 inputs: the
    guide's loop (one request with the anthropic SDK, then `sleep 1`) against
    `run_queue` (concurrency 16, no rate cap), as requests per second and the
    ratio; then the queue with a requests-per-minute cap, as the share of the
    cap it holds. The guide's loop runs a fixed 1.1 s per request, so by
    default it is timed over its first 40 inputs (--full: all 500).
(b) Local MLX teacher: the guide's per-input `python -m mlx_lm generate`
    subprocess against the local teacher (model loaded once, batch_generate,
    cached prefix) on the same inputs and model, as inputs per second. The
    model is the tiny test model unless --model names another.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the loopback fake server

from support.llm_server import FakeLLM  # noqa: E402

from distill_tui.core.config import Example  # noqa: E402
from distill_tui.core.project import Workspace  # noqa: E402
from distill_tui.engine.generate.queue import run_queue  # noqa: E402

INSTRUCTIONS = "Classify the support ticket as billing, bug, feature or account."
EXAMPLES = [Example(input="I was charged twice", output="billing")]


def inputs(n: int) -> list[str]:
    kinds = ["charged twice", "app crashes", "add dark mode", "cannot log in"]
    return [f"Ticket {i}: {kinds[i % 4]} since the update" for i in range(n)]


def project(tmp: Path, name: str, texts: list[str], **teacher: object) -> Workspace:
    ws = Workspace.create(tmp / name)
    ws.settings.task.instructions = INSTRUCTIONS
    ws.settings.task.examples = list(EXAMPLES)
    for k, v in teacher.items():
        setattr(ws.settings.teacher, k, v)
    ws.store.add_inputs((t, None) for t in texts)
    return ws


def guide_http_loop(url: str, texts: list[str]) -> float:
    """The shell loop: one request, then sleep 1. Returns requests/second."""
    import anthropic

    client = anthropic.Anthropic(base_url=url)
    t0 = time.perf_counter()
    for t in texts:
        client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=256,
            system=INSTRUCTIONS,
            messages=[{"role": "user", "content": t}],
        )
        time.sleep(1)
    return len(texts) / (time.perf_counter() - t0)


def part_a(tmp: Path, full: bool) -> None:
    n = 500
    with FakeLLM(latency_s=0.1) as fake:
        os.environ["ANTHROPIC_API_KEY"] = "bench-key"
        os.environ["ANTHROPIC_BASE_URL"] = fake.url
        texts = inputs(n)
        guide_n = n if full else 40
        guide_rps = guide_http_loop(fake.url, texts[:guide_n])

        ws = project(
            tmp, "a", texts, model="claude-haiku-4-5", concurrency=16, requests_per_minute=0
        )
        t0 = time.perf_counter()
        r = run_queue(ws)
        queue_rps = r.progress.done / (time.perf_counter() - t0)
        assert r.progress.done == n, r.message

        cap = 1200
        m = 300
        ws2 = project(
            tmp, "a2", inputs(m), model="claude-haiku-4-5", concurrency=16, requests_per_minute=cap
        )
        fake.times.clear()
        run_queue(ws2)
        times = sorted(fake.times)
        held_rpm = (len(times) - 1) / (times[-1] - times[0]) * 60
    print("(a) HTTP teacher, loopback server with 100 ms latency")
    print(f"    {'':38}{'guide loop':>14}{'queue':>14}{'ratio':>10}")
    print(
        f"    {f'requests/s ({n} inputs; guide timed on {guide_n})':38}"
        f"{guide_rps:>14.2f}{queue_rps:>14.2f}{queue_rps / guide_rps:>9.1f}x"
    )
    print(
        f"    requests-per-minute cap {cap}, {m} inputs: held {held_rpm:.0f}/min"
        f" = {held_rpm / cap:.1%} of the cap"
    )


def part_b(tmp: Path, model: str | None, n: int, max_tokens: int) -> None:
    from distill_tui.demo.tiny import build_tiny_model
    from distill_tui.engine.mlx_thread import mlx_thread

    texts = inputs(n)
    path = model or str(mlx_thread().call(build_tiny_model, tmp / "tiny", texts))
    t0 = time.perf_counter()
    for t in texts:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mlx_lm",
                "generate",
                "--model",
                path,
                "--system-prompt",
                INSTRUCTIONS,
                "--prompt",
                t,
                "--max-tokens",
                str(max_tokens),
                "--temp",
                "0",
            ],
            check=True,
            capture_output=True,
        )
    guide_ips = n / (time.perf_counter() - t0)

    ws = project(
        tmp, "b", texts, provider="mlx", model=path, max_tokens=max_tokens, local_batch_size=16
    )
    t0 = time.perf_counter()
    r = run_queue(ws)
    assert r.progress.done == n, r.message
    queue_ips = n / (time.perf_counter() - t0)
    label = "tiny test model" if model is None else model
    print(f"(b) local MLX teacher ({label}), {n} inputs, max {max_tokens} tokens")
    print(f"    {'':38}{'guide loop':>14}{'queue':>14}{'ratio':>10}")
    print(
        f"    {'inputs/s (model load included)':38}"
        f"{guide_ips:>14.2f}{queue_ips:>14.2f}{queue_ips / guide_ips:>9.1f}x"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="time the guide's HTTP loop on all 500")
    ap.add_argument("--model", help="local MLX model for (b) (default: the tiny test model)")
    ap.add_argument("--local-inputs", type=int, default=24)
    ap.add_argument("--max-tokens", type=int, default=32)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        part_a(tmp, args.full)
        part_b(tmp, args.model, args.local_inputs, args.max_tokens)


if __name__ == "__main__":
    main()
