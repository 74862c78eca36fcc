"""Synthesis under hostile replies and limits (issue 34 items 7-10): a reply
of nested brackets ends in one line, two runs at once are refused by the
runner lock, a leaf never keeps more than asked, and synthesis replies have
their own token limit and say when they hit it."""

from __future__ import annotations

import json
import re
import threading

from test_synth import FAST, WORDS, ready

from distill_tui.cli import main
from distill_tui.core.synth import topics
from distill_tui.engine.synth import topics as synth


class Generous:
    """Answers topic requests with distinct names and every input request
    with twice the inputs asked, each `size` characters or more, all new."""

    def __init__(self, size: int = 60) -> None:
        self.size = size
        self.n = 0

    def fresh(self) -> str:
        self.n += 1
        words = " ".join(WORDS[(self.n * 7 + i) % len(WORDS)] for i in range(9))
        text = f"Ticket {self.n}: my {words} stopped working"
        while len(text) < self.size:
            text += f" and {WORDS[(self.n + len(text)) % len(WORDS)]} {self.n}"
        return text

    def __call__(self, last: str) -> str:
        m = re.search(r"List (\d+) distinct", last)
        if m:
            return json.dumps([f"area {i}" for i in range(int(m.group(1)))])
        n = int(re.search(r"Write (\d+) new inputs", last).group(1))
        return json.dumps([self.fresh() for _ in range(2 * n)])


def per_leaf(ws) -> list[int]:
    return [t.kept for t in topics.leaves(ws.store)]


def test_nested_brackets_end_in_one_line_not_a_recursion_error(workspace, fake, capsys):
    ready(workspace)
    fake.reply = lambda _t: "[" * 1200 + "]" * 1200
    assert main(["synth", str(workspace.root), "--topics", "3"]) == 2
    err = capsys.readouterr().err
    assert "held no JSON array or list of topics" in err
    assert "Traceback" not in err and "RecursionError" not in err
    # One line of error; the lines before it say what the command waited for.
    errors = [ln for ln in err.strip().splitlines() if not ln.startswith("waiting for ")]
    assert len(errors) == 1 and errors[0].startswith("distill-tui: ")
    # Filling a leaf: the reply is paid, counted and said, nothing queued.
    topics.add(workspace.store, "billing")
    fake.reply = lambda _t: "[x] " * 2000
    res = synth.fill(workspace, 3, retry=FAST)
    assert res.leaves[0].stopped == "the teacher's replies held no JSON array or list"
    assert workspace.store.counts()["inputs"] == 0


def test_a_leaf_keeps_at_most_per_topic(workspace, fake):
    ready(workspace)
    fake.reply = Generous()
    for name in ("billing", "login"):
        topics.add(workspace.store, name)
    res = synth.fill(workspace, 2, retry=FAST)
    assert per_leaf(workspace) == [2, 2] and res.kept == 4
    assert res.requests == 2  # each leaf full after one reply
    # And with more asked: 10, though each reply holds 20.
    topics.add(workspace.store, "export")
    synth.fill(workspace, 10, retry=FAST)
    assert per_leaf(workspace) == [10, 10, 10]


def test_synthesis_has_its_own_token_limit_and_says_when_it_is_hit(workspace, fake):
    ready(workspace)
    workspace.settings.teacher.max_tokens = 32  # right for a one-label answer
    workspace.save_settings()
    fake.cut_at_max_tokens = True
    fake.reply = Generous()
    topics.add(workspace.store, "billing")
    res = synth.fill(workspace, 8, retry=FAST)
    asked = [r["max_tokens"] for r in fake.message_requests]
    assert asked and all(m == synth.MIN_REPLY_TOKENS for m in asked)
    assert res.kept == 8 and res.cut == 0 and "token limit" not in res.summary()
    # Inputs far longer than the examples: the reply is cut, and that is said.
    fake.reply = Generous(size=900)
    topics.add(workspace.store, "refunds")
    res = synth.fill(workspace, 8, retry=FAST)
    assert res.cut >= 1 and res.max_tokens == synth.MIN_REPLY_TOKENS
    assert "reply(ies) hit the synthesis token limit of 1024 tokens" in res.summary()
    assert "hit the token limit" in res.leaves[0].line()
    # Generation keeps the teacher's own limit.
    assert workspace.settings.teacher.max_tokens == 32


def test_two_synth_runs_at_once_take_the_generate_lock(workspace, fake, capsys):
    """The first run holds the runner lock from its look at the empty tree to
    its last request: the second is refused in generate's words, unpaid."""
    ready(workspace)
    inside, release = threading.Event(), threading.Event()
    answer = Generous()

    def slow(last: str) -> str:
        inside.set()
        assert release.wait(10)
        return answer(last)

    fake.reply = slow
    root = str(workspace.root)
    first: list[int] = []
    args = ["synth", root, "--topics", "2", "--per-topic", "2"]
    t = threading.Thread(target=lambda: first.append(main(args)))
    t.start()
    try:
        assert inside.wait(10)
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "generation is already running for this project (synth, this process)" in err
        assert len(fake.message_requests) == 1
        # generate is refused alike while synthesis runs: they share one budget.
        assert main(["generate", root]) == 2
        assert "generation is already running" in capsys.readouterr().err
    finally:
        release.set()
        t.join(30)
    assert first == [0]
    assert [t.name for t in topics.tree(workspace.store)] == ["area 0", "area 1"]
    assert len(fake.message_requests) == 3  # one proposal, one reply per leaf
    assert per_leaf(workspace) == [2, 2]
