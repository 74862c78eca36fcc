"""A project folder: its settings (`distill.toml`) and its store (`distill.db`).

The settings file may be edited in an editor while the app runs. The
workspace remembers what the file held when it last read or wrote it, so an
outside edit is seen (`settings_changed_on_disk`), picked up
(`reload_settings`), and never overwritten: a save merges this process's
changes into the file's newer content key by key, and refuses, loading the
file's values, when both changed the same key or the file no longer parses.
A read-only file is never written (a rename would replace it anyway), and a
deleted one is written again only when the caller says so (`recreate`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill_tui.core import config as cfg
from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.store import Store

Flat = dict[tuple[str, ...], Any]
_MISSING = object()


class SettingsConflict(UserError):
    """distill.toml changed outside this process in a way a save cannot merge."""


class SettingsReadOnly(UserError):
    """distill.toml is read-only: a save would have replaced it."""


class SettingsDeleted(UserError):
    """distill.toml was deleted since it was read: writing it again is asked first."""


def _read_only(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    # The mode bit too: root may write anything, but a 444 file means "keep".
    return not (mode & stat.S_IWUSR) or not os.access(path, os.W_OK)


@dataclass
class Workspace:
    root: Path
    settings: cfg.Project
    store: Store
    # The digest of distill.toml's text as last read or written here, and the
    # settings it held then: the base of the merge in `save_settings`.
    _disk_digest: str = field(default="", repr=False, compare=False)
    _disk_settings: Flat = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def open(cls, root: str | Path, *, allow_damaged: bool = False) -> Workspace:
        """Open a project. A damaged store raises, unless `allow_damaged`
        (salvaging rows): then it is open for reading only."""
        root = Path(root).expanduser().resolve()
        if not paths.is_project(root):
            raise UserError(f"{root}: not a distill-tui project (run `distill-tui init {root}`)")
        ws = cls(root, cfg.Project(), Store(paths.store_path(root), allow_damaged=allow_damaged))
        ws.settings = ws._read()[1]
        return ws

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
        ws = cls(root, settings, Store(paths.store_path(root)))
        ws._write()
        return ws

    @property
    def settings_path(self) -> Path:
        return paths.config_path(self.root)

    # -- the file on disk ------------------------------------------------------------
    def _read(self) -> tuple[str, cfg.Project]:
        """Read and parse the file, and remember it as the last seen state."""
        path = self.settings_path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise cfg.ConfigError(
                f"{path}: no project file here (run `distill-tui init`)"
            ) from None
        except (OSError, UnicodeDecodeError) as e:
            raise cfg.ConfigError(f"{path}: cannot read: {e}") from None
        settings = cfg.parse(text, source=str(path))
        self._remember(text, settings)
        return text, settings

    def _flat_settings(self) -> Flat:
        return _flat(self.settings.to_dict())

    def _remember(self, text: str, settings: cfg.Project) -> None:
        self._disk_digest = _digest(text)
        self._disk_settings = _flat(settings.to_dict())  # a copy, not a view

    def _write(self) -> None:
        cfg.save(self.settings, self.settings_path)
        self._remember(cfg.dumps(self.settings), self.settings)

    def settings_deleted(self) -> bool:
        """True when distill.toml, read or written here, is gone now."""
        path = self.settings_path
        return bool(self._disk_digest) and not (path.exists() or path.is_symlink())

    def settings_changed_on_disk(self) -> bool:
        """True when distill.toml no longer holds what this process last read
        or wrote (an editor, another terminal). A missing file is no change:
        the next save says so (SettingsDeleted)."""
        try:
            text = self.settings_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        return _digest(text) != self._disk_digest

    def reload_settings(self) -> list[str]:
        """Take the file's settings (in place: screens holding `settings` see
        them); returns the keys whose values changed, as `section.key`.
        A file that does not parse raises ConfigError and changes nothing."""
        before = self._flat_settings()
        self._adopt(self._read()[1])
        after = self._flat_settings()
        return sorted(".".join(p) for p in {**before, **after} if before.get(p) != after.get(p))

    def _adopt(self, new: cfg.Project) -> None:
        for name in self.settings.field_names():
            setattr(self.settings, name, getattr(new, name))

    def save_settings(self, *, recreate: bool = False) -> None:
        """Write the settings, keeping any edit made to the file outside the
        app since it was last read: those are merged in key by key (and taken
        into `settings`). When the same key changed in both places, or the
        file no longer parses, nothing is written and SettingsConflict says
        so; `reload_settings` then takes the file's values. A read-only file
        raises SettingsReadOnly, a deleted one SettingsDeleted unless
        `recreate` (the user said to write it again); neither is written."""
        ours = self._flat_settings()
        if ours == self._disk_settings:
            return  # nothing new here: leave the file (its comments, its layout) alone
        path = self.settings_path
        if self.settings_deleted():
            if not recreate:
                raise SettingsDeleted(
                    f"{path.name} was deleted: this change is not saved until it is written again"
                )
            self._write()
            return
        if _read_only(path):
            raise SettingsReadOnly(
                f"{path.name} is read-only: this change is not saved (make the file"
                " writable to save changes)"
            )
        if self.settings_changed_on_disk():
            text = path.read_text(encoding="utf-8")
            try:
                theirs = cfg.parse(text, source=str(path))
            except cfg.ConfigError as e:
                raise SettingsConflict(
                    f"{e}. {path.name} was edited outside the app and has this error now;"
                    " it was not overwritten: fix it there"
                ) from None
            merged, conflicts = _merge(self._disk_settings, ours, _flat(theirs.to_dict()))
            if conflicts:
                # Nothing is taken in here: `reload_settings` (the app calls it
                # when it sees the file changed) loads the file's values and
                # names the keys, so the screens show them.
                raise SettingsConflict(
                    f"{path.name} was changed outside the app ({', '.join(conflicts)}):"
                    " your change here was not saved; the file's values are loaded"
                )
            try:
                self._adopt(cfg.Project.parse(_unflat(merged)))
            except cfg.Invalid as e:
                raise SettingsConflict(
                    f"{path.name} was changed outside the app and your change here does not"
                    f" fit with it ({e.first.where}: {e.first.msg}): not saved"
                ) from None
            self._remember(text, theirs)  # the base is now the file as it was read
            ours = merged
            if ours == self._disk_settings:
                return  # the file already says everything
        self._write()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _flat(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> Flat:
    """Leaves by path; lists (few-shot examples) are leaves."""
    out: Flat = {}
    for k, v in data.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, (*prefix, k)))
        else:
            out[(*prefix, k)] = v
    return out


def _unflat(flat: Flat) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, v in flat.items():
        node = out
        for k in path[:-1]:
            node = node.setdefault(k, {})
        node[path[-1]] = v
    return out


def _merge(base: Flat, ours: Flat, theirs: Flat) -> tuple[Flat, list[str]]:
    """Three-way merge of leaves: a key changed on one side takes that side's
    value; changed on both to different values is a conflict."""
    merged: Flat = {}
    conflicts: list[str] = []
    for path in {**base, **ours, **theirs}:
        b, o, t = (d.get(path, _MISSING) for d in (base, ours, theirs))
        if o == b or o == t:
            value = t
        elif t == b:
            value = o
        else:
            conflicts.append(".".join(path))
            value = t
        if value is not _MISSING:
            merged[path] = value
    return merged, sorted(conflicts)
