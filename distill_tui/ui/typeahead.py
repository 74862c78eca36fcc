"""Keys that move between fields without losing what is typed ahead.

Textual hands each key to the focused widget's queue at once and resolves
tab only when it bubbles up from that widget to the screen's binding. A
person typing `abc<tab>def` faster than the app draws (over SSH, or while a
field saves) therefore gets `abcdef` in one field: `def` was queued to the
old field before the tab moved the focus. As priority bindings, tab and
shift+tab are resolved by the app the moment they are read, before the next
key is handed on, so every key lands in the field the person meant.
"""

from __future__ import annotations

from textual.binding import Binding


def field_keys(prefix: str) -> list[Binding]:
    """tab / shift+tab for a form, with binding ids `<prefix>-tab` / `<prefix>-backtab`."""
    return [
        Binding(
            "tab", "app.focus_next", "Next field", show=False, priority=True, id=f"{prefix}-tab"
        ),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "Previous field",
            show=False,
            priority=True,
            id=f"{prefix}-backtab",
        ),
    ]
