"""The bars every screen shares: the screen tabs at the top and the status
line above the footer."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from distill_tui.core import side_costs, sysinfo

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
                    f" · {c['failed']} fail · {c['accepted']} ok · ${spent:.2f}"
                )
            except Exception as e:  # noqa: BLE001 - a busy store must not kill the bar
                parts.append(f"store: {e}")
        else:
            parts.append("no project yet: fill in the task and press ctrl+n to create it")
        mlx = getattr(self.app, "mlx_holder", None)
        if mlx:
            parts.append(f"running: {mlx}")
        total, avail = sysinfo.total_memory_bytes(), sysinfo.available_memory_bytes()
        if total and avail is not None:
            parts.append(
                f"mem {sysinfo.human_bytes(total - avail)} used, {sysinfo.human_bytes(avail)} free"
            )
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
