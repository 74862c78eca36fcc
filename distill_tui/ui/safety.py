"""The safety net: nothing a person does ends the app.

`install()` replaces Textual's `MessagePump._dispatch_message`, the one place
every node (app, screens, dialogs, widgets: ours and Textual's) dispatches a
message, an event or a key binding's action. An unexpected exception there is
written with its traceback to the crash log (`.distill/crash.log` in the
project), the user sees one line naming the log, and the app goes on: the
message that failed is dropped, everything else keeps running, jobs included.

Three exceptions to that rule:
- under Pilot (headless) the error is raised, so a test still fails on it;
- an error while a node is composed or mounted is raised too: swallowing it
  would leave a half-built widget on screen. Textual then hands it to the
  app's `_handle_exception`, which gives the terminal back with one line and
  the traceback in the crash log (`DistillApp._handle_exception`);
- so is anything that is not an `Exception` (KeyboardInterrupt, SystemExit).

Textual has no public hook that keeps a node's message loop alive after a
handler raises (its loop breaks after `_handle_exception`), so this patches a
private method. `check_contract()` says whether the installed Textual still
has the shape the patch relies on; a test runs it against every Textual
version CI installs (the locked one and the declared floor).
"""

from __future__ import annotations

import datetime as dt
import inspect
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.message import Message
from textual.message_pump import MessagePump

from distill_tui.core import paths

if TYPE_CHECKING:
    from textual.app import App


def log_crash(project: Path | None, error: BaseException, where: str) -> Path:
    """Append the error and its traceback to the crash log; returns its path."""
    path = paths.crash_log(project)
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(error))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"--- {stamp} in {where}\n{text}\n")
    except OSError:
        pass  # a full disk must not turn a handled error into a crash
    return path


def handled(app: App, error: Exception, where: str) -> None:
    """Log the error and tell the user in one line, if the app knows how."""
    report = getattr(app, "report_unexpected", None)
    if report is None:
        raise error
    report(error, where)


_original_dispatch = MessagePump._dispatch_message
# Messages that build a node: an error in them must not leave it half-built.
_BUILDING = (events.Compose, events.Mount)


def check_contract() -> list[str]:
    """What no longer holds of the Textual internals the patch relies on
    (empty when all holds): `_dispatch_message(self, message)` is a coroutine
    function, and both the message loop and the compose/mount step await it."""
    problems = []
    original = _original_dispatch
    if not inspect.iscoroutinefunction(original):
        problems.append("MessagePump._dispatch_message is no longer a coroutine function")
    if list(inspect.signature(original).parameters) != ["self", "message"]:
        problems.append(
            f"MessagePump._dispatch_message{inspect.signature(original)} is not (self, message)"
        )
    for caller in ("_process_messages_loop", "_pre_process"):
        source = inspect.getsource(getattr(MessagePump, caller, lambda: None))
        if "await self._dispatch_message(" not in source:
            problems.append(f"MessagePump.{caller} no longer awaits self._dispatch_message")
    return problems


async def _safe_dispatch(self: MessagePump, message: Message) -> None:
    try:
        await _original_dispatch(self, message)
    except Exception as error:
        if self.app.is_headless or isinstance(message, _BUILDING):
            raise  # Pilot: let the test see it; a half-built widget: the crash path
        handled(self.app, error, f"{type(self).__name__} handling {type(message).__name__}")


def install() -> None:
    """Wrap the one place every node (app, screens, dialogs, widgets: ours and
    Textual's) dispatches a message, an event or a key's action. Textual's own
    loop would otherwise end the app, or silently stop the node's message loop."""
    MessagePump._dispatch_message = _safe_dispatch  # type: ignore[method-assign]
