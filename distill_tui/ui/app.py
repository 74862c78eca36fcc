"""The Textual app: the composition root. It receives the project folder, the
workspace (or None when the folder has no project yet) and the MLX thread, and
wires the five screens; the screens hold no business logic."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, TextArea

from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.engine.mlx_thread import MLXThread, mlx_thread
from distill_tui.ui import safety, themes
from distill_tui.ui.jobs import Jobs
from distill_tui.ui.screens.chat import ChatScreen
from distill_tui.ui.screens.curate import CurateScreen
from distill_tui.ui.screens.queue import QueueScreen
from distill_tui.ui.screens.task import TaskScreen
from distill_tui.ui.screens.train import TrainScreen
from distill_tui.ui.text import say

SCREEN_NAMES = {
    "task": "Task",
    "queue": "Queue",
    "curate": "Curate",
    "train": "Train",
    "chat": "Chat",
}


class DistillApp(App[int]):
    TITLE = "distill-tui"
    CSS_PATH = "app.tcss"
    MODES = {
        "task": TaskScreen,
        "queue": QueueScreen,
        "curate": CurateScreen,
        "train": TrainScreen,
        "chat": ChatScreen,
    }
    BINDINGS = [
        # Priority, so a table or list with the focus cannot swallow them; while a
        # text field has the focus `check_action` lets digits through to it.
        *(
            Binding(str(i), f"goto('{mode}')", name, show=False, id=f"goto-{mode}", priority=True)
            for i, (mode, name) in enumerate(SCREEN_NAMES.items(), start=1)
        ),
        Binding("ctrl+t", "change_theme", "Theme", id="theme"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(
        self,
        root: Path,
        workspace: Workspace | None,
        mlx: MLXThread | None = None,
    ) -> None:
        safety.install()
        super().__init__()
        self.root = root
        self.workspace = workspace
        # A run to select on the Chat screen when it next shows (set by the
        # Train screen's runs list; Chat clears it once taken).
        self.chat_run_id: str | None = None
        self._mlx = mlx
        self.jobs = Jobs(self)
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
        self.jobs.install_hangup_handler()
        _, problems = themes.load_themes()
        for p in problems:
            say(self, p, severity="warning")
        self.switch_mode("task")

    def watch_theme(self, name: str) -> None:
        if self._theme_chosen_by_user:  # the saved theme set in __init__ is not a new choice
            themes.save_theme(name)

    # -- navigation ----------------------------------------------------------
    def action_goto(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "goto":
            if isinstance(self.focused, Input | TextArea) or isinstance(self.screen, ModalScreen):
                return False  # the key is text for the field, or a dialog is open
            if self.workspace is None and parameters and parameters[0] != "task":
                return None  # greyed: there is no project to show yet
        return True

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
            self.jobs.continue_without_screen(line)
        else:
            self.exit(return_code=1, message=Text(line))

    # -- command palette: every binding of the screen, plus navigation ----------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, name in SCREEN_NAMES.items():
            if self.workspace is not None or mode == "task":
                yield SystemCommand(
                    f"Go to {name}", f"Open the {name} screen", lambda m=mode: self.action_goto(m)
                )
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            b = active.binding
            if not b.description or b.action in seen or b.action.startswith("goto"):
                continue
            if not active.enabled:
                continue
            seen.add(b.action)
            yield SystemCommand(
                b.description,
                f"{b.description} ({key})",
                lambda node=active.node, action=b.action: self.run_action(action, node),
            )
