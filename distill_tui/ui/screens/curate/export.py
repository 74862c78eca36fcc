"""Export from the Curate screen: the same `export_dataset` the `export`
command calls, in a worker, with the result in words."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.message import Message

from distill_tui.core import paths
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.errors import UserError
from distill_tui.ui.screens.base import BaseScreen
from distill_tui.ui.text import say


@dataclass
class DatasetExported(Message):
    summary: str


@dataclass
class ExportFailed(Message):
    error: str


class ExportMixin(BaseScreen):
    """For the Curate screen: `action_export` writes data/{train,valid,test}.jsonl;
    `action_export_preferences` also the preference pairs and KTO rows in
    data/pref/ (`export --preferences`)."""

    def action_export(self) -> None:
        self._export()

    def action_export_preferences(self) -> None:
        self._export(preferences=True)

    @work(thread=True, group="curate-export", exclusive=True, exit_on_error=False)
    def _export(self, preferences: bool = False) -> None:
        from distill_tui.core.curate.preferences import export_preferences

        ws = self.ws
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
            c, src = pref.counts, pref.by_source
            summary += (
                f" Preferences: {c['train']} training / {c['valid']} validation pairs"
                f" ({src['edit']} from edits, {src['regen']} from regenerations),"
                f" {c['kto_train'] + c['kto_valid']} KTO rows in data/pref/: objective dpo"
                " or kto on screen 4."
            )
        self.post_message(DatasetExported(summary))

    def on_dataset_exported(self, msg: DatasetExported) -> None:
        say(self, msg.summary, title="Export")

    def on_export_failed(self, msg: ExportFailed) -> None:
        say(self, msg.error, title="Export failed", severity="error", timeout=10)
