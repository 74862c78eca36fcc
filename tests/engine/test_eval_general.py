"""The forgetting check (issue 31, item 6): an evaluation measures the base
model's and the run's perplexity on the package's general text, `--no-base`
included, and `eval` reports "general perplexity base -> run"."""

from __future__ import annotations

import json
import math

from support.adapter_helpers import make_run, write_split

from distill_tui.cli import main
from distill_tui.core.evaluate import evals, general
from distill_tui.engine.chat.perplexity import perplexity, tokens
from distill_tui.engine.mlx_thread import mlx_thread


def _one_window_at_a_time(model, tokenizer, text: str, max_tokens: int, window: int) -> float:
    import mlx.core as mx
    import mlx.nn as nn

    ids = tokens(tokenizer, text, max_tokens)
    nll, count = 0.0, 0
    for i in range(0, len(ids), window):
        w = mx.array(ids[i : i + window])[None]
        if w.shape[1] < 2:
            continue
        logits = model(w[:, :-1]).astype(mx.float32)
        nll += float(nn.losses.cross_entropy(logits, w[:, 1:], reduction="sum"))
        count += w.shape[1] - 1
    return math.exp(nll / count)


def test_batched_windows_score_as_one_window_at_a_time(tiny_model):
    def both() -> tuple[float, int, float]:
        from mlx_lm import load

        model, tokenizer = load(str(tiny_model))[:2]
        text = general.text()
        # 600 tokens in windows of 128: four full windows batched with a short fifth.
        ppl, n = perplexity(model, tokenizer, text, 600, window=128)
        return ppl, n, _one_window_at_a_time(model, tokenizer, text, 600, 128)

    ppl, n, reference = mlx_thread().call(both)
    assert n == 600 - 5  # every window's first token is context only
    assert math.isclose(ppl, reference, rel_tol=1e-4)


def test_eval_reports_the_general_perplexity_of_base_and_run_even_with_no_base(
    workspace, tiny_model, capsys
):
    make_run(workspace, tiny_model)
    write_split(workspace, "valid", [("a", "billing"), ("b", "bug")])
    d = str(workspace.root)
    args = ["eval", d, "--run", "run-1", "--json", "--no-base", "--max-tokens", "3"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    ppl = data["general_perplexity"]
    assert set(ppl) == {"base", "adapter"} and "base" not in data["ci"]
    assert all(1.0 < v < 1e6 for v in ppl.values())
    assert ppl["adapter"] != ppl["base"]  # the random adapter changed the model
    assert 0 < data["general_tokens"] <= general.MAX_TOKENS
    stored = evals.latest(workspace.store)
    assert stored is not None and stored.general == ppl
    # The text report says it in one line, and from the stored result too.
    assert main(["eval", d, "--run", "run-1", "--last"]) == 0
    out = capsys.readouterr().out
    rise = ppl["adapter"] / ppl["base"] - 1
    assert f"general perplexity base {ppl['base']:.2f} -> run {ppl['adapter']:.2f}" in out
    assert f"({rise:+.1%})" in out and "general ppl" in out
    assert ("warning: general perplexity rose" in out) == (rise > general.WARN_RISE)
