"""Editing a row on the Curate screen: in a dialog (`e`) or in $EDITOR (`E`),
through `core.curation.edit`, which keeps the teacher's original."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.screen import ModalScreen

from distill_tui.core import curation as cur
from distill_tui.core import curation_query as cq
from distill_tui.core.errors import UserError
from distill_tui.ui.screens.base import BaseScreen
from distill_tui.ui.screens.curate_dialogs import EditDialog, Edited, edit_externally


class EditMixin(BaseScreen):
    """Mixed into CurateScreen, which provides current, _guard, _after_change and _push."""

    if TYPE_CHECKING:

        @property
        def current(self) -> cq.RowView | None: ...
        def _guard(self, fn: Callable[..., Any], *args: Any) -> bool: ...
        def _after_change(self, advance: bool) -> None: ...
        def _push(self, dialog: ModalScreen[Any], callback: Callable[[Any], None]) -> None: ...

    def action_edit(self) -> None:
        row = self.current
        if row is None:
            return

        def done(result: Edited | None) -> None:
            if result is not None and self._guard(
                cur.edit, self.ws.store, row.id, result.output, result.input
            ):
                self._after_change(advance=False)

        self._push(EditDialog(row.id, row.input, row.output or ""), done)

    def action_edit_external(self) -> None:
        row = self.current
        if row is None:
            return
        from textual.app import SuspendNotSupported

        try:
            with self.app.suspend():
                text = edit_externally(row.output or "")
        except SuspendNotSupported:
            self.distill_app.report_error(UserError("this terminal cannot hand over to $EDITOR"))
            return
        except (OSError, Exception) as e:  # noqa: BLE001 - editor missing or failed
            self.distill_app.report_error(UserError(f"$EDITOR failed: {e}"))
            return
        if self._guard(cur.edit, self.ws.store, row.id, text):
            self._after_change(advance=False)
