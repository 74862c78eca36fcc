"""A project folder: its settings (`distill.toml`) and its store (`distill.db`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from distill_tui.core import config as cfg
from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.store import Store


@dataclass
class Workspace:
    root: Path
    settings: cfg.Project
    store: Store

    @classmethod
    def open(cls, root: str | Path) -> Workspace:
        root = Path(root).expanduser().resolve()
        if not paths.is_project(root):
            raise UserError(f"{root}: not a distill-tui project (run `distill-tui init {root}`)")
        settings = cfg.load(paths.config_path(root))
        return cls(root, settings, Store(paths.store_path(root)))

    @classmethod
    def create(cls, root: str | Path, settings: cfg.Project | None = None) -> Workspace:
        root = Path(root).expanduser().resolve()
        if paths.is_project(root):
            raise UserError(f"{root}: already a project ({paths.CONFIG_NAME} exists)")
        root.mkdir(parents=True, exist_ok=True)
        settings = settings or cfg.Project()
        if settings.task.name == "my-task":
            settings.task.name = root.name or "my-task"
        cfg.save(settings, paths.config_path(root))
        return cls(root, settings, Store(paths.store_path(root)))

    def save_settings(self) -> None:
        cfg.save(self.settings, paths.config_path(self.root))

    def reload_settings(self) -> None:
        self.settings = cfg.load(paths.config_path(self.root))
