"""Every key binding of every screen and dialog must be pressed in a real
terminal: the terminal tests record the binding ids they reach in a file the
test processes share, and at the end of a session that ran every terminal test
file, `tests/conftest.py` fails the run when a declared binding was never
pressed, naming it. So a new key without a terminal test fails the suite."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

TERMINAL_TESTS = Path(__file__).parent / "ui"


def declared_bindings() -> dict[str, str]:
    """binding id -> the class that declares it, for every class in distill_tui.ui."""
    from textual.binding import Binding
    from textual.dom import DOMNode

    import distill_tui.ui

    for mod in pkgutil.walk_packages(distill_tui.ui.__path__, "distill_tui.ui."):
        importlib.import_module(mod.name)
    found: dict[str, str] = {}
    todo: list[type] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if not cls.__module__.startswith("distill_tui."):
            continue
        for b in cls.__dict__.get("BINDINGS", []):
            if isinstance(b, Binding):
                found[b.id or f"<no id: {cls.__name__} {b.key}>"] = cls.__name__
    return found


def terminal_test_files() -> set[str]:
    return {p.name for p in TERMINAL_TESTS.glob("test_terminal_*.py")}


def missing_bindings(pressed: set[str]) -> list[str]:
    return sorted(f"{b} ({cls})" for b, cls in declared_bindings().items() if b not in pressed)
