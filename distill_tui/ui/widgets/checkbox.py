"""A checkbox whose state reads without colour: `▐X▌` when on, `▐ ▌` when
off. Textual's draws `▐X▌` either way and tells them apart by colour alone,
which a monochrome terminal, a colour-blind user or a screen reader loses."""

from __future__ import annotations

from textual.widgets import Checkbox

ON, OFF = "X", " "


class Tick(Checkbox):
    def on_mount(self) -> None:
        self._show(self.value)

    def watch_value(self) -> None:
        super().watch_value()  # the -on class and the Changed message
        self._show(self.value)

    def _show(self, value: bool) -> None:
        self.BUTTON_INNER = ON if value else OFF
        self.refresh()
