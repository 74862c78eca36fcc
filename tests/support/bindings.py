"""Every key binding of every screen and dialog must be pressed in a real
terminal: the terminal tests record the binding ids they reach in a file the
test processes share, and at the end of a session that ran every terminal test
file, `tests/conftest.py` fails the run when a declared binding was never
pressed, naming it. So a new key without a terminal test fails the suite."""

from __future__ import annotations

from pathlib import Path

from distill_tui.ui.keymap import declared_bindings

TERMINAL_TESTS = Path(__file__).parents[1] / "ui"
__all__ = ["declared_bindings", "missing_bindings", "terminal_test_files"]


def terminal_test_files() -> set[str]:
    return {p.name for p in TERMINAL_TESTS.glob("test_terminal_*.py")}


def missing_bindings(pressed: set[str]) -> list[str]:
    return sorted(f"{b} ({cls})" for b, cls in declared_bindings().items() if b not in pressed)
