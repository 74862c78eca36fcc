"""The Train screen (placeholder until its issue lands)."""

from __future__ import annotations

from distill_tui.ui.screens.placeholder import StoreSummaryScreen


class TrainScreen(StoreSummaryScreen):
    MODE = "train"
    DESCRIPTION = "Training"
