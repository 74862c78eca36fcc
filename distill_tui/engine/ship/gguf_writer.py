"""Write a fused Llama-architecture student as a GGUF file for llama.cpp,
Ollama and LM Studio, with llama.cpp's own writer (the `gguf` package).

mlx-lm's `--export-gguf` is not used: on a byte-level BPE student it writes a
SentencePiece tokenizer, no merges, no chat template, and an F16 file type over
F32 tensors. Here the tokenizer metadata and chat template are copied from the
student's own GGUF (the demo's SmolLM2, any GGUF student), the architecture
keys too (fusing a LoRA adapter changes no shape), llama.cpp's q/k row
permutation is re-applied, norms stay F32 as llama.cpp writes them, and
`general.*` carries the provenance (base model, licence). Call on the MLX
thread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from distill_tui.core.errors import UserError
from distill_tui.core.ship.provenance import Provenance

QUANTS = ("f16", "q8_0")
# llama.cpp's file types (llama_ftype): mostly F16, mostly Q8_0.
_FILE_TYPE = {"f16": 1, "q8_0": 7}
_TOP = {"model.embed_tokens": "token_embd", "model.norm": "output_norm", "lm_head": "output"}
_BLOCK = {
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
# What the GGUF route supports; for other architectures, the route that works.
OTHER_ROUTES = (
    "GGUF is written here only for Llama-architecture students (SmolLM2, Llama, "
    "Mistral); for {arch}, convert the fused folder with llama.cpp's "
    "convert_hf_to_gguf.py, or use Ollama's own converter (ship --target ollama)"
)


def gguf_name(hf: str) -> str | None:
    """A Hugging Face (mlx-lm) weight name as llama.cpp names it."""
    base, _, suffix = hf.rpartition(".")
    if base in _TOP:
        return f"{_TOP[base]}.{suffix}"
    parts = base.split(".", 3)
    if len(parts) == 4 and parts[:2] == ["model", "layers"] and parts[3] in _BLOCK:
        return f"blk.{parts[2]}.{_BLOCK[parts[3]]}.{suffix}"
    return None


def permute(a: Any, n_head: int) -> Any:
    """llama.cpp's `permute` of q/k rows (halves to interleaved RoPE pairs);
    the inverse of `engine.gguf._unpermute`."""
    rows = a.shape[0]
    return a.reshape(n_head, 2, rows // n_head // 2, *a.shape[1:]).swapaxes(1, 2).reshape(a.shape)


def _copy_field(writer: Any, key: str, field: Any) -> None:
    import gguf

    kind = field.types[0]
    value = field.contents()
    if kind == gguf.GGUFValueType.ARRAY:
        writer.add_key_value(key, value, kind, sub_type=field.types[-1])
    else:
        writer.add_key_value(key, value, kind)


def _dense_weights(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fused model's weights as float32 numpy arrays, de-quantized when
    the folder is quantized (a fuse on a Mac), and its config."""
    import mlx.core as mx
    import numpy as np
    from mlx.utils import tree_flatten
    from mlx_lm.utils import dequantize_model, load

    model, _, config = load(str(folder), return_config=True)  # type: ignore[misc]
    if "quantization" in config or "quantization_config" in config:
        model = dequantize_model(model)
    flat = cast(list[tuple[str, Any]], tree_flatten(model.parameters()))
    weights = {k: np.array(v.astype(mx.float32)) for k, v in flat}
    return weights, config


def write_gguf(
    fused: Path, source_gguf: Path, out: Path, quant: str, prov: Provenance | None = None
) -> Path:
    """`fused` (an mlx-lm folder) as a GGUF file `out`, with `source_gguf`'s
    tokenizer and architecture metadata. Written to a temporary name and
    renamed into place when complete."""
    import gguf
    import numpy as np

    if quant not in QUANTS:
        raise UserError(f"unknown GGUF quantization {quant!r} (use {' or '.join(QUANTS)})")
    config = json.loads((fused / "config.json").read_text(encoding="utf-8"))
    arch = config.get("model_type", "?")
    if arch not in ("llama", "mistral"):
        raise UserError(OTHER_ROUTES.format(arch=arch))
    try:
        reader = gguf.GGUFReader(str(source_gguf))
    except (OSError, ValueError) as e:
        raise UserError(f"{source_gguf}: cannot read its GGUF metadata ({e})") from None
    src_arch = reader.fields["general.architecture"].contents()
    if src_arch != "llama":
        raise UserError(OTHER_ROUTES.format(arch=src_arch))

    weights, _ = _dense_weights(fused)
    tmp = out.with_name(out.name + ".partial")
    try:
        _write(gguf, np, reader, weights, config, fused, tmp, out, quant, prov)
        tmp.replace(out)
    except OSError as e:
        raise UserError(f"{out}: cannot write the GGUF file ({e.strerror or e})") from None
    finally:
        # Whatever stopped it (a full disk, `out` a folder, Ctrl-C): no 270 MB
        # half-file stays behind.
        tmp.unlink(missing_ok=True)
    return out


def _write(
    gguf: Any,
    np: Any,
    reader: Any,
    weights: dict[str, Any],
    config: dict[str, Any],
    fused: Path,
    tmp: Path,
    out: Path,
    quant: str,
    prov: Provenance | None,
) -> None:
    writer = gguf.GGUFWriter(str(tmp), "llama")
    for key, field in reader.fields.items():
        if key.startswith(("llama.", "tokenizer.")):
            _copy_field(writer, key, field)
    writer.add_name(out.stem)
    writer.add_type("model")
    writer.add_file_type(_FILE_TYPE[quant])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    if prov is not None:
        if prov.student_license != "unknown":
            writer.add_license("other" if prov.passes_on else prov.student_license)
        if prov.base_model:
            org, _, base_name = prov.base_model.rpartition("/")
            writer.add_base_model_count(1)
            writer.add_base_model_name(0, base_name)
            if org:
                writer.add_base_model_organization(0, org)
                writer.add_base_model_repo_url(0, f"https://huggingface.co/{prov.base_model}")
        writer.add_tags(["distillation", "distill-tui"])

    n_head, n_kv = config["num_attention_heads"], config["num_key_value_heads"]
    qtype = gguf.GGMLQuantizationType.F16 if quant == "f16" else gguf.GGMLQuantizationType.Q8_0
    for hf, value in weights.items():
        name = gguf_name(hf)
        if name is None:
            raise UserError(f"{fused}: unexpected weight {hf!r} for a Llama model")
        if ".attn_q." in name:
            value = permute(value, n_head)
        elif ".attn_k." in name:
            value = permute(value, n_kv)
        if value.ndim == 1:  # norms: F32, as llama.cpp writes them
            writer.add_tensor(name, value.astype(np.float32))
        elif quant == "f16":
            writer.add_tensor(name, value.astype(np.float16))
        else:
            writer.add_tensor(name, gguf.quants.quantize(value, qtype), raw_dtype=qtype)
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
