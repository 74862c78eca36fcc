"""The tokens that end a reply, so no reply shows one.

mlx-lm stops on the ids in `TokenizerWrapper.eos_token_ids`: the tokenizer's
`eos_token` and the model config's `eos_token_id`, which `generation_config.json`
replaces rather than joins. A model that ends a turn with another token (the
tiny demo student samples `<|endoftext|>`, its pad token; Qwen2.5 declares
`[<|im_end|>, <|endoftext|>]`; Llama 3 `<|eot_id|>` and `<|end_of_text|>`)
would otherwise stream that token's text into the reply, and `ctrl+s` would
save it into a dataset row. `end_token_ids` joins every declaration (and the
token that opens a turn: a reply that writes one is inventing the next), and
`EndCut` cuts a reply at an end token's text should the model spell one out
in ordinary pieces.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Special tokens that end a sequence or a turn in the common model families.
END_TOKEN_TEXTS = (
    "<|endoftext|>",
    "<|im_end|>",
    "<|end_of_text|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|end|>",
    "<|return|>",
    "<end_of_turn>",
    "<eos>",
    "</s>",
)


def _ids(value: object) -> set[int]:
    if isinstance(value, bool):
        return set()
    if isinstance(value, int):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, int) and not isinstance(v, bool)}
    return set()


def declared_ids(model_dir: Path) -> set[int]:
    """`eos_token_id` (an int or a list) of config.json and generation_config.json."""
    found: set[int] = set()
    for name in ("config.json", "generation_config.json"):
        try:
            data = json.loads((model_dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            found |= _ids(data.get("eos_token_id"))
    return found


def _special_tokens(tokenizer: Any) -> dict[str, int]:
    """Added/special token text -> id, for Hugging Face tokenizers."""
    out: dict[str, int] = {}
    decoder = getattr(tokenizer, "added_tokens_decoder", None)
    if isinstance(decoder, dict):
        for i, tok in decoder.items():
            content = getattr(tok, "content", tok)
            if isinstance(content, str) and isinstance(i, int):
                out[content] = i
    return out


def _template_turn_end(tokenizer: Any, specials: dict[str, int]) -> str | None:
    """The special token the chat template writes right after an assistant turn."""
    mark = "\x00REPLY\x00"
    try:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": mark}],
            tokenize=False,
        )
    except Exception:  # noqa: BLE001 - no template, or one that refuses this shape
        return None
    if not isinstance(text, str) or mark not in text:
        return None
    tail = text.split(mark, 1)[1].lstrip()
    return next((s for s in sorted(specials, key=len, reverse=True) if tail.startswith(s)), None)


def _template_turn_start(tokenizer: Any, specials: dict[str, int]) -> str | None:
    """The special token that opens a turn (`<|im_start|>`, `<start_of_turn>`):
    a reply that writes one has ended and goes on to invent the next turn."""
    turn = [{"role": "user", "content": "hi"}]
    try:
        bare = tokenizer.apply_chat_template(turn, tokenize=False)
        prompt = tokenizer.apply_chat_template(turn, tokenize=False, add_generation_prompt=True)
    except Exception:  # noqa: BLE001 - no template
        return None
    if not isinstance(bare, str) or not isinstance(prompt, str) or not prompt.startswith(bare):
        return None
    header = prompt[len(bare) :].lstrip()
    return next((s for s in sorted(specials, key=len, reverse=True) if header.startswith(s)), None)


def end_token_ids(tokenizer: Any) -> set[int]:
    """Every id that ends a reply: declared by the tokenizer, config.json or
    generation_config.json, the template's end of turn and start of the next,
    and the common end-of-text tokens the vocabulary has as special tokens."""
    found = _ids(sorted(getattr(tokenizer, "eos_token_ids", None) or ()))
    found |= _ids(getattr(tokenizer, "eos_token_id", None))
    where = getattr(tokenizer, "name_or_path", None)
    if isinstance(where, str) and where and Path(where).is_dir():
        found |= declared_ids(Path(where))
    specials = _special_tokens(tokenizer)
    found |= {specials[t] for t in END_TOKEN_TEXTS if t in specials}
    for find in (_template_turn_end, _template_turn_start):
        if (marker := find(tokenizer, specials)) is not None:
            found.add(specials[marker])
    return found


def end_texts(tokenizer: Any, ids: set[int]) -> list[str]:
    """The text of each end token (what a reply must never contain)."""
    by_id = {i: t for t, i in _special_tokens(tokenizer).items()}
    return sorted({by_id[i] for i in ids if i in by_id}, key=len, reverse=True)


class EndCut:
    """Streams a reply's text and cuts it at the first end-token text; text
    that could be the start of one is held back until the next chunk says."""

    def __init__(self, markers: list[str]) -> None:
        self.markers = [m for m in markers if m]
        self.text = ""
        self.sent = 0
        self.ended = False

    def feed(self, chunk: str) -> str:
        """The part of the reply that is safe to show now."""
        if self.ended:
            return ""
        self.text += chunk
        cuts = [i for m in self.markers if (i := self.text.find(m)) >= 0]
        if cuts:
            self.text = self.text[: max(min(cuts), self.sent)]
            self.ended = True
            return self.flush()
        hold = 0
        for m in self.markers:
            for n in range(min(len(m) - 1, len(self.text)), hold, -1):
                if self.text.endswith(m[:n]):
                    hold = n
                    break
        end = max(len(self.text) - hold, self.sent)
        out, self.sent = self.text[self.sent : end], end
        return out

    def flush(self) -> str:
        out, self.sent = self.text[self.sent :], len(self.text)
        return out


def end_strings(folder: Any) -> list[str]:
    """The texts of the end tokens the app stops a reply at, for the model
    folder `folder`; mlx_lm.server and Ollama stop only at the tokenizer's
    eos unless asked to stop at these."""
    from mlx_lm.tokenizer_utils import load as load_tokenizer

    tokenizer = load_tokenizer(folder)
    return end_texts(tokenizer, end_token_ids(tokenizer))
