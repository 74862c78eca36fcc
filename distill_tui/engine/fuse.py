"""Fuse an adapter into its base model with mlx-lm's fuse code path, then check
the result: probe prompts go through the adapter and through the fused model
(freshly loaded from disk) and their greedy outputs are compared.

Fusing into a quantized base re-quantizes the fused weights, which can round
the adapter's small deltas away (reported against mlx-lm); when the probes
disagree the report says to fuse again de-quantized.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill_tui.core import model_card, paths, provenance
from distill_tui.core.checkpoints import Checkpoint
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.provenance import Provenance, write_json
from distill_tui.engine.chat import GenSettings, Message, apply_adapter, stream_reply
from distill_tui.engine.mlx_thread import MLXThread, mlx_thread

GGUF_NOTE = (
    "note: the fused model is an MLX folder for mlx_lm.load; mlx-lm's GGUF export "
    "supports only Llama, Mixtral and Mistral models, not Qwen"
)
CARD = "README.md"
PROVENANCE = "provenance.json"

# (stage, done, total): stages are "loading", "probing adapter", "fusing",
# "saving", "loading fused", "probing fused". Called on the MLX thread.
ProgressFn = Callable[[str, int, int], None]


@dataclass
class Probe:
    prompt: str  # the last user turn, for display
    adapter: str
    fused: str

    @property
    def agree(self) -> bool:
        return self.adapter == self.fused


@dataclass
class FuseReport:
    out: Path
    checkpoint: str
    quantized: bool  # the base model was quantized
    dequantized: bool
    probes: list[Probe] = field(default_factory=list)

    @property
    def agreeing(self) -> int:
        return sum(p.agree for p in self.probes)

    @property
    def ok(self) -> bool:
        return self.agreeing == len(self.probes)

    def summary(self) -> str:
        n = len(self.probes)
        line = f"fused {self.checkpoint} into {self.out}; probes agree {self.agreeing}/{n}"
        if self.ok:
            return line
        if self.quantized and not self.dequantized:
            return (
                line + ": re-quantizing lost part of the adapter's effect; "
                "fuse again de-quantized (--dequantize)"
            )
        return line + ": the fused weights round differently from the adapter"

    def to_json(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "checkpoint": self.checkpoint,
            "quantized": self.quantized,
            "dequantized": self.dequantized,
            "agree": self.agreeing,
            "probes": [
                {"prompt": p.prompt, "adapter": p.adapter, "fused": p.fused, "agree": p.agree}
                for p in self.probes
            ],
        }


def check_out(out: Path) -> None:
    """Refuse to write into a folder that already holds something."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out}: already exists and is not empty; choose a new folder")
    above = next((p for p in out.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise UserError(f"{above}: is a file, so {out.name} cannot be made inside it")


def fuse(
    checkpoint: Checkpoint,
    out: Path,
    probes: list[list[Message]],
    *,
    dequantize: bool = False,
    probe_tokens: int = 32,
    progress: ProgressFn | None = None,
    mlx: MLXThread | None = None,
    provenance: Provenance | None = None,
) -> FuseReport:
    """Fuse `checkpoint` into its base and write the model to `out`, holding
    the "fuse" lease (it loads a second copy of the model). With `provenance`,
    the folder gets our model card (README.md) and provenance.json instead of
    mlx-lm's bare card."""
    out = Path(out).expanduser().resolve()
    check_out(out)
    mlx = mlx or mlx_thread()
    with mlx.lease("fuse"):
        return mlx.call(
            _fuse, checkpoint, out, probes, dequantize, probe_tokens, progress, provenance
        )


def fuse_run(
    ws: Workspace,
    checkpoint: Checkpoint,
    out: Path,
    probes: list[list[Message]],
    *,
    prov: Provenance | None = None,
    **kwargs: Any,
) -> FuseReport:
    """`fuse` for a project's run, as both front ends call it: the fused folder
    gets the model card and provenance.json, and so does the run's folder
    (`runs/<id>/provenance.json`)."""
    prov = prov or provenance.gather(ws, checkpoint.run_id, checkpoint.name)
    report = fuse(checkpoint, out, probes, provenance=prov, **kwargs)
    write_json(prov, paths.run_dir(ws.root, checkpoint.run_id) / PROVENANCE)
    return report


def _local_path(model: str) -> Path:
    """A hub id as its local snapshot, so saving copies files instead of
    asking the hub for a model card; a GGUF file as its converted folder."""
    from distill_tui.engine.gguf import mlx_path

    p = Path(mlx_path(model)).expanduser()
    if p.exists():
        return p
    from mlx_lm.utils import hf_repo_to_path

    return hf_repo_to_path(model)


def _fuse(
    cp: Checkpoint,
    out: Path,
    probes: list[list[Message]],
    dequantize: bool,
    probe_tokens: int,
    progress: ProgressFn | None,
    provenance: Provenance | None = None,
) -> FuseReport:
    import mlx.core as mx
    from mlx.utils import tree_unflatten
    from mlx_lm.utils import dequantize_model, load, save

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    greedy = GenSettings(temperature=0.0, max_tokens=probe_tokens)
    report("loading", 0, 1)
    try:
        src = _local_path(cp.base_model)
        model, tokenizer, config = load(str(src), return_config=True)  # type: ignore[misc]
    except Exception as e:  # noqa: BLE001 - missing files, offline hub, bad config
        raise UserError(f"cannot load base model {cp.base_model}: {e}") from None
    apply_adapter(model, cp, cp.base_model)
    quantized = "quantization" in config or "quantization_config" in config
    report("loading", 1, 1)

    adapter_out = []
    for i, msgs in enumerate(probes):
        report("probing adapter", i, len(probes))
        adapter_out.append(stream_reply(model, tokenizer, msgs, greedy).text)

    layers = [(n, m) for n, m in model.named_modules() if hasattr(m, "fuse")]
    fused = []
    for i, (name, module) in enumerate(layers):
        report("fusing", i, len(layers))
        fused.append((name, module.fuse(dequantize=dequantize)))
    if fused:
        model.update_modules(tree_unflatten(fused))
    report("fusing", len(layers), len(layers))
    if dequantize:
        model = dequantize_model(model)
        config.pop("quantization", None)
        config.pop("quantization_config", None)

    report("saving", 0, 1)
    save(out, src, model, tokenizer, config, donate_model=False)
    if provenance is not None:
        (out / CARD).write_text(model_card.render(provenance, out.name), encoding="utf-8")
        write_json(provenance, out / PROVENANCE)
    del model
    mx.clear_cache()
    report("saving", 1, 1)

    report("loading fused", 0, 1)
    fused_model, fused_tok = load(str(out))[:2]
    result = FuseReport(out, cp.label, quantized, dequantize)
    for i, msgs in enumerate(probes):
        report("probing fused", i, len(probes))
        text = stream_reply(fused_model, fused_tok, msgs, greedy).text
        result.probes.append(Probe(msgs[-1]["content"], adapter_out[i], text))
    report("probing fused", len(probes), len(probes))
    return result
