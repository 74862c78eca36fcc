"""Where a GGUF student came from, through its converted folder.

A student may be the GGUF file itself, or the folder `engine.models.gguf`
converted it into (the Task screen's "Models here" lists those folders). The
folder's `source.json` names the file, its path, licence and organization, so
the model card, `provenance.json` and `ship --target gguf` (which copies the
tokenizer metadata from the file) know the origin either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from distill_tui.core import paths

SOURCE_FILE = "source.json"


def converted_source(folder: Path) -> dict[str, Any] | None:
    """A converted folder's `source.json`, or None for any other folder."""
    try:
        data = json.loads((Path(folder) / SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("gguf"), str) else None


def origin_gguf(root: Path, model: str) -> Path | None:
    """The GGUF file of a student setting: the file itself, or the one a
    converted folder was made from when it is still on this machine (at the
    path `source.json` recorded, else by name in the project's models/)."""
    resolved = Path(paths.resolve_model(root, model))
    if paths.is_gguf(str(resolved)):
        return resolved if resolved.is_file() else None
    info = converted_source(resolved) if resolved.is_dir() else None
    if info is None:
        return None
    size = info.get("size")
    candidates = [info.get("path"), str(paths.models_dir(root) / Path(info["gguf"]).name)]
    for c in candidates:
        if not isinstance(c, str) or not c:
            continue
        p = Path(c)
        try:
            if p.is_file() and (not isinstance(size, int) or p.stat().st_size == size):
                return p
        except OSError:
            continue
    return None
