"""The bars every screen shares: the screen tabs at the top, the status line
and the footer of keys."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

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
            parts.append("no project yet: fill in the task and press ctrl+n to create it")
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


class KeyFooter(Footer):
    """Textual's footer, except that it never cuts a key off mid-label: the
    screen's keys are shown in the order the screen declares them (most used
    first) for as long as they fit, then `? Keys` (in a text field, `esc Leave
    field`) and `^q Quit`; every key,
    shown or not, is listed by `?`. Unavailable keys (check_action None) are
    drawn dimmed, as Textual does."""

    def __init__(self) -> None:
        # No `^p palette` here: at 80 columns the screen's own keys matter more,
        # and `?` lists ctrl+p with every other key.
        super().__init__(compact=True, show_command_palette=False)

    _composed_width = 0

    def on_resize(self) -> None:
        # A narrower (or wider) terminal fits fewer (or more) keys.
        if self.app.size.width != self._composed_width and self._bindings_ready:
            self.call_after_refresh(self.recompose)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        try:
            active = self.screen.active_bindings
        except NoMatches:
            # A screen's check_action asked for a widget not mounted yet (the
            # footer can compose before the rest of a new screen): try again.
            self.set_timer(0.1, self.recompose)
            return
        self._composed_width = self.app.size.width
        keys: dict[str, FooterKey] = {}  # one per action, first key wins
        pinned: dict[str, FooterKey] = {}
        for _node, binding, enabled, tooltip in active.values():
            if binding.action in keys or binding.action in pinned:
                continue
            if not binding.show and binding.action != "leave_field":
                continue
            item = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            )
            (pinned if binding.action in PINNED else keys)[binding.action] = item
        if "help" in pinned:
            pinned.pop("leave_field", None)  # not in a text field: escape is no news
        right = sorted(pinned.values(), key=lambda k: PINNED.index(k.action))
        room = self.app.size.width - sum(_width(k) for k in right)
        for item in keys.values():
            room -= _width(item)
            if room < 0:
                break
            yield item.data_bind(compact=Footer.compact)
        for item in right:
            yield item.data_bind(compact=Footer.compact)


def _width(key: FooterKey) -> int:
    """Cells a compact footer key takes: `key description` and a space after."""
    return cell_len(key.key_display) + (1 + cell_len(key.description) if key.description else 0) + 1
