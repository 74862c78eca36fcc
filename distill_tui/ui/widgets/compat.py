"""Names that differ across the Textual versions pyproject allows."""

from __future__ import annotations

from typing import Any

from textual.widgets import Select

# Select's "nothing picked" value: `Select.NULL` in newer Textual, `Select.BLANK`
# in 6.2 (where newer versions' `BLANK` is an unrelated widget flag).
NO_SELECTION: Any = Select.NULL if hasattr(Select, "NULL") else Select.BLANK
