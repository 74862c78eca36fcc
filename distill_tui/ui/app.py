"""The Textual app: the composition root. It receives the project folder, the
workspace (or None when the folder has no project yet) and the MLX thread, and
wires the five screens; the screens hold no business logic."""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import _character_to_key
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, TextArea

from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.engine.mlx_thread import MLXThread, mlx_thread
from distill_tui.ui import keys_in_order, safety, themes
from distill_tui.ui.jobs import Jobs
from distill_tui.ui.screens.base import BaseScreen, ChatWithRun, SettingsReloaded
from distill_tui.ui.screens.keys_help import KeysHelp, key_sections
from distill_tui.ui.screens.quit_dialog import QuitDialog
from distill_tui.ui.settings_file import SettingsFile
from distill_tui.ui.text import say

SCREEN_NAMES = {
    "task": "Task",
    "queue": "Queue",
    "curate": "Curate",
    "train": "Train",
    "chat": "Chat",
}


# Textual reads ESC followed at once by a digit as macOS Option+digit, a
# character (¡ ™ £ ¢ ∞) that a text field would type: key name -> digit, for
# the digits that switch screens.
ESCAPE_DIGIT_KEYS = {
    _character_to_key(ch): seq[1]
    for seq, ch in ANSI_SEQUENCES_KEYS.items()
    if isinstance(ch, str) and len(seq) == 2 and seq[0] == "\x1b" and seq[1] in "12345"
}


def _screen_when_opened(module: str, name: str) -> Callable[[], Screen]:
    """A mode's screen, its module imported the first time the mode opens: the
    first screen drawn needs its own module only, not the other four (nor the
    engine code, mlx-lm and API clients they reach)."""

    def make() -> Screen:
        screen_class = getattr(
            importlib.import_module(f"distill_tui.ui.screens.{module}.screen"), name
        )
        return screen_class()  # type: ignore[no-any-return]

    return make


# The store's meta key for the screen last shown: the project reopens there.
LAST_SCREEN_KEY = "ui.screen"


class DistillApp(App[int]):
    TITLE = "distill-tui"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], Screen]]] = {
        "task": _screen_when_opened("task", "TaskScreen"),
        "queue": _screen_when_opened("queue", "QueueScreen"),
        "curate": _screen_when_opened("curate", "CurateScreen"),
        "train": _screen_when_opened("train", "TrainScreen"),
        "chat": _screen_when_opened("chat", "ChatScreen"),
    }
    BINDINGS = [
        # Priority, so a table or list with the focus cannot swallow them; while a
        # text field has the focus `check_action` lets digits through to it.
        *(
            Binding(str(i), f"goto('{mode}')", name, show=False, id=f"goto-{mode}", priority=True)
            for i, (mode, name) in enumerate(SCREEN_NAMES.items(), start=1)
        ),
        # escape then a digit typed quickly reaches the app as one key, alt+digit
        # (see `on_event`): leave the field and switch, as the two keys would
        # have. No description: an alias, not a key of its own in `?`.
        *(
            Binding(
                f"alt+{i}", f"goto('{mode}', True)", "", show=False, id=f"esc-{mode}", priority=True
            )
            for i, mode in enumerate(SCREEN_NAMES, start=1)
        ),
        # Priority so that dialogs get it too; in a text field `?` is text.
        Binding("question_mark", "help", "Keys", id="help", priority=True),
        Binding("ctrl+t", "change_theme", "Theme", show=False, id="theme"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(
        self,
        root: Path,
        workspace: Workspace | None,
        mlx: MLXThread | None = None,
        after_first_frame: Callable[[], None] | None = None,
    ) -> None:
        safety.install()
        keys_in_order.install()
        self.workspace = workspace
        # Open straight on the screen the project was last on, as Textual's first
        # mode (it reads DEFAULT_MODE once, here): the screen is composed and
        # styled once. Switching to it on mount styled it twice more, and made
        # a blank screen first, before the first frame.
        self.DEFAULT_MODE = self._last_mode()  # type: ignore[misc]
        super().__init__()
        self.root = root
        self._mlx = mlx
        self._after_first_frame = after_first_frame
        self.jobs = Jobs(self)
        self._settings_problem = ""  # the last distill.toml error shown, said once
        self.settings_file = SettingsFile(self)  # saves from the screens, said once
        self._keys_clashed: set[tuple[str, ...]] = set()
        for theme in themes.load_themes()[0]:
            self.register_theme(theme)
        saved = themes.saved_theme()
        self._theme_chosen_by_user = False
        self.theme = saved if saved in self.available_themes else themes.DEFAULT_THEME
        self._theme_chosen_by_user = True

    @property
    def mlx(self) -> MLXThread:
        """The MLX thread, started on first use so the app opens fast."""
        if self._mlx is None:
            self._mlx = mlx_thread()
        return self._mlx

    @property
    def mlx_holder(self) -> str | None:
        return self._mlx.holder if self._mlx is not None else None

    @property
    def project_name(self) -> str:
        return self.workspace.settings.task.name if self.workspace else "(no project)"

    def on_mount(self) -> None:
        if self._after_first_frame is not None:
            screen = self.screen
            if isinstance(screen, BaseScreen):
                screen.after_first_frame(self._after_first_frame)
            else:
                self.call_after_refresh(self._after_first_frame)
        self.jobs.install_hangup_handler()
        self.jobs.install_terminate_handler()
        _, problems = themes.load_themes()
        for p in problems:
            say(self, p, severity="warning")
        self.set_interval(1.0, self.check_settings_file)
        self.apply_keys()

    # -- [keys] in distill.toml ------------------------------------------------
    def apply_keys(self) -> None:
        """Use the project's `[keys]` table as Textual's keymap; an id no key
        has is named once (checked off the first paint: it imports every screen)."""
        keys = dict(self.workspace.settings.keys) if self.workspace else {}
        self.set_keymap(keys)
        self._keys_clashed.clear()
        if keys:
            self.run_worker(lambda: self._check_keys(keys), thread=True, group="keys")

    def _check_keys(self, keys: dict[str, str]) -> None:
        from distill_tui.ui.keymap import declared_bindings, unknown_ids

        problem = unknown_ids(keys, declared_bindings())
        if problem:
            self.call_from_thread(say, self, problem, severity="warning", timeout=12)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        """A key given in `[keys]` that another key of the same screen had:
        the `[keys]` line wins; say once which action lost its key."""
        lost = sorted(b.id or b.action for b in clashed_bindings)
        if lost and tuple(lost) not in self._keys_clashed:
            self._keys_clashed.add(tuple(lost))
            say(
                self,
                f"distill.toml [keys]: {', '.join(lost)} lost its key to a [keys] line;"
                " give it another key there",
                severity="warning",
                timeout=12,
            )

    def watch_theme(self, name: str) -> None:
        if self._theme_chosen_by_user:  # the saved theme set in __init__ is not a new choice
            themes.save_theme(name)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and event.key in ESCAPE_DIGIT_KEYS:
            # Escape then a digit, typed fast: what the person meant, not a character.
            event = events.Key(f"alt+{ESCAPE_DIGIT_KEYS[event.key]}", None)
        await super().on_event(event)

    # -- navigation ----------------------------------------------------------
    def _last_mode(self) -> str:
        """The screen the project was on when it was last open (Task at first)."""
        ws = self.workspace
        mode = ws.store.get_meta(LAST_SCREEN_KEY) if ws is not None else None
        return mode if mode in self.MODES else "task"

    def action_goto(self, mode: str, from_escape: bool = False) -> None:
        if from_escape:
            self.screen.set_focus(None)  # what the escape would have done
        if self.current_mode != mode:
            self.switch_mode(mode)
            self._remember_mode(mode)

    def _remember_mode(self, mode: str) -> None:
        ws = self.workspace
        try:
            if ws is not None and ws.store.get_meta(LAST_SCREEN_KEY) != mode:
                ws.store.set_meta(LAST_SCREEN_KEY, mode)
        except (sqlite3.Error, UserError):
            pass  # a read-only or busy store: reopening on Task is no loss

    def on_chat_with_run(self, message: ChatWithRun) -> None:
        """Another screen asked to chat with a run: open Chat and hand it on."""
        self.action_goto("chat")
        self.screen.post_message(ChatWithRun(message.run_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        in_field = isinstance(self.focused, Input | TextArea)
        if action == "goto":
            from_escape = len(parameters) > 1 and bool(parameters[1])
            if isinstance(self.screen, ModalScreen) or (in_field and not from_escape):
                return False  # the key is text for the field, or a dialog is open
            if self.workspace is None and parameters and parameters[0] != "task":
                return None  # greyed: there is no project to show yet
        if action == "help":
            # In a text field `?` is text; in the overlay it closes it.
            return not in_field and not isinstance(self.screen, KeysHelp)
        return True

    # -- keys help and quitting ------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(KeysHelp(key_sections(self.screen)))

    async def action_quit(self) -> None:
        if not self.jobs.running:
            # Something short may still hold the MLX thread (a chat reply, a
            # preflight): the process ends when it returns, so say so on the
            # terminal rather than leave it silent.
            holder = self.mlx_holder
            wait = f"distill-tui: finishing {holder} before exiting" if holder else None
            self.exit(0, message=wait)
        elif isinstance(self.screen, QuitDialog):
            self.screen.quit_pressed_again()
        else:
            self.push_screen(QuitDialog(self.jobs))

    # -- distill.toml edited outside the app -----------------------------------
    def check_settings_file(self) -> None:
        """Pick up an outside edit of distill.toml (an editor, a headless
        command) so that the next save here cannot write over it."""
        ws = self.workspace
        if self.settings_file.watch() or ws is None or not ws.settings_changed_on_disk():
            return
        try:
            changed = ws.reload_settings()
        except UserError as e:
            if str(e) != self._settings_problem:  # once per new problem, not every second
                self._settings_problem = str(e)
                say(
                    self,
                    f"{e}. The app keeps its settings and does not write over the file"
                    " until it is fixed.",
                    title="distill.toml",
                    severity="warning",
                    timeout=10,
                )
            return
        self._settings_problem = ""
        if not changed:
            return
        more = f" and {len(changed) - 4} more" if len(changed) > 4 else ""
        shown = ", ".join(changed[:4]) + more
        say(self, f"Changed in the file: {shown}", title="distill.toml reloaded", timeout=6)
        self.settings_reloaded(changed)

    def settings_reloaded(self, changed: list[str]) -> None:
        """Tell every open screen that the settings changed under it."""
        for stack in self._screen_stacks.values():
            for screen in stack:
                screen.post_message(SettingsReloaded(changed))
        if any(c == "keys" or c.startswith("keys.") for c in changed):
            self.apply_keys()
        self.refresh_bindings()

    def project_created(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.refresh_bindings()
        say(self, f"Project created in {workspace.root}")

    # -- errors ----------------------------------------------------------------
    def report_error(self, error: BaseException, where: str = "") -> None:
        """Show a failure as a notification, never a traceback."""
        if isinstance(error, UserError):
            message = str(error)
        else:
            message = f"{type(error).__name__}: {error}"
        title = f"{where} failed" if where else "Error"
        say(self, message, title=title, severity="error", timeout=10)
        self.bell()

    def report_unexpected(self, error: Exception, where: str) -> None:
        """A bug of ours reached the safety net: one line for the user, the
        traceback in the crash log, and the app goes on."""
        path = safety.log_crash(self.root, error, where)
        say(
            self,
            f"Unexpected error ({type(error).__name__}: {error}). The app goes on and "
            f"nothing saved is lost; details in {path}",
            title="Bug",
            severity="error",
            timeout=15,
        )
        self.bell()

    def _handle_exception(self, error: Exception) -> None:
        """What the safety net cannot catch (drawing the screen itself failed):
        the traceback goes to the crash log, never to the terminal; a running job
        goes on without the screen, as after an SSH drop."""
        if self.is_headless:
            super()._handle_exception(error)
            return
        path = safety.log_crash(self.root, error, "drawing the screen")
        line = (
            f"distill-tui: unexpected error ({type(error).__name__}: {error}); "
            f"the traceback is in {path}. Everything saved is safe."
        )
        if self.jobs.running:
            self.jobs.leave_headless(line, exit_code=1)
        else:
            self.exit(return_code=1, message=Text(line))

    # -- command palette: every binding of the screen, plus navigation ----------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own (screenshot, maximize, its key panel) mean nothing here.
        yield SystemCommand("Theme", "Change the colours (ctrl+t)", self.action_change_theme)
        yield SystemCommand("Quit", "Quit distill-tui (ctrl+q)", self.action_quit)
        yield SystemCommand(
            "Keys", "Every key of this screen, one line each (?)", lambda: self.action_help()
        )
        for mode, name in SCREEN_NAMES.items():
            if mode == self.current_mode:
                continue
            if self.workspace is not None or mode == "task":
                yield SystemCommand(
                    f"Go to {name}", f"Open the {name} screen", lambda m=mode: self.action_goto(m)
                )
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            b = active.binding
            if not b.id or not b.description or b.action in seen:
                continue  # Textual's own keys (focus, copy) and aliases: not actions here
            if b.action in ("change_theme", "quit", "leave_field"):
                continue
            if b.action.startswith(("goto", "help")):
                continue
            if not active.enabled:
                continue
            seen.add(b.action)
            yield SystemCommand(
                b.description,
                f"{b.description} ({self.get_key_display(b)})",
                lambda node=active.node, action=b.action: self.run_action(action, node),
            )
