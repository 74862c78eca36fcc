"""The bars every screen shares: the screen tabs at the top, the status line
and the footer of keys."""

from __future__ import annotations

from typing import NamedTuple

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from distill_tui.core import money, sysinfo
from distill_tui.core.generate import side_costs

SCREENS = [
    ("1", "task", "Task"),
    ("2", "queue", "Queue"),
    ("3", "curate", "Curate"),
    ("4", "train", "Train"),
    ("5", "chat", "Chat"),
]


class NavBar(Static):
    """`1 Task  2 Queue ...` with the current screen highlighted."""

    DEFAULT_CSS = """
    NavBar { height: 1; background: $panel; color: $text-muted; }
    """

    def __init__(self, current: str) -> None:
        super().__init__(id="navbar")
        self.current = current

    def render(self) -> Text:
        text = Text(" ")
        for key, mode, label in SCREENS:
            style = "bold reverse" if mode == self.current else ""
            text.append(f" {key} {label} ", style=style)
            text.append(" ")
        name = getattr(self.app, "project_name", "")
        if name:
            text.append("  ")
            text.append(name, style="bold")
        return text


class StatusBar(Static):
    """Counts from the store, the job holding the MLX thread, and memory."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    summary: reactive[str] = reactive("", layout=False)

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(2.0, self.refresh_status)

    def refresh_status(self) -> None:
        # Counting 100,000 rows takes tens of milliseconds: never on the UI thread.
        self.run_worker(
            self._gather, thread=True, group="statusbar", exclusive=True, exit_on_error=False
        )

    def _gather(self) -> None:
        parts: list[str] = []
        ws = getattr(self.app, "workspace", None)
        if ws is not None:
            try:
                c = ws.store.counts()
                # All teacher spend, as `status` reports it: similar inputs and judging too.
                spent = float(c["cost_usd"]) + side_costs.total_usd(ws.store)
                parts.append(
                    f"{c['inputs']} in · {c['pending']} pend · {c['done']} done"
                    f" · {c['failed']} fail · {c['accepted']} ok · {money.usd(spent)}"
                    + (f" + ? ({c['cost_unknown']} unpriced)" if c.get("cost_unknown") else "")
                )
            except Exception as e:  # noqa: BLE001 - a busy store must not kill the bar
                parts.append(f"store: {e}")
        else:
            # Short: the memory figures after it must fit 80 columns too.
            parts.append("no project yet: ctrl+n creates it")
        mlx = getattr(self.app, "mlx_holder", None)
        if mlx:
            parts.append(f"running: {mlx}")
        # This process's own memory (the student and the teacher live here),
        # then what the machine has left.
        rss, avail = sysinfo.process_rss_bytes(), sysinfo.available_memory_bytes()
        if avail is not None:
            parts.append(f"app {sysinfo.human_bytes(rss)}, {sysinfo.human_bytes(avail)} free")
        wired = sysinfo.gpu_wired_limit_bytes()
        if wired:
            parts.append(f"GPU wired limit {sysinfo.human_bytes(wired)}")
        summary = " │ ".join(parts)
        try:
            self.app.call_from_thread(self._set, summary)
        except RuntimeError:
            pass  # the app is closing

    def _set(self, summary: str) -> None:
        self.summary = summary
        self.refresh()

    def render(self) -> Text:
        return Text(self.summary, no_wrap=True, overflow="ellipsis")


# Kept at the right end of every footer, before the palette: how to see every
# other key (in a text field, where `?` is text: how to leave the field), and
# how to quit.
PINNED = ("help", "leave_field", "quit")


class FooterItem(NamedTuple):
    key: str  # what pressing it sends
    display: str  # how the key is written, `^q`
    description: str
    action: str
    enabled: bool

    @property
    def width(self) -> int:
        """Cells it takes: `key description` and a space after."""
        described = 1 + cell_len(self.description) if self.description else 0
        return cell_len(self.display) + described + 1


class KeyFooter(Widget, can_focus=False):
    """The keys of the screen, on one line at the bottom: the screen's keys in
    the order it declares them (most used first) for as long as they fit, whole
    (never cut off mid-label), then `? Keys` (in a text field, `esc Leave
    field`) and `^q Quit`; every key, shown or not, is listed by `?`.
    Unavailable keys (check_action None) are dimmed; a click on a key presses it.

    One widget drawing one line of text, where Textual's Footer mounts a widget
    per key: the keys are there in the screen's first frame (Textual's appear a
    frame later), and a focus change that leaves the same keys on show redraws
    nothing. It looks like Textual's compact footer, in the theme's footer
    colours."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer-key--key", "footer-key--description", "footer-key--hover"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        text-wrap: nowrap;
        color: $footer-foreground;
        background: $footer-background;
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer-key--hover {
            background: $block-hover-background;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._items: tuple[FooterItem, ...] = ()
        self._hover: int | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen and self._keys() != self._items:
            self.refresh()

    def on_resize(self) -> None:
        self.refresh()  # a narrower (or wider) terminal fits fewer (or more) keys

    def _keys(self) -> tuple[FooterItem, ...]:
        """The keys that fit, in the order they are drawn."""
        try:
            active = self.screen.active_bindings
        except NoMatches:
            # A screen's check_action asked for a widget not mounted yet (the
            # footer can draw before the rest of a new screen): try again.
            self.set_timer(0.1, self.refresh)
            return ()
        keys: dict[str, FooterItem] = {}  # one per action, first key wins
        pinned: dict[str, FooterItem] = {}
        for _node, binding, enabled, _tooltip in active.values():
            if binding.action in keys or binding.action in pinned:
                continue
            if not binding.show and binding.action != "leave_field":
                continue
            item = FooterItem(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                enabled,
            )
            (pinned if binding.action in PINNED else keys)[binding.action] = item
        if "help" in pinned:
            pinned.pop("leave_field", None)  # not in a text field: escape is no news
        right = sorted(pinned.values(), key=lambda k: PINNED.index(k.action))
        room = (self.size.width or self.app.size.width) - sum(k.width for k in right)
        fit: list[FooterItem] = []
        for item in keys.values():
            room -= item.width
            if room < 0:
                break
            fit.append(item)
        return (*fit, *right)

    def render(self) -> Text:
        self._items = self._keys()
        key_style = self.get_component_rich_style("footer-key--key", partial=True)
        text_style = self.get_component_rich_style("footer-key--description", partial=True)
        hover = self.get_component_rich_style("footer-key--hover", partial=True)
        line = Text(no_wrap=True, overflow="crop")
        for i, item in enumerate(self._items):
            label = Text.assemble((item.display, key_style))
            if item.description:
                label.append(" " + item.description, style=text_style)
            if not item.enabled:
                label.stylize(Style(dim=True))
            if i == self._hover:
                label.stylize_before(hover)
            line.append_text(label)
            line.append(" ")
        return line

    def _item_at(self, x: int) -> FooterItem | None:
        for item in self._items:
            if x < item.width:
                return item
            x -= item.width
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        item = self._item_at(event.x)
        hover = None if item is None else self._items.index(item)
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        item = self._item_at(event.x)
        if item is None:
            return
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()
