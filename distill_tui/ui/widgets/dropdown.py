"""A one-line dropdown of a few fixed choices, drawn by one widget.

Textual's `Select` is five widgets (itself, the row of the current value, its
label and arrow, and an option list laid over the screen), all mounted and
styled with the form: two of them cost the Task screen about 21 ms of its
first frame. A `Dropdown` draws the current choice and its arrow itself, and
makes its list the first time it is opened. Keys and looks follow Textual's
compact `Select`: enter, space, up or down open the list; enter or a click
picks; escape, or focus leaving the list, closes it and keeps the value. Keys
typed in one burst (down, down, enter) act in order while the list opens.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import OptionList


class DropdownList(OptionList):
    """The list a Dropdown opens, over the fields below it."""

    DEFAULT_CSS = """
    DropdownList {
        display: none;
        overlay: screen;
        constrain: none inside;
        width: 1fr;
        height: auto;
        max-height: 12;
        offset-y: 1;
        padding: 0;
        color: $foreground;
        background: $surface;
        & > .option-list--option { padding: 0; }
    }
    DropdownList, DropdownList:focus { border: tall $accent; }
    DropdownList.-open { display: block; }
    """
    BINDINGS = [Binding("escape", "close", "Close list", id="dropdown-close")]

    def _owner(self) -> Dropdown:
        parent = self.parent
        assert isinstance(parent, Dropdown)
        return parent

    def action_close(self) -> None:
        self._owner().close()

    def _on_blur(self, event: events.Blur) -> None:
        self._owner().close(refocus=False)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._owner().pick(event.option_index)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()  # the form hears only the choice


class Dropdown(Widget, can_focus=True):
    """The current choice and an arrow; `Changed` tells the form of a new one."""

    DEFAULT_CSS = """
    Dropdown {
        width: 1fr;
        height: 1;
        color: $foreground;
        background: $surface;
    }
    Dropdown:focus { background-tint: $foreground 5%; }
    Dropdown > .dropdown--arrow { color: $foreground 50%; }
    """
    COMPONENT_CLASSES = {"dropdown--arrow"}
    # Keys typed in one burst reach the dropdown before its list has the
    # focus: once the list is open, they move in it and pick, as the list would.
    BINDINGS = [
        Binding("enter,space", "open", "Show the choices", show=False, id="dropdown-open"),
        Binding("down", "move(1)", "Show the choices", show=False, id="dropdown-down"),
        Binding("up", "move(-1)", "Show the choices", show=False, id="dropdown-up"),
    ]

    value: var[str] = var("", init=False)

    class Changed(Message):
        """A new choice, picked or set."""

        def __init__(self, dropdown: Dropdown, value: str) -> None:
            super().__init__()
            self.dropdown = dropdown
            self.value = value

        @property
        def control(self) -> Dropdown:
            return self.dropdown

    def __init__(
        self,
        options: Sequence[tuple[str, str]],
        value: str,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.options = list(options)
        self.set_reactive(Dropdown.value, value if self._index(value) is not None else "")
        if not self.value and self.options:
            self.set_reactive(Dropdown.value, self.options[0][1])

    def _index(self, value: str) -> int | None:
        return next((i for i, (_label, v) in enumerate(self.options) if v == value), None)

    def render(self) -> Text:
        index = self._index(self.value)
        label = self.options[index][0] if index is not None else ""
        width = max(self.content_size.width, 3)
        text = Text(label, no_wrap=True, overflow="ellipsis")
        text.truncate(width - 3, overflow="ellipsis", pad=True)
        arrow = " ▲ " if self.is_open else " ▼ "
        text.append(arrow, style=self.get_component_rich_style("dropdown--arrow"))
        return text

    def watch_value(self, value: str) -> None:
        self.refresh()
        self.post_message(self.Changed(self, value))

    def _menu(self) -> DropdownList | None:
        lists = self.query_children(DropdownList)
        return lists.first() if lists else None

    @property
    def is_open(self) -> bool:
        menu = self._menu()
        return menu is not None and menu.has_class("-open")

    async def action_open(self) -> None:
        menu = self._menu()
        if menu is not None and menu.has_class("-open"):
            self.pick(menu.highlighted or 0)  # enter typed while the list opened
            return
        if menu is None:
            menu = DropdownList(*(Text(label) for label, _value in self.options))
            await self.mount(menu)
        menu.add_class("-open")
        self.refresh()
        menu.highlighted = self._index(self.value) or 0
        menu.focus(scroll_visible=False)

    async def action_move(self, step: int) -> None:
        menu = self._menu()
        if menu is None or not menu.has_class("-open"):
            await self.action_open()
            return
        last = len(self.options) - 1
        menu.highlighted = max(0, min(last, (menu.highlighted or 0) + step))

    def close(self, refocus: bool = True) -> None:
        for menu in self.query_children(DropdownList):
            menu.remove_class("-open")
        self.refresh()
        if refocus:
            self.focus()

    def pick(self, index: int) -> None:
        if 0 <= index < len(self.options):
            self.value = self.options[index][1]
        self.close()

    async def on_click(self, event: events.Click) -> None:
        if event.widget is not self:
            return  # a click in the open list: it picks
        if self.is_open:
            self.close()
        else:
            await self.action_open()
