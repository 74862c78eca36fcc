"""Every key binding of every screen and dialog was pressed in a real terminal.

Runs after the terminal tests (`test_terminal_*.py`, file order) and checks the
binding ids they reached against every `Binding` declared in the package, so a
new key without a terminal test fails here. Skipped when the session did not
run all the terminal tests (a selection with -k, say)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import distill_tui.ui
from ui.terminal import pressed_everywhere


def declared_bindings() -> dict[str, str]:
    """binding id -> the class that declares it, for every class in distill_tui.ui."""
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
                assert b.id, f"{cls.__name__}: binding {b.key!r} has no id"
                found[b.id] = cls.__name__
    return found


def test_every_binding_was_pressed_in_a_terminal(request):
    here = Path(__file__).parent
    wanted = {p.stem for p in here.glob("test_terminal_*.py")}
    ran = {item.module.__name__.rsplit(".", 1)[-1] for item in request.session.items}
    if not wanted <= ran:
        pytest.skip(f"not every terminal test ran in this session: {sorted(wanted - ran)}")
    declared = declared_bindings()
    missing = sorted(
        f"{bid} ({cls})" for bid, cls in declared.items() if bid not in pressed_everywhere
    )
    assert not missing, f"bindings no terminal test pressed: {missing}"
