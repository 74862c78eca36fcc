"""Open a GGUF file as an mlx-lm model: it is converted once into an mlx-lm
model folder (config.json, model.safetensors, tokenizer files with the chat
template) that `mlx_lm.load` opens, cached by the file's content hash under
`paths.gguf_cache_dir()`.

MLX reads GGUF tensors itself (F32, F16, Q4_0, Q4_1, Q8_0; the quantized ones
as MLX (weight, scales, biases) triples, group size 32). What it leaves to us:
llama.cpp's tensor names become the Hugging Face names mlx-lm's models use;
llama.cpp's row permutation of q_proj and k_proj (its RoPE layout) is undone,
without which the model loads and answers nothing; the tokenizer is rebuilt
from the metadata (`gguf_tokenizer`).

Without Metal the folder holds dense fp32 weights: on a CPU a quantized matmul
with fp16 scales is ~70x slower than with fp32 ones, and LoRA on quantized
weights ~20x slower than on a dense copy. With Metal the weights stay
quantized, as they came. Call on the MLX thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from distill_tui.core import gguf_header, paths, staging
from distill_tui.core.errors import NoSpace, UserError
from distill_tui.core.sysinfo import human_bytes

CONVERTER_VERSION = 1  # part of the cache key: a fix to the converter reconverts
ARCHITECTURES = ("llama",)  # llama.cpp writes Llama 1-3, Mistral, SmolLM as "llama"
GROUP_SIZE = 32  # every GGUF block quantization MLX reads

_TOP = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}
_BLOCK = {
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
# llama.cpp precomputes Llama 3.1's RoPE frequencies; mlx-lm computes its own.
_SKIP = {"rope_freqs"}


def mlx_path(model: str) -> str:
    """The model as `mlx_lm.load` takes it: a `.gguf` file becomes its
    converted folder (converted on first use); anything else is unchanged."""
    if not paths.is_gguf(model):
        return model
    source = Path(model).expanduser()
    if not source.is_file():
        raise UserError(f"{model}: no such GGUF file")
    return str(convert(source))


def metal_available() -> bool:
    import mlx.core as mx

    try:
        return bool(mx.metal.is_available())
    except AttributeError:  # a build without the metal module
        return False


def convert(source: Path, *, dense: bool | None = None, cache: Path | None = None) -> Path:
    """The mlx-lm folder for the GGUF file `source`, converting it unless the
    cache already holds it. `dense=None` means dense fp32 without Metal."""
    if dense is None:
        dense = not metal_available()
    root = cache or paths.gguf_cache_dir()
    try:
        digest = file_digest(source, root)
    except OSError as e:
        raise UserError(f"{source}: {e}") from None
    out = root / f"{digest[:24]}-{'dense' if dense else 'quantized'}-v{CONVERTER_VERSION}"
    staging.clean_stale(root)  # conversions killed mid-write: up to a dense model each
    if (out / "config.json").is_file():
        _remember_path(out, source)
        return out
    header = checked_header(source)
    need = space_needed(header, dense)
    free = _free_bytes(root)
    if free is not None and free < need:
        raise NoSpace(
            f"{root}: not enough space to convert {source.name}: it needs about "
            f"{human_bytes(need)}, {human_bytes(free)} free"
        )
    tmp = staging.staging_dir(out)
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        _convert(source, tmp, dense, digest)
        try:
            tmp.rename(out)
        except OSError:  # another process finished the same conversion first
            if not (out / "config.json").is_file():
                raise
    except KeyError as e:
        raise UserError(f"{source}: GGUF metadata {e} is missing; is it a whole model?") from None
    except OSError as e:  # a full disk: the dense copy of a big model is large
        reason = e.strerror or str(e).strip() or type(e).__name__
        free = _free_bytes(root)
        error = NoSpace if free is not None and free < need else UserError
        raise error(
            f"{root}: cannot write the converted copy of {source.name} ({reason}); it needs "
            f"about {human_bytes(need)}, {human_bytes(free)} free"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def checked_header(source: Path) -> gguf_header.Header:
    """The header, checked against the file before MLX's reader sees it: that
    reader trusts every length and offset, and a damaged or crafted file kills
    the process (SIGSEGV) where nothing can catch it."""
    try:
        return gguf_header.read_header(source)
    except gguf_header.HeaderError as e:
        raise UserError(str(e)) from None
    except OSError as e:
        raise UserError(f"{source}: cannot read it: {e.strerror or e}") from None


def space_needed(header: gguf_header.Header, dense: bool) -> int:
    """About what the converted folder takes, rounded up: the weights (fp32 if
    dense; else the blocks with fp32 scales and biases, under 1.5x) with 1%
    to spare, the tokenizer files (under 3x the metadata they come from) and
    small files. bench/bench_gguf_header.py compares it with what is written."""
    weights = header.dense_bytes if dense else header.data_bytes * 3 // 2
    return weights + weights // 100 + 3 * header.metadata_bytes + 64 * 1024


def _free_bytes(folder: Path) -> int | None:
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def converted_folder(source: Path, cache: Path | None = None) -> Path | None:
    """The folder an earlier conversion of `source` left in the cache (either
    kind: the tokenizer is the same), or None. Never converts; hashes the
    file at most once (`file_digest` remembers it)."""
    root = cache or paths.gguf_cache_dir()
    if not source.is_file() or not root.is_dir():
        return None
    try:
        digest = file_digest(source, root)
    except OSError:
        return None
    for kind in ("dense", "quantized"):
        out = root / f"{digest[:24]}-{kind}-v{CONVERTER_VERSION}"
        if (out / "config.json").is_file():
            return out
    return None


def file_digest(source: Path, cache: Path) -> str:
    """sha256 of the file, remembered by path, size and mtime, so a
    multi-gigabyte GGUF is hashed once, not on every load."""
    st = source.stat()
    key = f"{source.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    stamp = cache / "stamps" / hashlib.sha256(key.encode()).hexdigest()
    if stamp.is_file():
        return stamp.read_text(encoding="utf-8").strip()
    h = hashlib.sha256()
    with source.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    digest = h.hexdigest()
    with contextlib.suppress(OSError):
        stamp.parent.mkdir(parents=True, exist_ok=True)
    part = stamp.with_suffix(f".{os.getpid()}")
    try:  # a time saver only: a full disk is said by the conversion
        part.write_text(digest + "\n", encoding="utf-8")
        part.replace(stamp)
    except OSError:
        part.unlink(missing_ok=True)
    return digest


def _read(source: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Call after `checked_header(source)`: never hand MLX an unchecked file."""
    import mlx.core as mx

    try:
        loaded: Any = mx.load(str(source), return_metadata=True)
        weights, meta = loaded
    except Exception as e:  # noqa: BLE001 - MLX's reader says what it could not read
        raise UserError(f"{source}: MLX cannot read it ({str(e).strip()})") from None
    return dict(weights), dict(meta)


_REQUIRED = object()


def _num(meta: dict[str, Any], key: str, default: Any = _REQUIRED) -> Any:
    if key not in meta and default is _REQUIRED:
        raise KeyError(key)
    v = meta.get(key, default)
    return v.item() if hasattr(v, "item") else v


def model_config(meta: dict[str, Any], source: Path) -> dict[str, Any]:
    arch = meta.get("general.architecture")
    if arch not in ARCHITECTURES:
        raise UserError(
            f"{source}: architecture {arch!r} is not supported; GGUF models of the Llama "
            "family (Llama, Mistral, SmolLM: architecture 'llama') are"
        )
    heads = int(_num(meta, f"{arch}.attention.head_count"))
    hidden = int(_num(meta, f"{arch}.embedding_length"))
    config: dict[str, Any] = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": hidden,
        "num_hidden_layers": int(_num(meta, f"{arch}.block_count")),
        "intermediate_size": int(_num(meta, f"{arch}.feed_forward_length")),
        "num_attention_heads": heads,
        "num_key_value_heads": int(_num(meta, f"{arch}.attention.head_count_kv", heads)),
        "head_dim": int(_num(meta, f"{arch}.rope.dimension_count", hidden // heads)),
        "rms_norm_eps": float(_num(meta, f"{arch}.attention.layer_norm_rms_epsilon", 1e-5)),
        "rope_theta": float(_num(meta, f"{arch}.rope.freq_base", 10000.0)),
        "max_position_embeddings": int(_num(meta, f"{arch}.context_length", 4096)),
        "vocab_size": len(meta["tokenizer.ggml.tokens"]),
        "attention_bias": False,
        "mlp_bias": False,
    }
    return config


def _hf_name(name: str) -> str | None:
    """`blk.3.attn_q.weight` -> `model.layers.3.self_attn.q_proj.weight`."""
    base, _, suffix = name.rpartition(".")
    if base in _TOP:
        return f"{_TOP[base]}.{suffix}"
    parts = base.split(".")
    if len(parts) == 3 and parts[0] == "blk" and parts[2] in _BLOCK:
        return f"model.layers.{parts[1]}.{_BLOCK[parts[2]]}.{suffix}"
    return None


def _unpermute(a: Any, n_head: int) -> Any:
    """Undo llama.cpp's `permute` of q/k rows (interleaved RoPE pairs back to
    halves); rows are output features, so weight, scales and biases alike."""
    rows = a.shape[0]
    return a.reshape(n_head, rows // n_head // 2, 2, *a.shape[1:]).swapaxes(1, 2).reshape(a.shape)


def _convert(source: Path, out: Path, dense: bool, digest: str) -> None:
    import mlx.core as mx

    from distill_tui.engine.models.gguf_tokenizer import write_tokenizer

    weights, meta = _read(source)
    config = model_config(meta, source)
    renamed: dict[str, Any] = {}
    for name, value in weights.items():
        base = name.rpartition(".")[0]
        if base in _SKIP:
            continue
        hf = _hf_name(name)
        if hf is None:
            raise UserError(f"{source}: unexpected tensor {name!r} for a Llama model")
        if ".q_proj." in hf:
            value = _unpermute(value, config["num_attention_heads"])
        elif ".k_proj." in hf:
            value = _unpermute(value, config["num_key_value_heads"])
        renamed[hf] = value
    config["tie_word_embeddings"] = "lm_head.weight" not in renamed
    quantized = _finish(renamed, dense)
    if quantized:
        config["quantization"] = {"group_size": GROUP_SIZE, "bits": quantized}
    config["torch_dtype"] = "float32" if dense else "float16"

    special = write_tokenizer(meta, out, str(source))
    eos = [special["eos_token_id"]]
    eot = _num(meta, "tokenizer.ggml.eot_token_id", None)
    if eot is not None and int(eot) not in eos:
        eos.append(int(eot))
    config["bos_token_id"] = special["bos_token_id"]
    config["eos_token_id"] = eos[0] if len(eos) == 1 else eos
    try:
        mx.save_safetensors(str(out / "model.safetensors"), renamed, metadata={"format": "mlx"})
    except RuntimeError as e:  # MLX: "[write] Unable to write N bytes to file."
        raise OSError(str(e)) from None
    _write_json(out / "config.json", config)
    _write_json(
        out / "generation_config.json",
        {"bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"]},
    )
    _write_json(
        out / "source.json",
        {
            "gguf": source.name,
            # Where it was converted from: the card and `ship --target gguf`
            # find the file (and its tokenizer metadata) through the folder.
            "path": str(source.resolve()),
            "size": source.stat().st_size,
            "sha256": digest,
            "name": meta.get("general.name"),
            "license": meta.get("general.license"),
            "organization": meta.get("general.organization"),
            "dense": dense,
            "converter_version": CONVERTER_VERSION,
        },
    )


def _remember_path(out: Path, source: Path) -> None:
    """Folders converted before `source.json` kept the file's path learn it
    when the file is loaded again; a read-only cache is left as it is."""
    info_path = out / "source.json"
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        if not isinstance(info, dict) or info.get("path"):
            return
        info |= {"path": str(source.resolve()), "size": source.stat().st_size}
        _write_json(info_path, info)
    except (OSError, ValueError):
        return


def _finish(weights: dict[str, Any], dense: bool) -> int | None:
    """Dequantize to fp32 (`dense`) or keep the triples; return the bits most
    quantized layers use (mlx-lm infers each layer's own from its shapes)."""
    import mlx.core as mx

    bits_seen: dict[int, int] = {}
    for name in [n for n in weights if n.endswith(".scales")]:
        prefix = name[: -len(".scales")]
        w, scales = weights[f"{prefix}.weight"], weights[name]
        bits = w.shape[-1] * 32 // (scales.shape[-1] * GROUP_SIZE)
        bits_seen[bits] = bits_seen.get(bits, 0) + 1
        if not dense:
            if not metal_available():  # fp16 scales make CPU quantized matmuls crawl
                for part in (name, f"{prefix}.biases"):
                    if part in weights:
                        weights[part] = weights[part].astype(mx.float32)
            continue
        biases = weights.pop(f"{prefix}.biases", None)
        weights[f"{prefix}.weight"] = mx.dequantize(
            w,
            scales.astype(mx.float32),
            None if biases is None else biases.astype(mx.float32),
            group_size=GROUP_SIZE,
            bits=bits,
        )
        del weights[name]
    for name, value in weights.items():
        if dense and value.dtype != mx.float32:
            weights[name] = value.astype(mx.float32)
        mx.eval(weights[name])
    if dense or not bits_seen:
        return None
    return max(bits_seen, key=lambda b: bits_seen[b])


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
