"""What the Chat screen keeps between sessions: settings, and the
conversation per model, bounded, written whole, and never a crash on a
damaged file."""

from __future__ import annotations

import json

from distill_tui.core import chatlog


def test_settings_and_conversations_round_trip_per_model(tmp_path):
    state = chatlog.ChatState(temperature=0.7, max_tokens=40, compare=True)
    chatlog.save_state(tmp_path, state)
    assert chatlog.load_state(tmp_path) == (state, "")
    a = chatlog.Conversation({"a": [("hi", "hello")], "b": [("hi", "base says hi")]}, "__base__")
    chatlog.save_conversation(tmp_path, "run-1:best", a)
    chatlog.save_conversation(tmp_path, "run-2:best", chatlog.Conversation({"a": [("x", "y")]}))
    assert chatlog.load_conversation(tmp_path, "run-1:best") == (a, "")
    assert chatlog.load_conversation(tmp_path, "run-2:best")[0].panes == {"a": [("x", "y")]}
    assert chatlog.load_conversation(tmp_path, "run-3:best")[0].panes == {}
    # An empty conversation removes its file.
    chatlog.save_conversation(tmp_path, "run-1:best", chatlog.Conversation({"a": []}))
    assert not chatlog.conversation_path(tmp_path, "run-1:best").exists()
    assert not list(chatlog.chat_dir(tmp_path).glob("*.tmp"))


def test_a_long_conversation_keeps_its_newest_exchanges(tmp_path):
    many = [(f"q{i}", "r" * 20_000) for i in range(200)]
    chatlog.save_conversation(tmp_path, "k", chatlog.Conversation({"a": many}))
    kept = chatlog.load_conversation(tmp_path, "k")[0].panes["a"]
    assert kept[-1] == many[-1] and len(kept) < chatlog.MAX_EXCHANGES
    assert sum(len(u) + len(r) for u, r in kept) <= chatlog.MAX_CHARS


def test_a_damaged_file_is_set_aside_and_the_chat_starts_empty(tmp_path):
    chatlog.chat_dir(tmp_path).mkdir(parents=True)
    (chatlog.chat_dir(tmp_path) / "settings.json").write_text("{not json")
    state, notice = chatlog.load_state(tmp_path)
    assert state == chatlog.ChatState()
    assert "unreadable (not valid JSON); kept as settings.json.bad, starting empty" in notice
    assert (chatlog.chat_dir(tmp_path) / "settings.json.bad").read_text() == "{not json"
    path = chatlog.conversation_path(tmp_path, "k")
    path.write_text(json.dumps({"target": "k", "panes": {"a": [["only one"]]}}))
    conversation, notice = chatlog.load_conversation(tmp_path, "k")
    assert conversation.panes == {} and "starting empty" in notice
    # Values of the wrong type keep their defaults; the rest is used.
    (chatlog.chat_dir(tmp_path) / "settings.json").write_text(
        json.dumps({"max_tokens": "lots", "compare": True, "temperature": 0.5, "seed": True})
    )
    state, _ = chatlog.load_state(tmp_path)
    assert (state.max_tokens, state.compare, state.temperature, state.seed) == (512, True, 0.5, 0)
