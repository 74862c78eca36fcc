"""Where a fused model or a shipped file may be written: never over the
project's own files. A GGUF written to `PROJECT/distill.db` replaced every
row and decision; one written to `PROJECT/models/<student>.gguf` replaced
the base student with the fine-tuned model. `fuse --out`, `ship --out` and
the screens that do the same call `refuse_project_path` before writing."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from distill_tui.core import paths
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError


def protected(root: Path) -> list[tuple[str, Path]]:
    """(what, path) of everything in a project that an output must not
    touch: the store (with its journal files), the settings, and the
    models, data and runs folders."""
    store = paths.store_path(root)
    return [
        ("store", store),
        ("store", store.with_name(store.name + "-wal")),
        ("store", store.with_name(store.name + "-shm")),
        ("settings", paths.config_path(root)),
        ("models folder", paths.models_dir(root)),
        ("data folder", paths.data_dir(root)),
        ("runs folder", paths.runs_dir(root)),
    ]


def refuse_project_path(
    root: Path, out: Path, what: str, also: Iterable[tuple[str, Path]] = ()
) -> None:
    """Raise UserError when `out` is, or is inside, one of the project's own
    files or folders, or one of `also` (the student model, wherever it is).
    Links are followed: a link into models/ is models/."""
    target = Path(out).expanduser().resolve()
    for name, p in [*protected(Path(root)), *also]:
        own = Path(p).expanduser().resolve()
        if target == own or own in target.parents:
            where = "is" if target == own else "is inside"
            raise UserError(
                f"{shown(str(out))}: {where} the project's {name} ({shown(str(own))}); "
                f"write the {what} somewhere else"
            )
