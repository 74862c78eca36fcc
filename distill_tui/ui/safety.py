"""The safety net: nothing a person does ends the app.

An unexpected exception in a screen, widget or handler is written with its
traceback to the crash log (`.distill/crash.log` in the project), the user sees
one line naming the log, and the app goes on: the message that failed is
dropped, everything else keeps running, jobs included. `SafeDispatch` is mixed
into the app, the screens and our widgets, so it wraps every handler and every
key binding's action. Under Pilot (headless) the error is raised instead, so a
test still fails on it.
"""

from __future__ import annotations

import datetime as dt
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

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


async def _safe_dispatch(self: MessagePump, message: Message) -> None:
    try:
        await _original_dispatch(self, message)
    except Exception as error:
        if self.app.is_headless:
            raise  # Pilot: let the test see it
        handled(self.app, error, f"{type(self).__name__} handling {type(message).__name__}")


def install() -> None:
    """Wrap the one place every node (app, screens, dialogs, widgets: ours and
    Textual's) dispatches a message, an event or a key's action. Textual's own
    loop would otherwise end the app, or silently stop the node's message loop."""
    MessagePump._dispatch_message = _safe_dispatch  # type: ignore[method-assign]
