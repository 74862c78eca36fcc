"""Themes from `themes/*.toml` turned into `textual.theme.Theme` objects, and
the user's remembered choice."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

import tomli_w
from textual.theme import Theme

from distill_tui.core import paths

DEFAULT_THEME = "distill-dark"
# App-specific colours every theme must define, so built-in Textual themes get
# sensible values too.
DEFAULT_VARIABLES = {
    "accepted": "#4EBF71",
    "rejected": "#ba3c5b",
    "unreviewed": "#888888",
    "plot-train": "#0178D4",
    "plot-val": "#ffa62b",
}

_FIELDS = {f.name for f in fields(Theme)}


def load_theme_file(path: Path) -> Theme:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"{path}: unknown theme key(s): {', '.join(sorted(unknown))}")
    data.setdefault("name", path.stem)
    data["variables"] = {**DEFAULT_VARIABLES, **data.get("variables", {})}
    return Theme(**data)


def load_themes() -> tuple[list[Theme], list[str]]:
    """All themes in the theme folders, and a message for each bad file."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for folder in paths.themes_dirs():
        for f in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(f)
            except (ValueError, TypeError, tomllib.TOMLDecodeError) as e:
                problems.append(f"theme {f.name}: {e}")
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems


def saved_theme() -> str | None:
    try:
        data = tomllib.loads(paths.user_settings_path().read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    theme = data.get("theme")
    return theme if isinstance(theme, str) else None


def save_theme(name: str) -> None:
    path = paths.user_settings_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        data = {}
    data["theme"] = name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    tmp.replace(path)
