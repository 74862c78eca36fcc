"""Reading a teacher's list of inputs (core/synth/candidates.py) from hostile
replies: nested brackets never reach the recursive JSON parser, and a reply
full of brackets is read in one pass (each span parsed once), not once per
pair of brackets."""

from __future__ import annotations

import pytest

from distill_tui.core.synth import candidates
from distill_tui.core.synth.candidates import is_fragment, parse_list


@pytest.fixture
def parsed(monkeypatch) -> list[int]:
    """The length of every text handed to the JSON parser."""
    sizes: list[int] = []
    real = candidates._loads

    def counting(text: str) -> object:
        sizes.append(len(text))
        return real(text)

    monkeypatch.setattr(candidates, "_loads", counting)
    return sizes


@pytest.mark.parametrize(
    "reply",
    [
        "[" * 1200 + "]" * 1200,
        "{" * 1500 + "}" * 1500,
        '{"a": ' * 1200 + "1" + "}" * 1200,
        "[" * 100_000,
        '- [ "' * 3000,
    ],
    ids=["brackets", "braces", "objects", "unclosed", "marked-unclosed"],
)
def test_deep_nesting_is_no_list_and_no_recursion_error(reply, parsed):
    assert parse_list(reply) == []
    assert sum(parsed) <= len(reply)


def test_a_bracket_heavy_reply_is_read_in_one_pass(parsed):
    reply = "[x] " * 2000  # 8 KB: every bracket pair once, never pairs of pairs
    assert parse_list(reply) == []
    assert len(parsed) == 2000 and sum(parsed) == 3 * 2000


def test_lists_are_still_found_among_brackets_and_prose():
    assert parse_list('Sure [see "below]:\n["a b", "c d"]') == ["a b", "c d"]
    assert parse_list('{"inputs": ["one input", "two [inputs]"]}') == ["one input", "two [inputs]"]
    assert parse_list('Here [1 of 2]: ["x y", {"k": "v"}] and [z]') == ["x y", '{"k": "v"}']
    assert parse_list('```json\n[\n  "first",\n  "second"\n]\n```') == ["first", "second"]
    # A truncated array is no array: its marked lines are, less the cut last one.
    assert parse_list('["a", "b', truncated=True) == []
    assert parse_list("1. alpha\n2. beta\n3. gam", truncated=True) == ["alpha", "beta"]


def test_a_deep_fragment_is_a_fragment():
    assert is_fragment("[" * 5000 + "a")
