"""The one dialog look: a centred box over the screen, its title, hints and
errors styled alike. A dialog subclasses `Dialog[Result]` and composes one
`Vertical`; Textual's type selectors match subclasses, so this CSS is written
once instead of formatted per class."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

R = TypeVar("R")


class Dialog(ModalScreen[R]):
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    Dialog .title { text-style: bold; color: $primary; }
    Dialog .hint { color: $text-muted; height: auto; }
    Dialog .error { color: $error; height: auto; }
    """
