"""Fuse an adapter into its base model with mlx-lm's fuse code path, then check
the result: probe prompts go through the adapter and through the fused model
(freshly loaded from disk) and their greedy outputs are compared.

Fusing into a quantized base re-quantizes the fused weights, which can round
the adapter's small deltas away (reported against mlx-lm); when the probes
disagree the report says to fuse again de-quantized.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from distill_tui.core import gguf_header, paths, staging
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.ship import model_card, provenance
from distill_tui.core.ship.outputs import refuse_project_path
from distill_tui.core.ship.provenance import Provenance, write_json
from distill_tui.core.train.checkpoints import Checkpoint
from distill_tui.engine.chat.session import GenSettings, Message, apply_adapter, stream_reply
from distill_tui.engine.mlx_thread import MLXThread, mlx_thread


def model_type(model: str) -> str | None:
    """The student's model type without loading it: a GGUF file's
    architecture, or config.json's `model_type` of a local folder or a
    cached hub id; None when it cannot be known."""
    if paths.is_gguf(model):
        try:
            for key, value in gguf_header.items(Path(model).expanduser()):
                if key == "general.architecture":
                    return str(value)
        except (OSError, ValueError):
            return None
        return None
    folder = paths.local_model_dir(model)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8")) if folder else {}
    except (OSError, ValueError):
        return None
    kind = config.get("model_type") if isinstance(config, dict) else None
    return kind if isinstance(kind, str) else None


def gguf_note(base_model: str) -> str:
    """What is true about GGUF for this student's fused model. mlx-lm's own
    `--export-gguf` is not suggested: on a byte-level BPE student it writes a
    SentencePiece tokenizer type, no merges and no chat template."""
    start = "note: the fused model is an MLX folder for mlx_lm.load"
    kind = model_type(base_model)
    if kind == "llama" and paths.is_gguf(base_model):
        return (
            f"{start}; `distill-tui ship --target gguf` writes this llama model as a GGUF "
            "file (F16 or Q8_0) with its own tokenizer and chat template"
        )
    route = (
        "llama.cpp's convert_hf_to_gguf.py converts the fused folder, "
        "and `distill-tui ship --target ollama` hands it to Ollama"
    )
    if kind is None:
        return f"{start}; for a GGUF, {route}"
    return f"{start}; for a GGUF of this {kind} model, {route}"


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

    def agreement(self) -> str:
        return f"probes agree {self.agreeing}/{len(self.probes)}"

    def summary(self) -> str:
        line = f"fused {self.checkpoint} into {self.out}; {self.agreement()}"
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


def check_fuse_out(ws: Workspace, cp: Checkpoint, out: Path) -> None:
    """What `fuse_run` refuses before it loads anything, for the command to
    say first: a folder that holds something, or one inside the project's
    store, models, data or runs, or the base model's own files."""
    refuse_project_path(ws.root, out, "fused model", base_model_files(ws, cp.base_model))
    check_out(out)


def base_model_files(ws: Workspace, model: str) -> list[tuple[str, Path]]:
    """The base model's files, when it is on disk here (a hub id is a name,
    and its cache is not the user's to point at), for `refuse_project_path`."""
    p = Path(paths.resolve_model(ws.root, model))
    return [("base model", p)] if p.exists() else []


def fuse(
    checkpoint: Checkpoint,
    out: Path,
    probes: list[list[Message]],
    *,
    dequantize: bool = False,
    probe_tokens: int = 32,
    progress: ProgressFn | None = None,
    mlx: MLXThread | None = None,
    stop: threading.Event | None = None,
    provenance: Provenance | None = None,
) -> FuseReport:
    """Fuse `checkpoint` into its base and write the model to `out`, holding
    the "fuse" lease (it loads a second copy of the model). `stop` (SIGTERM,
    a quit) is looked at between stages: FuseStopped is raised and whatever
    was written to `out` is removed, so no half-made model stays. With
    `provenance`, the folder gets our model card (README.md) and
    provenance.json instead of mlx-lm's bare card."""
    out = Path(out).expanduser().resolve()
    check_out(out)
    existed = out.exists()
    mlx = mlx or mlx_thread()
    with mlx.lease("fuse"):
        try:
            return mlx.call(
                _fuse, checkpoint, out, probes, dequantize, probe_tokens, progress, stop, provenance
            )
        except FuseStopped:
            _remove_written(out, existed)
            raise


class FuseStopped(UserError):
    """The fuse was asked to stop; nothing of it was kept."""


def _remove_written(out: Path, existed: bool) -> None:
    # check_out made sure `out` was missing or empty: all in it is ours.
    if not out.is_dir():
        return
    if existed:
        for p in out.iterdir():
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    else:
        shutil.rmtree(out, ignore_errors=True)


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
    out = Path(out).expanduser().resolve()
    check_fuse_out(ws, checkpoint, out)
    prov = prov or provenance.gather(ws, checkpoint.run_id, checkpoint.name)
    report = fuse(checkpoint, out, probes, provenance=prov, **kwargs)
    write_json(prov, paths.run_dir(ws.root, checkpoint.run_id) / PROVENANCE)
    return report


def _save_model(
    folder: Path,
    *,
    src: Path,
    model: Any,
    tokenizer: Any,
    config: dict,
    prov: Provenance | None,
    name: str,
) -> None:
    """mlx-lm's save, then our model card (for the model called `name`; the
    folder may be a staging one) in place of its bare one."""
    from mlx_lm.utils import save

    save(folder, src, model, tokenizer, config, donate_model=False)
    if prov is not None:
        (folder / CARD).write_text(model_card.render(prov, name), encoding="utf-8")
        write_json(prov, folder / PROVENANCE)


def _local_path(model: str) -> Path:
    """A hub id as its local snapshot, so saving copies files instead of
    asking the hub for a model card; a GGUF file as its converted folder."""
    from distill_tui.engine.models.gguf import mlx_path

    p = Path(mlx_path(model)).expanduser()
    if p.exists():
        return p
    from mlx_lm.utils import hf_repo_to_path

    return hf_repo_to_path(model)


def _save_whole(out: Path, save: Callable[[Path], None]) -> None:
    """Write the model into a staging sibling and rename it into place, so
    `out` never holds half a model (a kill -9 mid-write leaves only the
    sibling, which the next fuse removes)."""
    staging.clean_stale(out.parent, out.name)
    tmp = staging.staging_dir(out)
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        save(tmp)
        try:
            tmp.rename(out)  # over an empty folder too
        except OSError:
            raise UserError(
                f"{out}: already exists and is not empty; choose a new folder"
            ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fuse(
    cp: Checkpoint,
    out: Path,
    probes: list[list[Message]],
    dequantize: bool,
    probe_tokens: int,
    progress: ProgressFn | None,
    stop: threading.Event | None = None,
    prov: Provenance | None = None,
) -> FuseReport:
    import mlx.core as mx
    from mlx.utils import tree_unflatten
    from mlx_lm.utils import dequantize_model, load

    def report(stage: str, done: int, total: int) -> None:
        if stop is not None and stop.is_set():
            raise FuseStopped(f"fuse stopped by request; nothing was kept in {out}")
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

    write = partial(
        _save_model,
        src=src,
        model=model,
        tokenizer=tokenizer,
        config=config,
        prov=prov,
        name=out.name,
    )
    _save_whole(out, write)
    del write
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
