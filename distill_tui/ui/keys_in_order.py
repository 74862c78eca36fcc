"""A text field's own editing keys act in the order they were typed.

Textual hands a key to the focused widget, which types a character at once,
but resolves the widget's own key bindings (backspace, ctrl+k, ctrl+u,
home...) only when the key has bubbled back up to the app, through every
container's queue. Keys that arrive together, as they do over SSH, therefore
run out of order: `a b backspace c` typed in one burst left "ab", not "ac",
and `ctrl+a ctrl+k 7 7` cleared the field after the 77 was typed (and saved).

`install()` has Input and TextArea run their own binding for a key when the
key reaches them, before any key queued behind it. Keys they do not bind
bubble as before, a binding whose action the widget disables (`check_action`)
is left to the containers as Textual would, and the app's priority bindings
are still resolved first, the moment a key is read (ui/typeahead.py).

This replaces the two widgets' private `_on_key`; `check_contract()` says
whether the installed Textual still has the shape it relies on, and a test
runs it against every Textual version CI installs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from textual import events
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input, TextArea

KeyHandler = Callable[[Any, events.Key], Coroutine[Any, Any, None]]
FIELDS: tuple[type[Widget], ...] = (Input, TextArea)
_originals: dict[type[Widget], KeyHandler] = {cls: cls._on_key for cls in FIELDS}


def own_binding(widget: Widget, event: events.Key) -> Binding | None:
    """The widget's own enabled binding for this key, if it has one."""
    for key in event.aliases:
        for binding in widget._bindings.key_to_bindings.get(key, ()):
            name, _, _ = binding.action.partition("(")
            if widget.check_action(name, ()) is not False:
                return binding
    return None


def _in_order(original: KeyHandler) -> KeyHandler:
    async def _on_key(self: Widget, event: events.Key) -> None:
        if not event.is_printable:
            binding = own_binding(self, event)
            if binding is not None:
                event.stop()
                event.prevent_default()
                await self.run_action(binding.action)
                return
        await original(self, event)

    return _on_key


def install() -> None:
    for cls, original in _originals.items():
        cls._on_key = _in_order(original)  # type: ignore[method-assign,assignment]


def check_contract() -> list[str]:
    """What no longer holds of the Textual internals this relies on (empty
    when all holds): each field class has a coroutine `_on_key(self, event)`,
    and a widget's bindings are looked up by key in `_bindings.key_to_bindings`."""
    problems = []
    for cls, original in _originals.items():
        if not inspect.iscoroutinefunction(original):
            problems.append(f"{cls.__name__}._on_key is no longer a coroutine function")
        elif list(inspect.signature(original).parameters) != ["self", "event"]:
            problems.append(f"{cls.__name__}._on_key{inspect.signature(original)} changed")
    bindings = Input()._bindings
    if not isinstance(getattr(bindings, "key_to_bindings", None), dict):
        problems.append("a widget's _bindings has no key_to_bindings dict")
    elif "backspace" not in bindings.key_to_bindings:
        problems.append("Input no longer binds backspace in _bindings.key_to_bindings")
    return problems
