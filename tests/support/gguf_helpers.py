"""GGUF files for tests: a random Llama as llama.cpp's converter writes it
(its tensor names, its q/k row order, F16 matrices, the tokenizer in
metadata), headers written field by field for crafted files, and a small
tmpfs for full-disk tests in a private mount namespace."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

from distill_tui.demo.tiny import CHATML_TEMPLATE, DEFAULT_TEXTS, SPECIAL_TOKENS
from distill_tui.engine.mlx_thread import mlx_thread

HEADS, KV_HEADS, HIDDEN = 4, 2, 64
_GGUF_NAMES = {
    "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def _llama_cpp_permute(w, n_head: int):
    return (
        w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
        .swapaxes(1, 2)
        .reshape(w.shape)
    )


def _gguf_name(hf: str) -> str:
    top = {"model.embed_tokens": "token_embd", "model.norm": "output_norm", "lm_head": "output"}
    base, _, suffix = hf.rpartition(".")
    if base in top:
        return f"{top[base]}.{suffix}"
    _, _, layer, rest = base.split(".", 3)
    return f"blk.{layer}.{_GGUF_NAMES[rest]}.{suffix}"


def _write_gguf(out: Path, meta_overrides: dict) -> dict:
    """A random Llama as llama.cpp's converter would write it; returns what a
    test compares against (logits, token ids)."""
    import mlx.core as mx
    from mlx.utils import tree_flatten, tree_map
    from mlx_lm.models import llama
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(DEFAULT_TEXTS, trainer=trainer)
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    merges = json.loads(tok.to_str())["model"]["merges"]
    mx.random.seed(3)
    args = llama.ModelArgs(
        model_type="llama",
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        intermediate_size=128,
        num_attention_heads=HEADS,
        num_key_value_heads=KV_HEADS,
        rms_norm_eps=1e-5,
        vocab_size=len(vocab),
        rope_theta=10000.0,
        tie_word_embeddings=False,
    )
    model = llama.Model(args)
    # F16 in the file: round the reference model the same way.
    model.update(tree_map(lambda a: a.astype(mx.float16).astype(mx.float32), model.parameters()))
    tensors = {}
    for name, w in tree_flatten(model.parameters()):
        if ".q_proj." in name:
            w = _llama_cpp_permute(w, HEADS)
        elif ".k_proj." in name:
            w = _llama_cpp_permute(w, KV_HEADS)
        tensors[_gguf_name(name)] = w.astype(mx.float16) if w.ndim == 2 else w
    u32 = lambda v: mx.array(v, dtype=mx.uint32)  # noqa: E731
    meta = {
        "general.architecture": "llama",
        "general.name": "test llama",
        "llama.block_count": u32(2),
        "llama.embedding_length": u32(HIDDEN),
        "llama.feed_forward_length": u32(128),
        "llama.attention.head_count": u32(HEADS),
        "llama.attention.head_count_kv": u32(KV_HEADS),
        "llama.attention.layer_norm_rms_epsilon": mx.array(1e-5, dtype=mx.float32),
        "llama.rope.freq_base": mx.array(10000.0, dtype=mx.float32),
        "llama.context_length": u32(512),
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "gpt-2",
        "tokenizer.ggml.tokens": [t for t, _ in vocab],
        "tokenizer.ggml.token_type": mx.array(
            [3 if t in SPECIAL_TOKENS else 1 for t, _ in vocab], dtype=mx.int32
        ),
        "tokenizer.ggml.merges": [m if isinstance(m, str) else " ".join(m) for m in merges],
        "tokenizer.ggml.bos_token_id": u32(1),
        "tokenizer.ggml.eos_token_id": u32(2),
        "tokenizer.chat_template": CHATML_TEMPLATE,
        **meta_overrides,
    }
    mx.save_gguf(str(out), tensors, {k: v for k, v in meta.items() if v is not None})
    ids = mx.array(tok.encode("The app crashes when I open the settings page.").ids)[None]
    return {"ids": ids, "logits": model(ids), "tokenizer": tok}


def write_gguf(out: Path, **meta_overrides) -> dict:
    return mlx_thread().call(_write_gguf, out, meta_overrides)


def gguf_header_bytes(version=3, tensors=(), meta=(), pad=True) -> bytes:
    """A GGUF written field by field: `meta` (key, type, raw value bytes),
    `tensors` (name, dims, ggml type, offset)."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(meta))
    for key, kind, raw in meta:
        out += struct.pack("<Q", len(key)) + key.encode() + struct.pack("<I", kind) + raw
    for name, dims, kind, offset in tensors:
        out += struct.pack("<Q", len(name)) + name.encode() + struct.pack("<I", len(dims))
        out += struct.pack(f"<{len(dims)}Q", *dims) + struct.pack("<IQ", kind, offset)
    return out + b"\0" * (-len(out) % 32 if pad else 0)


MOUNTED = 'mount -t tmpfs -o size="$1" tmpfs "$2" && shift 2 && exec "$@"'


def private_tmpfs(where: Path) -> list[str] | None:
    """The command prefix that runs a command with a small tmpfs on `where`
    (`sh -c MOUNTED sh SIZE WHERE CMD...` after it), in a mount namespace of
    its own so nothing stays mounted; None where this machine allows none.
    As root a mount namespace alone does; otherwise one in a user namespace."""
    for unshare in (["unshare", "-m"], ["unshare", "-rm"]):
        probe = [*unshare, "sh", "-c", MOUNTED, "sh", "8k", str(where), "true"]
        if subprocess.run(probe, capture_output=True).returncode == 0:
            return unshare
    return None
