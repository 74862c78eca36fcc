"""Greedy answers to many prompts at once, for evaluation: mlx-lm's
`BatchGenerator` decodes the rows together (one pass over the weights per step
for all of them, where one row at a time reads every weight once per token of
each row), and each answer is handed back the moment its row ends.

Each answer is the text one-at-a-time decoding (`engine.chat.stream_reply`)
gives for the same prompt and token budget: the same chat template, the same
end tokens (none of them in the text), the same streaming detokenizer and the
same cut at an end token's text. Runs on the MLX thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from distill_tui.engine.models.end_tokens import EndCut, end_texts, end_token_ids

# Rows decoded together. Evaluation prompts are short, so their key/value
# caches are small beside the weights; 32 keeps a 7B student's batch modest.
BATCH_ROWS = 32

# (index of the prompt, its answer, "stop" or "length"); on the MLX thread.
AnswerFn = Callable[[int, str, str], None]


def batch_answers(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[list[dict[str, str]]],
    max_tokens: Sequence[int],
    on_answer: AnswerFn,
    stop: threading.Event | None = None,
    batch_rows: int = BATCH_ROWS,
) -> bool:
    """Answer every prompt greedily, calling `on_answer` as each row ends (in
    the order rows end, not the order given). Returns False when `stop` was
    set first: the rows not yet answered get no call."""
    from mlx_lm.generate import BatchGenerator
    from mlx_lm.sample_utils import make_sampler
    from mlx_lm.tokenizer_utils import TokenizerWrapper

    if not prompts:
        return True
    if not isinstance(tokenizer, TokenizerWrapper):
        tokenizer = TokenizerWrapper(tokenizer)
    ends = end_token_ids(tokenizer)
    tokenizer.eos_token_ids = ends
    markers = end_texts(tokenizer, ends)
    ids = [tokenizer.apply_chat_template(p, add_generation_prompt=True) for p in prompts]
    gen = BatchGenerator(
        model,
        stop_tokens=[[t] for t in sorted(ends)],
        sampler=make_sampler(temp=0.0),
        completion_batch_size=batch_rows,
        prefill_batch_size=min(batch_rows, 8),
    )
    try:
        uids = gen.insert(ids, [max(1, int(n)) for n in max_tokens])
        index = {uid: i for i, uid in enumerate(uids)}
        tokens: dict[int, list[int]] = {uid: [] for uid in uids}
        left = len(uids)
        while left:
            if stop is not None and stop.is_set():
                return False
            responses = gen.next_generated()
            if not responses:
                break
            for r in responses:
                if r.finish_reason != "stop":  # an end token is never text
                    tokens[r.uid].append(r.token)
                if r.finish_reason is not None:
                    left -= 1
                    text = _text(tokenizer, tokens.pop(r.uid), markers)
                    on_answer(index[r.uid], text, r.finish_reason)
        return True
    finally:
        gen.close()


def _text(tokenizer: Any, tokens: list[int], markers: list[str]) -> str:
    """The reply as streaming shows it: the same detokenizer, cut at the first
    end token the model spelled out in ordinary pieces."""
    detok = tokenizer.detokenizer
    for t in tokens:
        detok.add_token(t)
    detok.finalize()
    cut = EndCut(markers)
    return cut.feed(detok.text) + cut.flush()
