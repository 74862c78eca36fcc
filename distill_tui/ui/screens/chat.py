"""The Chat screen (placeholder until its issue lands)."""

from __future__ import annotations

from distill_tui.ui.screens.placeholder import StoreSummaryScreen


class ChatScreen(StoreSummaryScreen):
    MODE = "chat"
    DESCRIPTION = "Chat, evaluate and fuse"
