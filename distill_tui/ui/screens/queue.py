"""The Queue screen (placeholder until its issue lands)."""

from __future__ import annotations

from distill_tui.ui.screens.placeholder import StoreSummaryScreen


class QueueScreen(StoreSummaryScreen):
    MODE = "queue"
    DESCRIPTION = "The generation queue"
