"""The `[keys]` table of distill.toml: binding id -> key(s), handed to
Textual's keymap so a user can move a key the terminal or tmux takes (tmux's
prefix is ctrl+b, Chat's compare key) without touching the code.

Every key of the app has an id (a test checks it); `declared_bindings` lists
them all, for the check that names a typo'd id instead of ignoring it, and
for the test that every binding is pressed in a real terminal."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.binding import Binding


def declared_bindings() -> dict[str, str]:
    """binding id -> the class that declares it, for every class in
    distill_tui.ui (imports every screen: call it off the first paint)."""
    return {
        b.id or f"<no id: {cls.__name__} {b.key}>": cls.__name__ for cls, b in binding_classes()
    }


def binding_classes() -> list[tuple[type, Binding]]:
    """(declaring class, binding) for every `Binding` in distill_tui.ui, in
    the order the classes declare them (the generated docs/keys.md lists these)."""
    from textual.binding import Binding
    from textual.dom import DOMNode

    import distill_tui.ui

    for mod in pkgutil.walk_packages(distill_tui.ui.__path__, "distill_tui.ui."):
        importlib.import_module(mod.name)
    found: list[tuple[type, Binding]] = []
    todo: list[type] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if not cls.__module__.startswith("distill_tui."):
            continue
        found += [(cls, b) for b in cls.__dict__.get("BINDINGS", []) if isinstance(b, Binding)]
    return found


def unknown_ids(keys: Mapping[str, str], known: Iterable[str]) -> str | None:
    """One line naming the ids in `[keys]` that no key of the app has, or None."""
    known = set(known)
    bad = sorted(k for k in keys if k not in known)
    if not bad:
        return None
    close = {b: _closest(b, known) for b in bad}
    hints = ", ".join(f"{b!r}" + (f" (did you mean {c!r}?)" if c else "") for b, c in close.items())
    return (
        f"distill.toml [keys]: no key of the app has the id {hints}; "
        "these lines are ignored (docs/keys.md lists every id)"
    )


def _closest(name: str, known: set[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return found[0] if found else None
