"""The Train screen's runs list: every run with its status, iterations, best
validation loss, objective, parent (the start time of the SFT run a DPO/KTO
run started from; "base" for an SFT run), failure reason and start time,
newest first; the highlighted run's lineage, last verdict and full reason
show below the table. Keys post `RunAction` for the
screen to carry out (open in the monitor, chat with it, delete it)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from distill_tui.core.evaluate import lineage
from distill_tui.core.train import runs as runs_db
from distill_tui.ui.text import data_text


@dataclass
class RunAction(Message):
    action: str  # "monitor" | "chat" | "delete" | "close"
    run_id: str | None


def _started(at: float) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(at))


def _best(run: runs_db.Run) -> str:
    if run.best_val_loss is None:
        return "-"
    return f"{run.best_val_loss:.3f}@{run.best_iter}"


class RunsTable(DataTable):
    BINDINGS = [
        Binding("enter", "act('monitor')", "Monitor", id="runs-open"),
        Binding("c", "act('chat')", "Chat with it", id="runs-chat"),
        Binding("d,delete", "act('delete')", "Delete", id="runs-delete"),
        Binding("escape", "act('close')", "Back", id="runs-close"),
    ]

    @property
    def selected(self) -> str | None:
        if not self.row_count:
            return None
        value = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return value if isinstance(value, str) else None

    def action_act(self, action: str) -> None:
        run_id = self.selected
        if action == "close" or run_id is not None:
            self.post_message(RunAction(action, run_id))


class RunsView(Vertical):
    DEFAULT_CSS = """
    RunsView > #runs-title { height: 1; color: $primary; text-style: bold; }
    RunsView > RunsTable { height: 1fr; }
    RunsView > #runs-detail { height: auto; max-height: 4; color: $text-muted; }
    RunsView > #runs-detail.-failed { color: $error; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("Runs · enter monitor · c chat · d delete · esc back"), id="runs-title")
        yield RunsTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="runs-detail")

    def on_mount(self) -> None:
        self.query_one(RunsTable).add_columns(
            "Started", "Status", "Iter", "Best val", "Obj", "From", "Reason"
        )

    def show(
        self,
        runs: list[runs_db.Run],
        select: str | None = None,
        verdicts: dict[str, str | None] | None = None,
    ) -> None:
        """`verdicts`: each run's last verdict against its parent, by run id."""
        self._verdicts = verdicts or {}
        table = self.query_one(RunsTable)
        keep = select or self.selected
        self._runs = {r.id: r for r in runs}
        table.clear()
        for r in runs:
            lin = lineage.of_config(r.config)
            parent = self._runs.get(lin.parent) if lin.parent else None
            table.add_row(
                _started(r.created_at),
                r.status.replace("_", " "),
                f"{r.iter}/{r.iters_total or 0}",
                _best(r),
                lin.objective,
                # The parent as its own Started cell reads, so the eye finds its row.
                _started(parent.created_at) if parent else data_text(lin.parent or "base"),
                data_text((r.error or "").splitlines()[0] if r.error else ""),
                key=r.id,
            )
        ids = [r.id for r in runs]
        if keep in ids:
            table.move_cursor(row=ids.index(keep))
        self._detail()
        if not runs:
            self.query_one("#runs-detail", Static).update(Text("No runs yet: ctrl+r trains"))

    @property
    def selected(self) -> str | None:
        return self.query_one(RunsTable).selected

    def _detail(self) -> None:
        run = getattr(self, "_runs", {}).get(self.selected)
        box = self.query_one("#runs-detail", Static)
        if run is None:
            box.update("")
            return
        box.set_class(run.status == "failed", "-failed")
        text = f"run {run.id}  {run.status.replace('_', ' ')}"
        text += f" · {lineage.of_config(run.config).describe()}"
        found = getattr(self, "_verdicts", {}).get(run.id)
        text += f" · last verdict: {found or 'not evaluated against its parent'}"
        if run.error:
            text += f": {run.error}"
        box.update(data_text(text))

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._detail()
