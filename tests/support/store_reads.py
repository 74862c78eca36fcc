"""What a terminal test reads from the project's store while the app runs in
another process: a fresh connection each time, closed at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distill_tui.core.store import Store
from distill_tui.core.train import runs as runs_db


def runs(root: Path) -> list[runs_db.Run]:
    s = Store(root / "distill.db")
    try:
        return runs_db.list_runs(s)
    finally:
        s.close()


def counts(root: Path) -> dict[str, Any]:
    s = Store(root / "distill.db")
    try:
        return s.counts()
    finally:
        s.close()
