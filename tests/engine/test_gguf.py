"""The GGUF converter on small files the tests write (a random Llama laid out
as llama.cpp writes it: its tensor names, its q/k row order, F16 matrices,
the tokenizer in metadata), and the one-line errors for files it refuses."""

from __future__ import annotations

import json
import random
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.preflight import model_layers
from distill_tui.engine import gguf
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.tiny import CHATML_TEMPLATE, DEFAULT_TEXTS, SPECIAL_TOKENS
from distill_tui.engine.tiny_task import write_split

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


def test_a_llama_cpp_layout_converts_to_the_same_model(tmp_path):
    import mlx.core as mx
    from mlx_lm import load

    src = tmp_path / "test-model.F16.gguf"
    ref = write_gguf(src)
    folder = mlx_thread().call(gguf.convert, src, cache=tmp_path / "cache")
    assert folder.parent == tmp_path / "cache"
    model, tok = mlx_thread().call(load, str(folder))
    close = lambda: mx.allclose(model(ref["ids"]), ref["logits"], atol=1e-4).item()  # noqa: E731
    assert mlx_thread().call(close)
    config = json.loads((folder / "config.json").read_text())
    assert not config["tie_word_embeddings"] and config["eos_token_id"] == 2
    text = "Please add a dark mode to the dashboard."
    assert tok.encode(text) == ref["tokenizer"].encode(text).ids
    assert tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False
    ).endswith("<|im_start|>assistant\n")
    assert tok.eos_token_ids == {2}
    # The Train screen's layer check reads the header, without converting.
    assert model_layers(str(src)) == 2
    # A second call finds the cached folder; a renamed copy of the file too.
    src.rename(tmp_path / "renamed.gguf")
    again = mlx_thread().call(gguf.convert, tmp_path / "renamed.gguf", cache=tmp_path / "cache")
    assert again == folder


def test_mlx_path_converts_gguf_files_only(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    src = tmp_path / "m.gguf"
    write_gguf(src)
    folder = Path(mlx_thread().call(gguf.mlx_path, str(src)))
    assert folder.parent == paths.gguf_cache_dir() == tmp_path / "xdg" / "distill-tui" / "gguf"
    assert gguf.mlx_path("mlx-community/Qwen2.5-1.5B-Instruct-4bit").startswith("mlx-community")
    assert paths.resolve_model(tmp_path, "m.gguf") == str(src)  # core leaves it a file


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"general.architecture": "qwen2"}, "architecture 'qwen2' is not supported"),
        ({"tokenizer.ggml.model": "bert"}, "tokenizer model 'bert' is not supported"),
        ({"tokenizer.ggml.pre": "deepseek-coder"}, "pre-tokenizer 'deepseek-coder'"),
        ({"llama.block_count": None}, "metadata 'llama.block_count' is missing"),
    ],
)
def test_unsupported_models_are_refused_by_name(tmp_path, overrides, message):
    src = tmp_path / "odd.gguf"
    write_gguf(src, **overrides)
    with pytest.raises(UserError, match=message):
        mlx_thread().call(gguf.convert, src, cache=tmp_path / "cache")
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name != "stamps"]


def test_bad_files_give_one_clear_line(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_text("<html>not found</html>")
    with pytest.raises(UserError, match="not a GGUF file"):
        mlx_thread().call(gguf.mlx_path, str(fake))
    assert model_layers(str(fake)) is None
    with pytest.raises(UserError, match="no such GGUF file"):
        gguf.mlx_path(str(tmp_path / "missing.gguf"))
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 8)
    with pytest.raises(UserError, match="cut short or damaged"):
        mlx_thread().call(gguf.mlx_path, str(truncated))


def test_cli_names_the_bad_student_file_in_one_line(workspace, tmp_path):
    (workspace.root / "broken.gguf").write_text("not a model")
    workspace.settings.student.model = "broken.gguf"
    workspace.save_settings()
    write_split(workspace.root / "data")
    r = subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", "train", str(workspace.root), "--iters", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "not a GGUF file" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_sentencepiece_vocabulary_tokenizes_as_sentencepiece_does(tmp_path):
    """Llama 2 / Mistral GGUFs carry SentencePiece pieces, scores and types;
    the rebuilt tokenizer must split text exactly as SentencePiece would."""
    import mlx.core as mx
    import sentencepiece as spm
    from mlx_lm.utils import load_tokenizer

    from distill_tui.engine.gguf_tokenizer import write_tokenizer

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(DEFAULT_TEXTS * 3) + "\nnaïve café 東京\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(tmp_path / "sp"), vocab_size=400,
        model_type="bpe", byte_fallback=True, character_coverage=1.0,
        bos_id=1, eos_id=2, unk_id=0, pad_id=-1,
        # As Llama's own model: no normalization, spaces kept.
        normalization_rule_name="identity", remove_extra_whitespaces=False,
    )  # fmt: skip
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "sp.model"))
    # llama.cpp's converter: piece, score and type of every id.
    types = [
        2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else 1
        for i in range(sp.get_piece_size())
    ]
    meta = {
        "general.architecture": "llama",
        "tokenizer.ggml.model": "llama",
        "tokenizer.ggml.tokens": [sp.id_to_piece(i) for i in range(sp.get_piece_size())],
        "tokenizer.ggml.scores": mx.array([sp.get_score(i) for i in range(sp.get_piece_size())]),
        "tokenizer.ggml.token_type": mx.array(types),
        "tokenizer.ggml.bos_token_id": mx.array(1),
        "tokenizer.ggml.eos_token_id": mx.array(2),
        "tokenizer.ggml.unknown_token_id": mx.array(0),
        "tokenizer.chat_template": CHATML_TEMPLATE,
    }
    out = tmp_path / "tok"
    out.mkdir()
    assert write_tokenizer(meta, out, "sp.gguf") == {"bos_token_id": 1, "eos_token_id": 2}
    tok = load_tokenizer(out)
    for text in ["The app crashes when I open the settings page.", "naïve café 東京 ∑ 🙂", "a  b"]:
        ids = tok.encode(text)
        assert ids[0] == 1 and ids[1:] == sp.encode(text)  # BOS first, as llama.cpp adds it
        assert tok.decode(ids, skip_special_tokens=True) == text


def test_a_local_teacher_may_be_a_gguf_file(workspace, tmp_path):
    from distill_tui.core import queue as q
    from distill_tui.engine.queue import run_queue

    src = tmp_path / "teacher.gguf"
    write_gguf(src)
    t = workspace.settings.teacher
    t.provider, t.model, t.max_tokens = "mlx", str(src), 4
    workspace.store.add_inputs([("The app crashes", None), ("I was charged twice", None)])
    result = run_queue(workspace)
    assert result.reason == "finished" and result.progress.done == 2
    assert q.history(workspace.store, 1)[0]["teacher"] == f"mlx:{src}"


# -- crafted and damaged files: refused in Python before MLX's reader sees them


def _header(version=3, tensors=(), meta=(), pad=True) -> bytes:
    """A GGUF written field by field: `meta` (key, type, raw value bytes),
    `tensors` (name, dims, ggml type, offset)."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(meta))
    for key, kind, raw in meta:
        out += struct.pack("<Q", len(key)) + key.encode() + struct.pack("<I", kind) + raw
    for name, dims, kind, offset in tensors:
        out += struct.pack("<Q", len(name)) + name.encode() + struct.pack("<I", len(dims))
        out += struct.pack(f"<{len(dims)}Q", *dims) + struct.pack("<IQ", kind, offset)
    return out + b"\0" * (-len(out) % 32 if pad else 0)


CRAFTED = {
    # The two files of issue 17: mx.load dies of SIGSEGV on each.
    "random": (b"GGUF" + random.Random(17).randbytes(4096), "version"),
    "huge key": (
        b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 2**62) + b"\0" * 100,
        "metadata key 0 at byte 32 needs 4611686018427387904 bytes",
    ),
    "huge tensor count": (b"GGUF" + struct.pack("<IQQ", 3, 2**40, 0), "the tensor count"),
    "huge array": (
        _header(meta=[("tok", 9, struct.pack("<IQ", 8, 2**50))]),
        "the length of 'tok'",
    ),
    "k-quant": (
        _header(tensors=[("blk.0.attn_q.weight", (256, 4), 12, 0)]) + b"\0" * 2048,
        "tensor 'blk.0.attn_q.weight' is Q4_K; MLX reads F32",
    ),
    "data past the end": (
        _header(tensors=[("output_norm.weight", (64,), 0, 0)]) + b"\0" * 100,
        "the data of tensor 'output_norm.weight' ends at byte",
    ),
    "huge shape": (
        _header(tensors=[("output.weight", (2**40, 2**40), 1, 0)]) + b"\0" * 64,
        "the data of tensor 'output.weight'",
    ),
    "nine dimensions": (_header(tensors=[("x", (1,) * 9, 0, 0)]), "9 dimensions"),
    "odd offset": (
        _header(tensors=[("x", (4,), 0, 3)]) + b"\0" * 64,
        "offset 3, not a multiple of 32",
    ),
    "zero alignment": (
        _header(meta=[("general.alignment", 4, struct.pack("<I", 0))]),
        "general.alignment 0",
    ),
    "partial block": (_header(tensors=[("x", (40, 2), 2, 0)]) + b"\0" * 99, "not whole Q4_0"),
}


@pytest.mark.parametrize("case", CRAFTED)
def test_a_crafted_header_is_refused_in_one_line_before_mlx_reads_it(tmp_path, case):
    data, message = CRAFTED[case]
    src = tmp_path / "crafted.gguf"
    src.write_bytes(data)
    with pytest.raises(UserError, match=re.escape(message)) as e:
        mlx_thread().call(gguf.convert, src, cache=tmp_path / "cache")
    assert str(e.value).startswith(f"{src}: ") and "\n" not in str(e.value)
    assert model_layers(str(src)) is None


def test_a_file_cut_short_says_so_not_k_quants(tmp_path):
    whole = tmp_path / "whole.gguf"
    write_gguf(whole)
    data = whole.read_bytes()
    for cut in (len(data) // 2, len(data) - 1, 40):
        src = tmp_path / f"cut{cut}.gguf"
        src.write_bytes(data[:cut])
        with pytest.raises(UserError, match="cut short or damaged") as e:
            mlx_thread().call(gguf.convert, src, cache=tmp_path / "cache")
        assert "K-quant" not in str(e.value) and str(e.value).startswith(str(src))


@pytest.mark.parametrize("case", ["random", "huge key"])
def test_cli_train_on_a_crafted_student_exits_2_with_one_line(workspace, case):
    """The real path, in a process of its own: before the check, mx.load
    killed it with SIGSEGV (exit 139), no message."""
    (workspace.root / "crafted.gguf").write_bytes(CRAFTED[case][0])
    workspace.settings.student.model = "crafted.gguf"
    workspace.save_settings()
    write_split(workspace.root / "data")
    r = subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", "train", str(workspace.root), "--iters", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.strip().count("\n") == 0 and "crafted.gguf: " in r.stderr
    assert "Traceback" not in r.stderr


def test_conversions_killed_mid_write_are_cleared_from_the_cache(tmp_path):
    """A `.partial` folder whose process is gone (kill -9 mid-conversion) is
    removed by the next conversion; one a live process is writing is not."""
    import os

    cache = tmp_path / "cache"
    gone = cache / ".0123456789abcdef01234567-dense-v1.999999999.partial"
    live = cache / f".0123456789abcdef01234567-dense-v1.{os.getppid()}.partial"
    for d in (gone, live):
        d.mkdir(parents=True)
        (d / "model.safetensors").write_bytes(b"\0" * 1024)
    src = tmp_path / "m.gguf"
    write_gguf(src)
    folder = mlx_thread().call(gguf.convert, src, cache=cache)
    assert not gone.exists() and live.is_dir()
    assert sorted(p.name for p in cache.iterdir()) == sorted([folder.name, live.name, "stamps"])
