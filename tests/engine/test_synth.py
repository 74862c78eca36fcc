"""Synthesis against the loopback teacher: topics proposed and edited, leaves
filled round robin, and every candidate filtered before it is queued. The
fake teacher writes reworded copies on purpose, as weak teachers do."""

from __future__ import annotations

import json
import random
import re

import pytest
from support.llm_server import FakeLLM

from distill_tui.core.config import Example
from distill_tui.core.errors import UserError
from distill_tui.core.generate import side_costs
from distill_tui.core.synth import topics
from distill_tui.engine.generate.queue import RetryPolicy, run_queue
from distill_tui.engine.synth import topics as synth

FAST = RetryPolicy(max_attempts=2, base_s=0.01, cap_s=0.02)
WORDS = (
    "invoice refund card login password export report printer screen account upgrade "
    "plan team seat email phone address delivery parcel label tracking order coupon "
    "discount tax receipt bank transfer wallet app crash sync backup restore calendar "
    "meeting reminder alert badge theme font language region currency storage quota"
).split()


def ready(ws, price: bool = True) -> None:
    t = ws.settings.teacher
    t.model = "claude-haiku-4-5"
    t.requests_per_minute = 0
    t.request_timeout_s = 2
    task = ws.settings.task
    task.instructions = "Label the support ticket: billing, bug or account."
    task.input_description = "a customer's support ticket, one or two sentences"
    task.examples = [
        Example(input=f"My {w} is not working since this morning, please help", output="bug")
        for w in ("printer", "login", "export", "sync", "backup")
    ]
    ws.save_settings()


@pytest.fixture
def teacher(monkeypatch, workspace):
    with FakeLLM() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        ready(workspace)
        yield server


class Rewording:
    """Answers topic requests with distinct names and input requests with n
    inputs of which ~30% are reworded copies (of the same reply or of what
    the leaf already has) and some exact repeats; it remembers every copy."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.copies: list[str] = []
        self.exact: list[str] = []
        self.topic_calls = 0

    def fresh(self) -> str:
        words = self.rng.sample(WORDS, 9)
        return f"Hello, my {words[0]} and {words[1]} " + " ".join(words[2:]) + " stopped, why?"

    def reword(self, text: str) -> str:
        return text.replace("Hello, my", "Hi, my", 1).replace("why?", "WHY ??")

    def __call__(self, last: str) -> str:
        m = re.search(r"List (\d+) distinct", last)
        if m:
            self.topic_calls += 1
            n = int(m.group(1))
            return json.dumps([f"area {self.topic_calls}-{i}" for i in range(n)])
        n = int(re.search(r"Write (\d+) new inputs", last).group(1))
        have = re.findall(r"<input>\n(.*?)\n</input>", last)
        out: list[str] = []
        for _ in range(n):
            pool = out + [h for h in have if h.startswith("Hello")]
            roll = self.rng.random()
            if pool and roll < 0.3:
                copy = self.reword(self.rng.choice(pool))
                self.copies.append(copy)
                out.append(copy)
            elif pool and roll < 0.38:
                self.exact.append(self.rng.choice(pool))
                out.append(self.exact[-1])
            else:
                out.append(self.fresh())
        return "Here they are:\n```json\n" + json.dumps(out) + "\n```"


def stored(ws) -> list[str]:
    return [r[0] for r in ws.store.conn.execute("SELECT input FROM rows")]


def test_a_4x4_tree_of_reworded_copies_keeps_originals_only(workspace, teacher):
    """Issue 22 acceptance: a teacher answering with 30% near-duplicates over
    a 4x4 tree and 4 inputs per leaf."""
    fake = Rewording()
    teacher.reply = fake
    roots = synth.propose_topics(workspace, 4, retry=FAST)
    assert roots.names == [f"area 1-{i}" for i in range(4)]
    for rid in roots.ids:
        synth.propose_topics(workspace, 4, rid, retry=FAST)
    leaves = topics.leaves(workspace.store)
    assert len(leaves) == 16 and leaves[0].path == "area 1-0 / area 2-0"

    est = synth.estimate(workspace, 4)
    assert est.leaves == 16 and est.inputs == 64 and est.cost_usd is not None
    res = synth.fill(workspace, 4, retry=FAST)

    rows = stored(workspace)
    assert fake.copies, "the fake teacher wrote no reworded copies"
    removed = sum(c not in rows for c in fake.copies)
    assert removed / len(fake.copies) >= 0.95
    assert len(rows) == len(set(rows)) and not any(r.startswith("Hi, my") for r in rows)
    tree = topics.leaves(workspace.store)
    assert all(t.kept >= 1 for t in tree)
    # Rows record their leaf, in the table and in their source.
    got = workspace.store.conn.execute(
        "SELECT origin, source, topic_id, status FROM rows ORDER BY id LIMIT 1"
    ).fetchone()
    assert got["origin"] == "synth" and got["status"] == "pending"
    assert got["source"] == f"synth: {tree[0].path}" and got["topic_id"] == tree[0].id
    # Coverage: kept / wanted per leaf, what was dropped and the duplicate rate.
    assert res.kept == len(rows) == sum(t.kept for t in tree)
    assert sum(t.duplicates for t in tree) > 0 and res.duplicate_rate() > 0
    lines = topics.describe_coverage(tree, 4)
    assert len(lines) == 16 and "kept " in lines[0] and "/4" in lines[0]
    assert any("near-duplicate" in ln for ln in lines)
    # Paid for and counted as a side cost; the queue answers them.
    assert side_costs.totals(workspace.store)[synth.PURPOSE]["requests"] == res.requests + 5
    teacher.reply = None
    assert run_queue(workspace, retry=FAST, limit=3).reason == "limit"
    assert workspace.store.counts()["done"] == 3


def test_a_leaf_of_mostly_duplicates_stops_early(workspace, teacher):
    tid = topics.add(workspace.store, "refunds")
    workspace.store.add_inputs([("Where is my refund for order 1234, it has been weeks", None)])
    teacher.reply = lambda _t: json.dumps(
        [
            "Where is my refund for order 1234, it has been weeks!",
            "where is my refund for order 1234, it has been WEEKS",
            "I cancelled my plan, when does the money come back?",
        ]
    )
    res = synth.fill(workspace, 10, retry=FAST)
    assert res.requests == 1 and res.leaves[0].stopped == "stopped early: mostly duplicates"
    # Same words once case and spacing are ignored: a duplicate; one "!" more: near.
    assert res.leaves[0].kept == 1
    assert res.leaves[0].dropped["duplicate"] == res.leaves[0].dropped["near-duplicate"] == 1
    assert topics.tree(workspace.store)[0].exhausted
    assert "mostly duplicates" in topics.describe_coverage(topics.tree(workspace.store))[0]
    assert [r for r in stored(workspace) if "cancelled" in r]
    assert tid == topics.tree(workspace.store)[0].id


@pytest.mark.parametrize(
    "reply",
    ["I cannot help with that.", "", "x" * 3000, '```\n{\n"a": 1,\n```'],
    ids=["not-json", "empty", "giant-line", "broken-fence"],
)
def test_bad_teacher_output_queues_nothing_and_says_so(workspace, teacher, reply):
    teacher.reply = lambda _t: reply
    with pytest.raises(UserError) as e:
        synth.propose_topics(workspace, 3, retry=FAST)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300
    assert topics.tree(workspace.store) == []
    topics.add(workspace.store, "billing")
    if reply == "":
        with pytest.raises(UserError, match="empty"):
            synth.fill(workspace, 3, retry=FAST)
    else:
        res = synth.fill(workspace, 3, retry=FAST)
        assert res.leaves[0].stopped == "the teacher's replies held no JSON array or list"
        line = topics.describe_coverage(topics.tree(workspace.store), 3)[0]
        assert line == "billing: kept 0/3, wrote 0, asked 6, the replies held no list"
    assert stored(workspace) == []


def test_synthesis_waits_for_instructions_and_five_examples(workspace, teacher):
    workspace.settings.task.examples = workspace.settings.task.examples[:4]
    assert synth.readiness(workspace) == "add at least 5 examples first (the task has 4)"
    with pytest.raises(UserError, match="needs instructions and 5 examples"):
        synth.propose_topics(workspace, 3)
    assert teacher.requests == []


def test_the_cost_cap_stops_synthesis(workspace, teacher):
    fake = Rewording()
    teacher.reply = fake
    for i in range(6):
        topics.add(workspace.store, f"topic {i}")
    workspace.settings.teacher.max_cost_usd = 0.0005
    res = synth.fill(workspace, 4, retry=FAST)
    assert res.capped and "stopped at the cost cap" in res.summary()
    assert 0 < res.requests < 6
    assert res.cost_usd <= 0.0005 + res.cost_usd / res.requests


def test_editing_the_tree(workspace):
    a = topics.add(workspace.store, "  billing\n questions ")
    b = topics.add(workspace.store, "refunds", a)
    with pytest.raises(UserError, match="two levels deep"):
        topics.add(workspace.store, "deeper", b)
    with pytest.raises(UserError, match="needs a name"):
        topics.rename(workspace.store, a, "   ")
    topics.rename(workspace.store, b, "late refunds")
    assert [t.path for t in topics.tree(workspace.store)] == [
        "billing questions",
        "billing questions / late refunds",
    ]
    assert [t.name for t in topics.leaves(workspace.store)] == ["late refunds"]
    assert topics.delete(workspace.store, a) == 2 and topics.tree(workspace.store) == []
