"""Text from models, users and files, made safe to draw: always a
`rich.text.Text` built from the plain string (never parsed as markup), with C0
and C1 control characters other than newline and tab shown as visible
symbols, so an ANSI escape in a completion is displayed, not obeyed by the
terminal."""

from __future__ import annotations

from typing import Any

from rich.text import Text

# C0 controls as Unicode control pictures (U+2400...), DEL as U+2421, and the
# C1 range (which some terminals also obey) as the replacement character.
_VISIBLE: dict[int, int] = {c: 0x2400 + c for c in range(32) if c not in (9, 10)}
_VISIBLE[127] = 0x2421
_VISIBLE.update({c: 0xFFFD for c in range(0x80, 0xA0)})


def visible(text: str) -> str:
    return text.translate(_VISIBLE)


def data_text(text: str | None, **kwargs: Any) -> Text:
    return Text(visible(text or ""), **kwargs)
