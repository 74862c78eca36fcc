"""Export from the Curate screen as a component that draws nothing: the same
`export_dataset` the `export` command calls, in its own worker, with the
result (or what stopped it) said in words."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker

from distill_tui.core import paths
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.display import plural
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.ui.screens.base import report_failed_worker
from distill_tui.ui.text import say


def preferences_line(c: dict[str, int], sources: str) -> str:
    """What the preference export wrote, its counts agreeing with their nouns."""
    return (
        f" Preferences: {plural(c['train'], 'training pair')} /"
        f" {plural(c['valid'], 'validation pair')} ({sources}),"
        f" {plural(c['kto_train'] + c['kto_valid'], 'KTO row')} in data/pref/: objective dpo"
        " or kto on screen 4."
    )


@dataclass
class DatasetExported(Message):
    summary: str


@dataclass
class ExportFailed(Message):
    error: str


class Exporter(Widget):
    """`start()` writes data/{train,valid,test}.jsonl; `start(preferences=True)`
    also the preference pairs and KTO rows in data/pref/ (`export --preferences`)."""

    DEFAULT_CSS = "Exporter { display: none; }"

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self._ws = ws

    def start(self, preferences: bool = False) -> None:
        self._export(preferences)

    @work(thread=True, group="curate-export", exclusive=True, exit_on_error=False, name="Export")
    def _export(self, preferences: bool) -> None:
        from distill_tui.core.curate.preferences import export_preferences, sources_text

        ws = self._ws
        try:
            res = export_dataset(ws.root, ws.store, ws.settings)
            pref = export_preferences(ws.root, ws.store, ws.settings) if preferences else None
        except UserError as e:
            self.post_message(ExportFailed(str(e)))
            return
        parts = [f"{k} {n}" for k, n in res.counts.items() if n]
        summary = (
            f"Exported {', '.join(parts)} rows to {paths.data_dir(ws.root)}/"
            f" ({res.format} format). Train them on screen 4."
        )
        if pref is not None:
            summary += preferences_line(pref.counts, sources_text(pref.by_source))
        self.post_message(DatasetExported(summary))

    def on_dataset_exported(self, msg: DatasetExported) -> None:
        say(self, msg.summary, title="Export")

    def on_export_failed(self, msg: ExportFailed) -> None:
        say(self, msg.error, title="Export failed", severity="error", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_failed_worker(self, event)
