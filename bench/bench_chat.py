"""The Chat screen's decoding speed against `mlx_lm.generate`: the same model
and adapter (the demo's newest run), the same prompt through the same chat
template, greedy, up to 128 tokens; tokens per second after the first token,
side by side with the ratio, alternating, best of each.

    uv run distill-tui demo DIR --no-open && uv run distill-tui curate DIR --accept-all
    uv run distill-tui export DIR && uv run distill-tui train DIR
    uv run python bench/bench_chat.py DIR [--repeat R]

Ours is `ModelHost.reply`, what the Chat screen and `distill-tui chat` call
(streamed, with every stop token the model declares); mlx-lm's is its
`stream_generate` on a model loaded by `mlx_lm.load` with the adapter folder.
Both are loaded and warmed before timing. The texts are compared too.
"""

from __future__ import annotations

import argparse
import os
import threading

import yaml

from distill_tui.core import paths
from distill_tui.core.project import Workspace
from distill_tui.core.train import checkpoints
from distill_tui.engine.chat.session import (
    GenSettings,
    ModelHost,
    Target,
    build_messages,
    training_system_prompt,
)

PROMPT = "Write a long, detailed reply to a customer whose order arrived broken."
TOKENS = 128


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ws = Workspace.open(args.dir)
    cp = checkpoints.resolve(ws, None)
    target = Target.of(cp)
    messages = build_messages(training_system_prompt(ws), [], PROMPT)
    settings = GenSettings(temperature=0.0, max_tokens=TOKENS)

    host = ModelHost()
    stop = threading.Event()
    from mlx_lm import load, stream_generate

    # The folder mlx-lm reads (a GGUF student's converted one), as the run's lora.yaml says.
    rerun = yaml.safe_load((paths.run_dir(ws.root, cp.run_id) / "lora.yaml").read_text())
    print(f"{cp.label} on {os.path.basename(rerun['model'])}, greedy, up to {TOKENS} tokens;")
    print(f"best of {args.repeat} alternating; load {os.getloadavg()[0]:.1f}")
    print(f"{'':22}{'mlx_lm.generate':>17}{'distill-tui':>13}{'ratio':>8}{'tokens':>8}  same")
    # The adapter answers a ticket with a label: a few tokens. The base model
    # writes all 128, so its row is the decoding speed proper.
    for who, ours_target, adapter in (
        ("base model", target.base(), None),
        ("with the adapter", target, str(cp.config_path.parent)),
    ):
        model, tokenizer = load(rerun["model"], adapter_path=adapter)
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True)

        def theirs(model=model, tokenizer=tokenizer, prompt=prompt) -> tuple[float, int, str]:  # noqa: ANN001
            last, text = None, ""
            for last in stream_generate(model, tokenizer, prompt, max_tokens=TOKENS):
                text += last.text
            assert last is not None
            return last.generation_tps, last.generation_tokens, text

        def ours(t: Target = ours_target) -> tuple[float, int, str]:
            r = host.reply(t, messages, settings, lambda _t: None, stop)
            return r.tokens_per_sec or 0.0, r.tokens, r.text

        theirs()  # warm up both
        ours()
        best = {"theirs": (0.0, 0, ""), "ours": (0.0, 0, "")}
        for _ in range(args.repeat):
            for name, fn in (("theirs", theirs), ("ours", ours)):
                got = fn()
                if got[0] > best[name][0]:
                    best[name] = got
        b, o = best["theirs"], best["ours"]
        same = b[2].strip() == o[2].strip()
        print(f"{who + ' tok/s':22}{b[0]:17.1f}{o[0]:13.1f}{o[0] / b[0]:8.3f}{o[1]:8d}  {same}")


if __name__ == "__main__":
    main()
