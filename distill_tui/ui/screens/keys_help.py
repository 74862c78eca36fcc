"""The `?` overlay: every key of the screen (or dialog) it was opened on, one
line each, built from that screen's bindings (the focused widget's, the
screen's, the app's) and their check_action state at the moment `?` was
pressed, so it cannot drift from what the keys do."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


@dataclass(frozen=True)
class KeyLine:
    keys: str
    description: str
    enabled: bool


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[KeyLine, ...]


def screen_title(screen: Screen) -> str:
    """`Curate screen`, `Reject dialog`: what the user calls it."""
    title = getattr(screen, "HELP_TITLE", "")
    if title:
        return str(title)
    name = type(screen).__name__.removesuffix("Screen")
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    kind = "dialog" if isinstance(screen, ModalScreen) else "screen"
    return f"{words[:1].upper()}{words[1:]} {kind}".replace(" dialog dialog", " dialog")


def key_sections(screen: Screen) -> list[Section]:
    """Every key of `screen` at this moment, grouped: this screen (its own
    keys and those of our widgets with the focus), then the keys that work
    everywhere. Keys of one action share a line; keys unavailable now
    (check_action None, or False: hidden from the footer) are dimmed. Textual's
    own editing and cursor keys are left to one summary line."""
    app = screen.app
    # The focused widget, its parents, the screen, the app.
    chain: list[tuple[DOMNode, Iterable[tuple[str, Binding]]]] = list(screen._binding_chain)
    if screen.is_modal:
        # A dialog: its own keys, and only the app's priority keys reach it.
        chain = [(n, _only_priority(b) if n is app else b) for n, b in chain]
    here: dict[tuple[int, str], tuple[list[str], Binding, bool]] = {}
    everywhere: dict[tuple[int, str], tuple[list[str], Binding, bool]] = {}
    for node, bindings in chain:
        for key, binding in bindings:
            if key == app.COMMAND_PALETTE_BINDING:
                binding = Binding(key, binding.action, "Command palette", id="palette")
            if not binding.id or not binding.description:
                # Textual's own keys (the summary line covers them), and aliases
                # such as alt+digit; every key of this app has an id.
                continue
            enabled = bool(app._check_action_state(binding.action, node))
            group = everywhere if node is app else here
            slot = (id(node), binding.action)
            if slot in group:
                group[slot][0].append(app.get_key_display(binding))
            else:
                group[slot] = ([app.get_key_display(binding)], binding, enabled)

    def lines(group: dict[tuple[int, str], tuple[list[str], Binding, bool]]) -> tuple:
        return tuple(KeyLine(" ".join(k), b.description, e) for k, b, e in group.values())

    sections = [Section(screen_title(screen), lines(here))] if here else []
    if everywhere:
        sections.append(Section("Everywhere", lines(everywhere)))
    return sections


def _only_priority(bindings: Iterable[tuple[str, Binding]]) -> list[tuple[str, Binding]]:
    return [(k, b) for k, b in bindings if b.priority]


NAVIGATION = "tab/shift+tab move between fields; arrows, page up/down, home/end move in lists"


class KeysHelp(ModalScreen[None]):
    """Opened by `?`; escape (or `?` again) closes it."""

    HELP_TITLE = "Keys help"
    BINDINGS = [
        Binding("escape,question_mark", "dismiss", "Close", id="help-close"),
    ]
    DEFAULT_CSS = """
    KeysHelp { align: center middle; }
    KeysHelp > Vertical {
        width: 100%; max-width: 80; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    KeysHelp #keys-title { text-style: bold; color: $primary; }
    KeysHelp VerticalScroll { height: auto; max-height: 1fr; }
    KeysHelp Horizontal { height: auto; }
    KeysHelp .keys-column { width: 1fr; height: auto; }
    KeysHelp #keys-foot { color: $text-muted; }
    """

    def __init__(self, sections: list[Section]) -> None:
        super().__init__()
        self._sections = sections

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Keys (dimmed: not available now)"), id="keys-title")
            with VerticalScroll(id="keys-scroll"), Horizontal():
                left, right = _columns(self._sections)
                yield Static(left, classes="keys-column")
                if right.plain:
                    yield Static(right, classes="keys-column")
            yield Static(Text(f"{NAVIGATION}. escape closes"), id="keys-foot")

    def on_mount(self) -> None:
        self.query_one("#keys-scroll").focus()


def _columns(sections: list[Section]) -> tuple[Text, Text]:
    """Two columns at 80x24 so a long list is seen whole; sections do not
    split unless one alone is longer than half."""
    rows: list[tuple[str, KeyLine | None]] = []
    for s in sections:
        if rows:
            rows.append(("", None))
        rows.append((s.title, None))
        rows.extend(("", line) for line in s.lines)
    if len(rows) <= 16:
        return _render(rows), Text()
    half = (len(rows) + 1) // 2
    # Prefer breaking at a section boundary near the middle.
    for i in sorted(range(len(rows)), key=lambda i: abs(i - half)):
        if abs(i - half) > 4:
            break
        if rows[i] == ("", None):
            return _render(rows[:i]), _render(rows[i + 1 :])
    return _render(rows[:half]), _render(rows[half:])


def _render(rows: list[tuple[str, KeyLine | None]]) -> Text:
    width = max((len(line.keys) for _t, line in rows if line is not None), default=0)
    width = min(width, 12)
    text = Text()
    for title, line in rows:
        if line is None:
            text.append(f"{title}\n", style="bold" if title else "")
            continue
        style = "" if line.enabled else "dim"
        text.append(f" {line.keys:<{width}} ", style=f"bold {style}".strip())
        text.append(f"{line.description}\n", style=style)
    text.rstrip()
    return text
