"""`ship --target lmstudio`: links (not copies) where LM Studio looks.

LM Studio loads an MLX folder only with its MLX engine (Apple Silicon); on
Linux and Windows it loads GGUF files only (llama.cpp engine). So the fused
folder is linked for the one, and the GGUF (written and probed when missing)
for the other, and the report says which file is for which engine.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.ship.provenance import Provenance
from distill_tui.engine.chat.session import Message
from distill_tui.engine.ship.gguf_target import ensure_gguf
from distill_tui.engine.ship.report import ShipReport

PUBLISHER = "distill-tui"  # the folder LM Studio lists the links under


def lmstudio_dir() -> Path:
    """Where LM Studio looks for models (LMSTUDIO_MODELS_DIR overrides)."""
    env = os.environ.get("LMSTUDIO_MODELS_DIR")
    return Path(env).expanduser() if env else Path.home() / ".lmstudio" / "models"


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    if link.exists() or link.is_symlink():
        raise UserError(f"{link}: already exists; remove it or rename the fused folder")
    link.symlink_to(target.resolve(), target_is_directory=target.is_dir())


def ship_lmstudio(
    ws: Workspace,
    fused: Path,
    probes: list[list[Message]],
    prov: Provenance | None,
    stop: threading.Event | None = None,
) -> ShipReport:
    root = lmstudio_dir() / PUBLISHER
    mlx_link = root / fused.name
    _link(mlx_link, fused)
    gguf, gguf_report, gguf_line = ensure_gguf(ws, fused, probes, prov, stop)
    report = ShipReport("lmstudio", f"{mlx_link} -> {fused}")
    report.lines.append(f"MLX engine (Apple Silicon only): {mlx_link}, the fused model's own files")
    if gguf is None:
        report.lines.append(
            "llama.cpp engine (Linux, Windows, any Mac): no GGUF, so LM Studio there cannot "
            f"load it: {gguf_line}"
        )
        return report
    gguf_link = root / f"{fused.name}-GGUF" / gguf.name
    _link(gguf_link, gguf)
    report.where += f"; {gguf_link} -> {gguf}"
    report.lines.append(f"llama.cpp engine (Linux, Windows, any Mac): {gguf_link}; {gguf_line}")
    if gguf_report is not None:
        report.probes, report.agree, report.ties = (
            gguf_report.probes,
            gguf_report.agree,
            gguf_report.ties,
        )
    return report
