"""No reply shows an end token: generation stops on every end token the
tokenizer, config.json and generation_config.json declare (a list included),
and a reply never contains one's text, so ctrl+s cannot save it into a row."""

from __future__ import annotations

import json
import shutil

from distill_tui.demo.tiny import SPECIAL_TOKENS
from distill_tui.engine.chat import session as chat
from distill_tui.engine.chat.session import GenSettings, ModelHost, Target
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.models.end_tokens import EndCut, end_token_ids

IDS = {t: i for i, t in enumerate(SPECIAL_TOKENS)}  # the tiny tokenizer's special ids


def test_sampled_replies_never_contain_an_end_token(tiny_model):
    """The tiny model declares only <|im_end|>, yet samples <|endoftext|> (its
    pad token, an end token in Qwen's own generation config) now and then: at
    temperature 1 over these seeds mlx-lm alone streams it into two replies."""
    host = ModelHost()
    ended_early = 0
    for seed in range(20):
        settings = GenSettings(temperature=1.0, max_tokens=64, seed=seed)
        chunks: list[str] = []
        msgs = [{"role": "user", "content": f"hello {seed}"}]
        reply = host.reply(Target(str(tiny_model)), msgs, settings, chunks.append)
        assert "".join(chunks) == reply.text
        for token in SPECIAL_TOKENS:
            assert token not in reply.text, (seed, reply.text)
        ended_early += reply.finish_reason == "stop" and reply.tokens < 64
    assert ended_early >= 2  # the seeds that sampled <|endoftext|> ended there


def test_every_declared_end_token_counts(tiny_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    # generation_config.json replaces config.json's id in mlx-lm; both count here.
    (model / "generation_config.json").write_text(
        json.dumps({"eos_token_id": [IDS["<|im_start|>"]]})
    )

    def ids() -> set[int]:
        _, tokenizer = chat._load_model(str(model))
        return end_token_ids(tokenizer)

    found = mlx_thread().call(ids)
    assert {IDS["<|im_end|>"], IDS["<|im_start|>"], IDS["<|endoftext|>"]} <= found
    # Without generation_config.json, <|im_start|> still ends a reply: it opens
    # the next turn in the template.
    (model / "generation_config.json").unlink()
    assert IDS["<|im_start|>"] in mlx_thread().call(ids)


def test_end_text_split_over_chunks_is_cut():
    cut = EndCut(["<|endoftext|>", "<|im_end|>"])
    shown = [cut.feed(c) for c in ("billing", " <|end", "oftext|> more")]
    assert "".join(shown) == "billing "
    assert cut.ended and cut.text == "billing "
    # A "<" that starts no end token is held only until the next chunk says so.
    cut = EndCut(["<|im_end|>"])
    assert cut.feed("a <") == "a "
    assert cut.feed("b>") == "<b>"
    assert cut.flush() == ""
