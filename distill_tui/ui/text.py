"""Text from models, users and files, made safe to draw: always a
`rich.text.Text` built from the plain string (never parsed as markup), with C0
and C1 control characters other than newline and tab shown as visible
symbols, so an ANSI escape in a completion is displayed, not obeyed by the
terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.notifications import SeverityLevel

# C0 controls as Unicode control pictures (U+2400...), DEL as U+2421, and the
# C1 range (which some terminals also obey) as the replacement character.
_VISIBLE: dict[int, int] = {c: 0x2400 + c for c in range(32) if c not in (9, 10)}
_VISIBLE[127] = 0x2421
_VISIBLE.update({c: 0xFFFD for c in range(0x80, 0xA0)})


def visible(text: str) -> str:
    return text.translate(_VISIBLE)


def data_text(text: str | None, **kwargs: Any) -> Text:
    return Text(visible(text or ""), **kwargs)


def say(
    node: DOMNode,
    message: object,
    *,
    title: str = "",
    severity: SeverityLevel = "information",
    timeout: float | None = None,
) -> None:
    """The one way the app tells the user something in a toast: always a plain
    string with control characters made visible, never markup and never a rich
    `Text` (Textual's toast cannot draw one, and the app would end)."""
    node.app.notify(
        visible(str(message)),
        title=visible(title),
        severity=severity,
        timeout=timeout,
        markup=False,
    )
