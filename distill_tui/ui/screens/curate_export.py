"""Export from the Curate screen: the same `export_dataset` the `export`
command calls, in a worker, with the result in words."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.message import Message

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.export import export_dataset


@dataclass
class DatasetExported(Message):
    summary: str


@dataclass
class ExportFailed(Message):
    error: str


class ExportMixin:
    """For the Curate screen: `action_export` writes data/{train,valid,test}.jsonl."""

    def action_export(self) -> None:
        self._export()  # type: ignore[call-arg]

    @work(thread=True, group="curate-export", exclusive=True, exit_on_error=False)
    def _export(self) -> None:
        ws = self.workspace  # type: ignore[attr-defined]
        try:
            res = export_dataset(ws.root, ws.store, ws.settings)
        except UserError as e:
            self.post_message(ExportFailed(str(e)))  # type: ignore[attr-defined]
            return
        parts = [f"{k} {n}" for k, n in res.counts.items() if n]
        summary = (
            f"Exported {', '.join(parts)} rows to {paths.data_dir(ws.root)}/"
            f" ({res.format} format). Train them on screen 4."
        )
        self.post_message(DatasetExported(summary))  # type: ignore[attr-defined]

    def on_dataset_exported(self, msg: DatasetExported) -> None:
        self.notify(Text(msg.summary), title="Export", markup=False)  # type: ignore[attr-defined]

    def on_export_failed(self, msg: ExportFailed) -> None:
        self.notify(  # type: ignore[attr-defined]
            Text(msg.error), title="Export failed", severity="error", markup=False, timeout=10
        )
