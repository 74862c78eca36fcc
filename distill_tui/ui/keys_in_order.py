"""Keys typed in a text field act in the order they were typed.

Textual hands a key to the focused widget, which types a character at once,
but resolves key bindings (the field's own backspace, ctrl+k, home..., and
its dialog's or screen's up, down, ctrl+s...) only when the key has bubbled
back up to the app, through every container's queue. Keys that arrive
together, as they do over SSH, therefore ran out of order: `a b backspace c`
typed in one burst left "ab", not "ac", and `ctrl+a ctrl+k 7 7` cleared the
field after the 77 was typed (and saved).

`install()` has Input and TextArea resolve a key they did not type at once,
when it reaches them: the bindings of the field, then of its containers, in
the order Textual itself checks them (`App._check_bindings`, which the app
would call once the key had bubbled up). A key no binding takes bubbles as
before; what the field types (characters, a text area's enter) is untouched;
the app's priority bindings are still resolved first, the moment a key is
read (ui/typeahead.py).

This replaces the two classes' private `_on_key` and calls the app's private
`_check_bindings`; `check_contract()` says whether the installed Textual still
has the shape this relies on, and a test runs it against every Textual
version CI installs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from textual import events
from textual.widget import Widget
from textual.widgets import Input, TextArea

KeyHandler = Callable[[Any, events.Key], Coroutine[Any, Any, None]]
FIELDS: tuple[type[Widget], ...] = (Input, TextArea)
_originals: dict[type[Widget], KeyHandler] = {cls: cls._on_key for cls in FIELDS}


def _in_order(original: KeyHandler) -> KeyHandler:
    async def _on_key(self: Widget, event: events.Key) -> None:
        await original(self, event)  # what the field types
        if event._stop_propagation:
            return
        # Not typed: the bindings, now, rather than after the bubble.
        if await self.app._check_bindings(event.key):
            event.stop()
            event.prevent_default()

    return _on_key


def install() -> None:
    for cls, original in _originals.items():
        cls._on_key = _in_order(original)  # type: ignore[method-assign,assignment]


def check_contract() -> list[str]:
    """What no longer holds of the Textual internals this relies on (empty
    when all holds): each field class has a coroutine `_on_key(self, event)`,
    an event records `stop()` in `_stop_propagation`, and the app resolves a
    key's non-priority bindings with a coroutine `_check_bindings(key)`,
    the method its own `_on_key` calls."""
    from textual.app import App

    problems = []
    for cls, original in _originals.items():
        if not inspect.iscoroutinefunction(original):
            problems.append(f"{cls.__name__}._on_key is no longer a coroutine function")
        elif list(inspect.signature(original).parameters) != ["self", "event"]:
            problems.append(f"{cls.__name__}._on_key{inspect.signature(original)} changed")
    event = events.Key("x", "x")
    event.stop()
    if getattr(event, "_stop_propagation", None) is not True:
        problems.append("Event.stop() no longer sets _stop_propagation")
    check = getattr(App, "_check_bindings", None)
    if not inspect.iscoroutinefunction(check):
        problems.append("App._check_bindings is gone or no longer a coroutine function")
    elif list(inspect.signature(check).parameters)[:2] != ["self", "key"]:
        problems.append(f"App._check_bindings{inspect.signature(check)} changed")
    elif "self._check_bindings(event.key)" not in inspect.getsource(App._on_key):
        problems.append("App._on_key no longer resolves bindings with _check_bindings(event.key)")
    return problems
