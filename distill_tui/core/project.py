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
    def open(cls, root: str | Path, *, allow_damaged: bool = False) -> Workspace:
        """Open a project. A damaged store raises, unless `allow_damaged`
        (salvaging rows): then it is open for reading only."""
        root = Path(root).expanduser().resolve()
        if not paths.is_project(root):
            raise UserError(f"{root}: not a distill-tui project (run `distill-tui init {root}`)")
        settings = cfg.load(paths.config_path(root))
        return cls(root, settings, Store(paths.store_path(root), allow_damaged=allow_damaged))

    @classmethod
    def create(cls, root: str | Path, settings: cfg.Project | None = None) -> Workspace:
        root = Path(root).expanduser().resolve()
        config = paths.config_path(root)
        if paths.is_project(root):
            raise UserError(f"{root}: already a project ({paths.CONFIG_NAME} exists)")
        if config.exists() or config.is_symlink():
            raise UserError(f"{config}: exists and is not a file; move it away first")
        if root.exists() and not root.is_dir():
            raise UserError(f"{root}: exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)
        settings = settings or cfg.Project()
        if settings.task.name == "my-task":
            settings.task.name = root.name or "my-task"
        # Open the store first: an unrelated or damaged distill.db is refused
        # before a distill.toml would make the folder look like a project.
        store = Store(paths.store_path(root))
        cfg.save(settings, config)
        return cls(root, settings, store)

    def save_settings(self) -> None:
        cfg.save(self.settings, paths.config_path(self.root))

    def reload_settings(self) -> None:
        self.settings = cfg.load(paths.config_path(self.root))
