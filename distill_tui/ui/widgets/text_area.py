"""A TextArea whose ctrl+k deletes to the end of the logical line, as
readline and emacs do. Textual's deletes to the end of the wrapped screen
line, so with soft wrap on it left the rest of a sentence behind."""

from __future__ import annotations

from textual.widgets import TextArea
from textual.widgets.text_area import Location


class EditArea(TextArea):
    def _logical_line_end(self) -> Location:
        row, _ = self.cursor_location
        return (row, len(self.document.get_line(row)))

    def action_delete_to_end_of_line(self) -> None:
        self._delete_via_keyboard(self.selection.end, self._logical_line_end())

    async def action_delete_to_end_of_line_or_delete_line(self) -> None:
        row = self.cursor_location[0]
        empty = not self.document.get_line(row)
        at_end = self.selection.start == self.selection.end == self._logical_line_end()
        # An empty line goes; at a line's end the next line joins it (Textual's rules).
        action = "delete_line" if empty else "delete_right" if at_end else "delete_to_end_of_line"
        await self.run_action(action)
