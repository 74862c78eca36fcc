"""What the Chat screen remembers between sessions (`core.chatlog`): the
settings and compare mode for the project, the conversation per model
picked. The screen calls `restore_state` when it opens, `switched` when the
picked model changes, and `keep` after each reply or change; a file that
cannot be read is said once in a toast and the chat starts empty."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.dom import DOMNode

from distill_tui.core import chatlog
from distill_tui.engine.chat.session import GenSettings
from distill_tui.ui.text import say


class ChatMemory:
    def __init__(self, node: DOMNode, root: Path) -> None:
        self._node, self._root = node, root
        self.target: str | None = None  # the picker key whose conversation is shown
        self._failed = False  # a write failed: said once

    def _notice(self, notice: str) -> None:
        if notice:
            say(self._node, notice, severity="warning", timeout=10)

    def restore_state(self, settings: GenSettings, training_prompt: str) -> bool:
        """Fill `settings` from the saved ones; returns whether compare was on."""
        state, notice = chatlog.load_state(self._root)
        self._notice(notice)
        settings.temperature, settings.top_p = state.temperature, state.top_p
        settings.max_tokens, settings.seed = state.max_tokens, state.seed
        settings.system_prompt = (
            training_prompt if state.system_prompt is None else state.system_prompt
        )
        return state.compare

    def _saved(self, write: Callable[[], None]) -> None:
        try:
            write()
        except OSError as e:  # a full disk or a read-only project: the chat goes on
            if not self._failed:
                self._failed = True
                say(self._node, f"the chat is not kept for next time: {e}", severity="warning")

    def keep_state(self, settings: GenSettings, training_prompt: str, compare: bool) -> None:
        changed = settings.system_prompt != training_prompt
        self._saved(
            lambda: chatlog.save_state(
                self._root,
                chatlog.ChatState(
                    temperature=settings.temperature,
                    top_p=settings.top_p,
                    max_tokens=settings.max_tokens,
                    seed=settings.seed,
                    system_prompt=settings.system_prompt if changed else None,
                    compare=compare,
                ),
            )
        )

    def switched(self, target: str | None) -> chatlog.Conversation | None:
        """The conversation kept with a newly picked model; None when the
        pick did not change."""
        if target == self.target:
            return None
        self.target = target
        if target is None:
            return chatlog.Conversation({})
        conversation, notice = chatlog.load_conversation(self._root, target)
        self._notice(notice)
        return conversation

    def keep(self, panes: dict[str, list[tuple[str, str]]], versus: str | None) -> None:
        target = self.target
        if target is not None:
            conversation = chatlog.Conversation(panes, versus)
            self._saved(lambda: chatlog.save_conversation(self._root, target, conversation))
