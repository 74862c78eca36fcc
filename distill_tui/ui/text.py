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


# How much of one text a pane lays out: a 2 MB input drawn whole costs tens of
# seconds per cursor move. The rest is counted, never drawn.
PREVIEW_BYTES = 4 * 1024
PREVIEW_LINES = 100


def clip(text: str, limit: int = PREVIEW_BYTES, lines: int = PREVIEW_LINES) -> tuple[str, int]:
    """The start of `text` that fits in `limit` UTF-8 bytes and `lines` lines
    (cut at a character boundary), and how many bytes of it are left out."""
    if len(text) <= limit // 4 and text.count("\n") < lines:
        return text, 0  # short enough whatever its characters: no encoding
    head = text[:limit].encode()[:limit].decode(errors="ignore")
    nl = -1
    for _ in range(lines):
        nl = head.find("\n", nl + 1)
        if nl < 0:
            break
    if nl >= 0:
        head = head[:nl]
    more = len(text.encode()) - len(head.encode())
    return (head, more) if more > 0 else (text, 0)


def append_clipped(
    t: Text, text: str, how_to_see_all: str, limit: int = PREVIEW_BYTES, **style: Any
) -> int:
    """Append a bounded, visible preview of `text` to `t`; when it is cut,
    one line says how many bytes more there are and `how_to_see_all`.
    Returns the number of bytes left out."""
    head, more = clip(text, limit)
    t.append(visible(head), **style)
    if more:
        t.append(f"\n… {more:,} more bytes; {how_to_see_all}", style="italic")
    return more
