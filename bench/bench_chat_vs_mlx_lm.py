"""The Chat screen's engine (`ModelHost.reply`, which `distill-tui chat` and
the Chat screen call) against `mlx_lm.generate`, with the same model and
adapter (the demo's SmolLM2-135M-Instruct after a short LoRA run), the same
chat-templated prompt, 128 tokens, greedy; alternating, in one process, in
one run. The demo's adapter answers a ticket with a label and an end token, so
end tokens are ignored on both sides (an empty end-token set) and both decode
exactly 128 tokens. Prints tokens per second of each (the whole call, prompt
included, and each one's own decode figure) and their ratio.

    uv run python bench/bench_chat_vs_mlx_lm.py [--iters 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from demo_project import cli, cli_env, exported_demo

from distill_tui.core.project import Workspace
from distill_tui.core.train import checkpoints
from distill_tui.engine.chat import session
from distill_tui.engine.chat.session import GenSettings, ModelHost, Target, build_messages
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.models.gguf import mlx_path

PROMPT = "Write a long story about a lighthouse keeper and a storm, in many paragraphs."
TOKENS = 128


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=10, help="training steps for the adapter")
    ap.add_argument("--repeat", type=int, default=5, help="alternate calls of each")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-chat-mlxlm-"))
    env = cli_env(tmp)
    root = exported_demo(tmp, a.iters, env)
    cli("train", str(root), "--no-preflight", env=env)
    ws = Workspace.open(root)
    cp = checkpoints.resolve(ws, None, None)
    ws.store.close()
    # The adapter as mlx_lm.load(adapter_path=...) reads it.
    adapter = tmp / "adapter"
    adapter.mkdir()
    shutil.copy(cp.weights, adapter / "adapters.safetensors")
    shutil.copy(cp.config_path, adapter / "adapter_config.json")

    messages = build_messages("", [], PROMPT)
    session.end_token_ids = lambda tokenizer: set()  # 128 tokens, not a label (see above)
    host = ModelHost()
    target = Target.of(cp)
    host.select(target)
    settings = GenSettings(max_tokens=TOKENS)

    def ours() -> tuple[int, float, float]:
        t0 = time.perf_counter()
        r = host.reply(target, messages, settings)
        wall = time.perf_counter() - t0
        return r.tokens, wall, r.tokens_per_sec or float("nan")

    def load_mlx_lm() -> tuple[object, object]:
        from mlx_lm import load

        model, tokenizer = load(mlx_path(cp.base_model), adapter_path=str(adapter))[:2]
        return model, tokenizer

    model, tokenizer = mlx_thread().call(load_mlx_lm)
    tokenizer.eos_token_ids = set()  # type: ignore[attr-defined]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True)  # type: ignore[attr-defined]

    def theirs() -> tuple[int, float, float]:
        from mlx_lm import generate

        out = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(out):
            generate(model, tokenizer, prompt, max_tokens=TOKENS, verbose=True)  # type: ignore[arg-type]
        wall = time.perf_counter() - t0
        m = re.search(r"Generation: (\d+) tokens, ([\d.]+) tokens-per-sec", out.getvalue())
        assert m, out.getvalue()
        return int(m.group(1)), wall, float(m.group(2))

    mlx_thread().call(theirs)  # warm-up, each
    host.reply(target, messages, settings)
    runs: dict[str, list[tuple[int, float, float]]] = {"mlx_lm.generate": [], "distill-tui": []}
    for i in range(a.repeat):
        # Each goes first every other time, so neither always follows the other.
        for name in ("mlx_lm.generate", "distill-tui")[:: 1 if i % 2 == 0 else -1]:
            runs[name].append(mlx_thread().call(theirs) if name == "mlx_lm.generate" else ours())

    def whole(r: list[tuple[int, float, float]]) -> float:
        return statistics.median(n / w for n, w, _ in r)

    def own(r: list[tuple[int, float, float]]) -> float:
        return statistics.median(x for _, _, x in r)

    base, us = runs["mlx_lm.generate"], runs["distill-tui"]
    print(
        f"SmolLM2-135M-Instruct + LoRA adapter ({a.iters} steps), greedy, {TOKENS} tokens;"
        f" median of {a.repeat} alternating calls; tokens: mlx_lm {base[0][0]}, ours {us[0][0]}"
    )
    print(f"{'tokens/sec':34}{'mlx_lm.generate':>16}{'distill-tui':>13}{'ratio':>8}")
    for name, f in (("whole call (prompt included)", whole), ("own decode figure", own)):
        print(f"{name:34}{f(base):16.1f}{f(us):13.1f}{f(us) / f(base):8.3f}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
