"""Rebuild a Hugging Face tokenizer (tokenizer.json + tokenizer_config.json)
from a GGUF file's `tokenizer.ggml.*` metadata, with the `tokenizers` library.

Byte-level BPE vocabularies (`tokenizer.ggml.model = "gpt2"`: SmolLM, Llama 3
and most recent models) are rebuilt from the token list and merges; the
pre-tokenizer is chosen by `tokenizer.ggml.pre`, as llama.cpp does. A name we
do not know is refused rather than guessed: a wrong split would tokenize
numbers or punctuation differently from training and quietly hurt the model.
SentencePiece BPE vocabularies (`"llama"`: Llama 2, Mistral, TinyLlama) are
rebuilt as Hugging Face's LlamaConverter does: merges ranked by the scores,
byte fallback, "▁" for spaces.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from distill_tui.core.errors import UserError

# llama.cpp's token types (llama-vocab.h).
_CONTROL, _USER_DEFINED = 3, 4

# The split patterns llama.cpp applies before byte-level BPE, by `tokenizer.ggml.pre`.
_LLAMA3 = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_QWEN2 = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
PRE_TOKENIZERS = ("default", "gpt-2", "smollm", "llama-bpe", "llama3", "qwen2")


def _pre_tokenizer(pre: str) -> Any:
    from tokenizers import Regex, pre_tokenizers

    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if pre in ("default", "gpt-2"):
        return byte_level
    if pre == "smollm":  # each digit alone, then GPT-2's byte-level split
        return pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
    pattern = {"llama-bpe": _LLAMA3, "llama3": _LLAMA3, "qwen2": _QWEN2}[pre]
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


def _int(meta: dict[str, Any], key: str) -> int | None:
    v = meta.get(key)
    return None if v is None else int(v.item() if hasattr(v, "item") else v)


def _bool(meta: dict[str, Any], key: str, default: bool) -> bool:
    v = meta.get(key)
    return default if v is None else bool(v.item() if hasattr(v, "item") else v)


def _byte_level(meta: dict[str, Any], tokens: list[str], source: str) -> Any:
    from tokenizers import Tokenizer, decoders, models

    pre = str(meta.get("tokenizer.ggml.pre") or "default")
    if pre not in PRE_TOKENIZERS:
        raise UserError(
            f"{source}: pre-tokenizer {pre!r} is not supported (known: {', '.join(PRE_TOKENIZERS)})"
        )
    merges = [tuple(m.split(" ", 1)) for m in meta.get("tokenizer.ggml.merges", [])]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=pre.startswith("llama")))
    tok.pre_tokenizer = _pre_tokenizer(pre)
    tok.decoder = decoders.ByteLevel()
    return tok


def _sentencepiece(meta: dict[str, Any], tokens: list[str]) -> Any:
    from tokenizers import Tokenizer, decoders, models, normalizers

    raw = meta.get("tokenizer.ggml.scores")
    scores = raw.tolist() if raw is not None else [-float(i) for i in range(len(tokens))]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges: list[tuple[str, str, float]] = []
    for piece, score in zip(tokens, scores, strict=False):
        local = [
            (piece[:i], piece[i:], score)
            for i in range(1, len(piece))
            if piece[:i] in vocab and piece[i:] in vocab
        ]
        merges += sorted(local, key=lambda m: (vocab[m[0]], vocab[m[1]]))
    merges.sort(key=lambda m: m[2], reverse=True)
    unk = _int(meta, "tokenizer.ggml.unknown_token_id")
    tok = Tokenizer(
        models.BPE(
            vocab=vocab,
            merges=[(a, b) for a, b, _ in merges],
            unk_token=tokens[unk] if unk is not None else None,
            fuse_unk=True,
            byte_fallback=True,
        )
    )
    prefix = _bool(meta, "tokenizer.ggml.add_space_prefix", True)
    steps = [normalizers.Replace(" ", "▁")]
    tok.normalizer = normalizers.Sequence(([normalizers.Prepend("▁")] if prefix else []) + steps)
    tok.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]
        + ([decoders.Strip(" ", 1, 0)] if prefix else [])
    )
    return tok


def write_tokenizer(meta: dict[str, Any], out: Path, source: str) -> dict[str, int | None]:
    """Write tokenizer.json and tokenizer_config.json into `out`; return the
    special token ids (bos, eos) for config.json."""
    from tokenizers import AddedToken, processors

    kind = meta.get("tokenizer.ggml.model")
    tokens: list[str] = list(meta["tokenizer.ggml.tokens"])
    if kind == "gpt2":
        tok = _byte_level(meta, tokens, source)
    elif kind == "llama":
        tok = _sentencepiece(meta, tokens)
    else:
        raise UserError(
            f"{source}: tokenizer model {kind!r} is not supported (byte-level BPE 'gpt2' "
            "and SentencePiece 'llama' are)"
        )
    raw_types = meta.get("tokenizer.ggml.token_type")
    types = raw_types.tolist() if raw_types is not None else [1] * len(tokens)
    specials = [
        AddedToken(t, special=ty == _CONTROL, normalized=False)
        for t, ty in zip(tokens, types, strict=False)
        if ty in (_CONTROL, _USER_DEFINED)
    ]
    tok.add_special_tokens([t for t in specials if t.special])
    tok.add_tokens([t for t in specials if not t.special])

    ids = {
        name: _int(meta, f"tokenizer.ggml.{name}_token_id")
        for name in ("bos", "eos", "padding", "unknown")
    }

    def name(key: str) -> str | None:
        i = ids[key]
        return tokens[i] if i is not None and 0 <= i < len(tokens) else None

    default_bos = kind == "llama"  # llama.cpp's default for SentencePiece vocabularies
    add_bos = _bool(meta, "tokenizer.ggml.add_bos_token", default_bos) and name("bos") is not None
    if add_bos:
        bos = name("bos")
        assert bos is not None
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, ids["bos"])]
        )
    elif kind == "gpt2":
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    try:
        tok.save(str(out / "tokenizer.json"))
    except Exception as e:  # tokenizers raises a bare Exception when the write fails
        raise OSError(str(e)) from None

    config: dict[str, Any] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": name("bos"),
        "eos_token": name("eos"),
        "pad_token": name("padding"),
        "unk_token": name("unknown"),
        "add_bos_token": add_bos,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": _int(meta, f"{meta.get('general.architecture')}.context_length")
        or 4096,
    }
    template = meta.get("tokenizer.chat_template")
    if isinstance(template, str) and template:
        config["chat_template"] = template
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return {"bos_token_id": ids["bos"], "eos_token_id": ids["eos"]}
