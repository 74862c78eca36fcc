"""`ship --target gguf`: the fused student as a GGUF file (engine.ship.gguf_writer),
reloaded through the project's own GGUF loader into a hidden `.check` folder
beside it and probed against the fused MLX model. The Ollama and LM Studio
targets use the same file (`ensure_gguf`).

Nothing half-made stays: the writer renames its `.partial` into place only
when complete and removes it on any failure; the `.check` folder is removed
whatever happens, SIGTERM included (the command turns it into `stop`, looked
at between stages).
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from distill_tui.core import gguf_origin, paths
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.ship.outputs import refuse_project_path
from distill_tui.core.ship.provenance import Provenance
from distill_tui.engine.chat.fuse import base_model_files
from distill_tui.engine.chat.session import Message
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.ship import probe, task_check
from distill_tui.engine.ship.report import ShipReport
from distill_tui.engine.ship.task_check import TaskRows


class ShipStopped(UserError):
    """The ship was asked to stop (SIGTERM, Ctrl-C) between stages."""


def student_of(ws: Workspace, prov: Provenance | None) -> str:
    """The model the fused student was trained from: the run's, as its
    provenance says, else the project's student setting."""
    return prov.student if prov is not None and prov.student else ws.settings.student.model


def gguf_path(ws: Workspace, fused: Path, quant: str, out: Path | None, student: str) -> Path:
    """Where the GGUF goes: `out` (inside it, under the default name, when
    it is a folder), else beside the fused folder. Never the project's
    store, models, data or runs, the student's files or the fused folder."""
    default = f"{fused.name}-{quant}.gguf"
    path = (out or fused.with_name(default)).expanduser()
    if path.is_dir():
        path = path / default
    also = [("fused model", fused), *base_model_files(ws, student)]
    refuse_project_path(ws.root, path, "GGUF file", also)
    if not path.parent.is_dir():
        raise UserError(f"{shown(str(path.parent))}: no such folder")
    return path.resolve()


def source_gguf(ws: Workspace, student: str) -> Path:
    """The student's GGUF file, whose tokenizer metadata the new file copies:
    the student itself, or the file its converted folder came from."""
    from distill_tui.engine.ship.gguf_writer import OTHER_ROUTES

    found = gguf_origin.origin_gguf(ws.root, student)
    if found is not None:
        return found
    resolved = Path(paths.resolve_model(ws.root, student))
    info = gguf_origin.converted_source(resolved) if resolved.is_dir() else None
    if info is not None:
        raise UserError(
            f"{shown(student)}: converted from {shown(info['gguf'])}, which is not on this "
            "machine any more; set the student to that GGUF file to ship a GGUF"
        )
    raise UserError(
        OTHER_ROUTES.format(arch="a student that is not a GGUF file")
        + " (the tokenizer metadata is copied from the student's own GGUF)"
    )


def _stopped(stop: threading.Event | None, out: Path, stage: str) -> None:
    if stop is not None and stop.is_set():
        raise ShipStopped(f"ship stopped by request {stage}; {out}")


def ship_gguf(
    ws: Workspace,
    fused: Path,
    out: Path,
    quant: str,
    probes: list[list[Message]],
    prov: Provenance | None,
    stop: threading.Event | None = None,
    task: TaskRows | None = None,
) -> ShipReport:
    """Write, reload and probe the GGUF; with `task`, the reloaded file
    also answers the task's held-out rows beside the adapter."""
    from distill_tui.engine.models.gguf import convert
    from distill_tui.engine.ship.gguf_writer import write_gguf

    source = source_gguf(ws, student_of(ws, prov))
    check = out.parent / f".{out.name}.check"
    mlx = mlx_thread()
    with mlx.lease("ship"):
        try:
            mlx.call(write_gguf, fused, source, out, quant, prov)
            _stopped(stop, out, "before the reload check: it is written, not checked")
            back = mlx.call(convert, out, cache=check)
            _stopped(stop, out, "before the probes: it is written, not checked")
            shipped = probe.greedy_answers(back, probes)
            reference = probe.greedy_answers(fused, probes)
            result = probe.compare(fused, shipped, reference, probes, mlx=mlx)
            on_task = None
            if task is not None:
                _stopped(stop, out, "before the task check: it is written and probed")
                on_task = task_check.score(task, back, task_check.GGUF, mlx)
        finally:
            shutil.rmtree(check, ignore_errors=True)
    return ShipReport(
        "gguf",
        str(out),
        [f"llama.cpp: llama-cli -m {out}", f"Ollama: a Modelfile with `FROM {out}`"],
        result.probes,
        result.agree,
        result.ties,
        on_task,
    )


def ensure_gguf(
    ws: Workspace,
    fused: Path,
    probes: list[list[Message]],
    prov: Provenance | None,
    stop: threading.Event | None = None,
    quant: str = "f16",
    task: TaskRows | None = None,
) -> tuple[Path | None, ShipReport | None, str]:
    """The GGUF beside the fused folder for the Ollama and LM Studio
    targets: (path, its ship report when written now, a line saying what
    was done). Written and probed when missing; (None, None, why) when this
    student cannot be written as GGUF here."""
    student = student_of(ws, prov)
    try:
        source_gguf(ws, student)
        from distill_tui.engine.chat.fuse import model_type

        if model_type(str(fused)) not in ("llama", "mistral"):
            raise UserError(f"a {model_type(str(fused))} model is not written as GGUF here")
    except UserError as e:
        return None, None, str(e)
    path = gguf_path(ws, fused, quant, None, student)
    if path.is_file() and path.stat().st_mtime >= (fused / "config.json").stat().st_mtime:
        return path, None, f"{path}: the GGUF written before (`ship --target gguf` probes it)"
    report = ship_gguf(ws, fused, path, quant, probes, prov, stop, task)
    return path, report, report.summary()
