"""Saving distill.toml from the screens, and what the app says when it
cannot: a read-only file or another refusal once per problem (not at every
keystroke), and a deleted file first noticed, then written again only after
the user says so in a dialog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from distill_tui.core.errors import UserError
from distill_tui.core.project import SettingsDeleted
from distill_tui.ui.text import say
from distill_tui.ui.widgets.confirm import ConfirmDialog

if TYPE_CHECKING:
    from distill_tui.ui.app import DistillApp

WRITE = "write"


class SettingsFile:
    def __init__(self, app: DistillApp) -> None:
        self.app = app
        self._said = ""  # the last refusal said in a toast
        self._said_deleted = False
        self._asking = False
        self._declined = False  # "leave it deleted": not asked again until ctrl+s

    def save(self, *, ask: bool = False) -> str:
        """Save the workspace's settings; '' when saved (or nothing to save),
        else the line that says why not. `ask`: an explicit save, which asks
        again to write a deleted file even after the user declined."""
        ws = self.app.workspace
        if ws is None:
            return ""
        try:
            ws.save_settings()
        except SettingsDeleted as e:
            if ask:
                self._declined = False
            self._ask_to_write_again()
            return f"{e} (ctrl+s on the Train screen asks to write it)"
        except (OSError, UserError) as e:
            message = f"Could not save distill.toml: {e}"
            if message != self._said:
                self._said = message
                say(self.app, message, severity="error", timeout=10)
            return message
        self._said = ""
        return ""

    def watch(self) -> bool:
        """Called every second: say once that the file was deleted; True while it is."""
        ws = self.app.workspace
        if ws is None or not ws.settings_deleted():
            self._said_deleted = self._declined = False
            return False
        if not self._said_deleted:
            self._said_deleted = True
            say(
                self.app,
                "distill.toml was deleted. The app keeps its settings and asks before"
                " writing the file again.",
                title="distill.toml",
                severity="warning",
                timeout=10,
            )
        return True

    def _ask_to_write_again(self) -> None:
        if self._asking or self._declined:
            return
        self._asking = True

        def answered(answer: str | None) -> None:
            self._asking = False
            if answer != WRITE:
                self._declined = True
                return
            ws = self.app.workspace
            try:
                if ws is not None:
                    ws.save_settings(recreate=True)
            except (OSError, UserError) as e:
                say(self.app, f"Could not write distill.toml: {e}", severity="error", timeout=10)
                return
            self._said_deleted = False
            say(self.app, "distill.toml written again with the settings shown here")

        self.app.push_screen(
            ConfirmDialog(
                "distill.toml was deleted. Write it again with the settings shown here?",
                {"w": (WRITE, "write distill.toml again")},
                cancel="leave it deleted (changes here are not saved)",
            ),
            answered,
        )
