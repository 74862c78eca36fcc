"""The Chat screen's files checked as `distill.toml` is (issue 34 items 17
and 18): JSON this version cannot read as a conversation is kept aside as
`.bad` (the next reply overwrote it), and NaN, infinities and negative
values in `settings.json` keep their defaults with a notice naming them."""

from __future__ import annotations

import json

from distill_tui.cli import main
from distill_tui.core import chatlog


def test_a_conversation_this_version_cannot_read_is_kept_aside(tmp_path):
    path = chatlog.conversation_path(tmp_path, "run-1:best")
    path.parent.mkdir(parents=True)
    newer = {"version": 2, "target": "run-1:best", "turns": [{"user": "hi", "reply": "yo"}]}
    path.write_text(json.dumps(newer))
    conversation, notice = chatlog.load_conversation(tmp_path, "run-1:best")
    assert conversation.panes == {}
    bad = path.with_name(path.name + ".bad")
    assert f"kept as {bad.name}, starting empty" in notice and "\n" not in notice
    # The next reply is kept beside it, not over it.
    chatlog.save_conversation(tmp_path, "run-1:best", chatlog.Conversation({"a": [("q", "r")]}))
    assert json.loads(bad.read_text()) == newer
    assert chatlog.load_conversation(tmp_path, "run-1:best")[0].panes == {"a": [("q", "r")]}
    # A JSON value that is no object at all, too.
    path.write_text("[1, 2, 3]")
    assert ".bad" in chatlog.load_conversation(tmp_path, "run-1:best")[1]
    assert bad.read_text() == "[1, 2, 3]"


def test_settings_out_of_range_keep_their_defaults_and_say_which(tmp_path):
    folder = chatlog.chat_dir(tmp_path)
    folder.mkdir(parents=True)
    raw = '{"temperature": NaN, "top_p": Infinity, "max_tokens": -5, "seed": -1, "compare": true}'
    (folder / "settings.json").write_text(raw)
    state, notice = chatlog.load_state(tmp_path)
    assert (state.temperature, state.top_p, state.max_tokens, state.seed) == (0.0, 1.0, 512, 0)
    assert state.compare is True
    for words in (
        "temperature: Input should be a finite number (using 0.0)",
        "top_p: Input should be a finite number (using 1.0)",
        "max_tokens: Input should be greater than or equal to 1 (using 512)",
        "seed: Input should be greater than or equal to 0 (using 0)",
    ):
        assert words in notice
    assert "\n" not in notice
    # Values in range are used, and a list is no settings object.
    (folder / "settings.json").write_text(json.dumps({"temperature": 0.7, "top_p": 0.9}))
    assert chatlog.load_state(tmp_path) == (chatlog.ChatState(temperature=0.7, top_p=0.9), "")
    (folder / "settings.json").write_text("[]")
    state, notice = chatlog.load_state(tmp_path)
    assert state == chatlog.ChatState() and "settings.json.bad" in notice


def test_the_dialog_and_the_chat_command_hold_to_the_same_bounds(workspace, capsys):
    assert chatlog.check_settings(temperature=0.5, top_p=1.0, max_tokens=10, seed=3) == []
    assert chatlog.check_settings(temperature=float("nan"), seed=-1) == [
        ("temperature", "Input should be a finite number"),
        ("seed", "Input should be greater than or equal to 0"),
    ]
    root = str(workspace.root)
    assert main(["chat", root, "--base", "--prompt", "hi", "--seed", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "distill-tui: --seed: Input should be greater than or equal to 0"
