"""One side of the Chat screen: the conversation with one model.

Text from the user and the model is always a `rich.text.Text`, never markup.
The screen hands it the reply as it grows (already batched by the worker), so
each update re-renders one Static, not the whole transcript.
"""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from distill_tui.core.errors import UserError
from distill_tui.engine.chat.session import Reply
from distill_tui.ui.text import append_clipped, data_text


def safe_text(text: str) -> Text:
    """Model or user text as plain Text: never markup, no control characters
    (a random or broken model emits them; the terminal would obey them)."""
    return data_text(text)


def bounded_text(text: str, how_to_see_all: str) -> Text:
    """A message as `safe_text`, drawn up to the preview's bound: a 2 MB paste
    or reply laid out whole would stall the screen on every redraw."""
    t = Text()
    append_clipped(t, text, how_to_see_all)
    return t


def failure_reason(error: BaseException | None) -> str:
    """What went wrong, in one line: a UserError's own words, else the type too."""
    if error is None:
        return "unknown error"
    if isinstance(error, UserError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def reply_stats(reply: Reply) -> str:
    ttft = f"{reply.ttft_s:.2f}s" if reply.ttft_s is not None else "-"
    end = {"stop": "", "length": ", hit max tokens", "stopped": ", stopped"}.get(
        reply.finish_reason, ""
    )
    rate = f" · {reply.tokens_per_sec:.1f} tok/s" if reply.tokens_per_sec is not None else ""
    return f"{reply.tokens} tok{rate} · TTFT {ttft}{end}"


class ChatPane(VerticalScroll):
    DEFAULT_CSS = """
    ChatPane { border: round $primary-darken-2; height: 1fr; padding: 0 1; }
    ChatPane:focus { border: round $primary; }
    ChatPane > .user { color: $text; text-style: bold; margin-top: 1; }
    ChatPane > .model { color: $text; }
    ChatPane > .stats { color: $text-muted; }
    """

    def __init__(self, title: str, id: str) -> None:
        super().__init__(id=id)
        self.border_title = title
        self.history: list[tuple[str, str]] = []
        self._current: Static | None = None
        self._pending_user = ""
        self.reply_text = ""

    def set_title(self, title: str) -> None:
        self.border_title = title

    def clear(self) -> None:
        self.history.clear()
        self._current = None
        self.reply_text = ""
        self.remove_children()

    def restore(self, history: list[tuple[str, str]]) -> None:
        """Show a conversation kept from an earlier session; the next message
        goes on from it."""
        self.clear()
        for user, reply in history:
            self.mount(
                Static(bounded_text("> " + user, "the model was sent all of it"), classes="user")
            )
            self.mount(Static(bounded_text(reply, "ctrl+l starts a new chat"), classes="model"))
        if history:
            self.mount(Static(Text("(from an earlier session)"), classes="stats"))
        self.history = list(history)
        self.scroll_end(animate=False)

    def start(self, user: str) -> None:
        self._pending_user = user
        self.reply_text = ""
        self.mount(
            Static(bounded_text("> " + user, "the model was sent all of it"), classes="user")
        )
        self._current = Static(Text("…"), classes="model")
        self.mount(self._current)
        self.scroll_end(animate=False)

    def update_reply(self, text: str) -> None:
        self.reply_text = text
        if self._current is not None:
            self._current.update(
                bounded_text(text, "ctrl+s saves it whole as a row for Curate (3)")
            )
            self.scroll_end(animate=False)

    def finish(self, reply: Reply) -> None:
        self.update_reply(reply.text)
        if not reply.text.strip() and self._current is not None:
            # An end token first: say so rather than show an empty line.
            self._current.update(Text("(no text: the model ended its reply at once)"))
        self.history.append((self._pending_user, reply.text))
        self.mount(Static(Text(reply_stats(reply)), classes="stats"))
        self._current = None
        self.scroll_end(animate=False)

    def fail(self, message: str) -> None:
        if self._current is not None:
            self._current.update(safe_text(f"({message})"))
        self._current = None

    @property
    def last_exchange(self) -> tuple[str, str] | None:
        return self.history[-1] if self.history else None
