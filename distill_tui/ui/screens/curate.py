"""The Curate screen (placeholder until its issue lands)."""

from __future__ import annotations

from distill_tui.ui.screens.placeholder import StoreSummaryScreen


class CurateScreen(StoreSummaryScreen):
    MODE = "curate"
    DESCRIPTION = "Curate rows"
