"""`distill-tui synth` against the loopback teacher: the teacher's topics as
they come, the estimate first, a coverage line per leaf, bad replies as one
line and no traceback."""

from __future__ import annotations

import json

from test_synth import Rewording, ready

from distill_tui.cli import main
from distill_tui.core.synth import topics


def test_synth_takes_the_teachers_topics_and_prints_coverage(workspace, fake, capsys):
    ready(workspace)
    fake.reply = Rewording()
    root = str(workspace.root)
    assert main(["synth", root, "--topics", "3", "--subtopics", "2", "--per-topic", "3"]) == 0
    out, err = capsys.readouterr()
    assert "topics: area 1-0, area 1-1, area 1-2" in err
    assert "estimate: 18 input(s) for 6 leaf topic(s)" in err
    assert out.count("/3, wrote") == 6 and "new inputs in the queue" in out
    assert len(topics.leaves(workspace.store)) == 6
    # A second run keeps the tree and asks only for what is missing.
    assert main(["synth", root, "--per-topic", "3", "--dry-run"]) == 0
    assert "estimate: 0 input(s) for 0 leaf topic(s)" in capsys.readouterr().err
    assert main(["synth", root, "--per-topic", "4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["leaves"]) == 6 and data["requests"] >= 1


def test_synth_refuses_bad_counts_and_bad_replies_in_one_line(workspace, fake, capsys):
    ready(workspace)
    root = str(workspace.root)
    assert main(["synth", root, "--per-topic", "0"]) == 2
    assert "--per-topic must be 1 to 50" in capsys.readouterr().err
    assert fake.requests == []
    fake.reply = lambda _t: "Sure! Topics could be many things."
    assert main(["synth", root, "--topics", "3"]) == 2
    err = capsys.readouterr().err
    assert "held no JSON array or list of topics" in err and "Traceback" not in err
    assert workspace.store.counts()["inputs"] == 0


def test_synth_says_what_it_waits_for_each_retry_and_each_leaf(workspace, fake, capsys):
    """Issue 35 item 1: minutes of silence while the teacher proposed topics."""
    ready(workspace)
    workspace.settings.teacher.max_attempts = 3
    workspace.save_settings()
    fake.reply = Rewording()
    fake.faults.append("500")  # the topics request fails once, then answers
    root = str(workspace.root)
    assert main(["synth", root, "--topics", "2", "--per-topic", "2"]) == 0
    err = capsys.readouterr().err
    t = workspace.settings.teacher
    assert f"waiting for {t.model}: 2 topic name(s) (up to {t.request_timeout_s:g} s a try)" in err
    assert "try 2 of 3 in " in err
    assert err.index("waiting for") < err.index("try 2 of 3") < err.index("topics: ")
    assert "2 input(s) for 'area 1-0' (leaf 1 of 2)" in err
    assert "2 input(s) for 'area 1-1' (leaf 2 of 2)" in err


def test_the_topic_tree_by_hand_headless(workspace, fake, capsys):
    """Issue 35 item 15: add, rename and delete topics and print the tree
    without asking the teacher."""
    ready(workspace)
    root = str(workspace.root)
    assert main(["synth", root, "--topics-only"]) == 0
    assert "the topic tree is empty" in capsys.readouterr().out
    assert main(["synth", root, "--add-topic", "refunds"]) == 0
    assert main(["synth", root, "--add-topic", "billing"]) == 0
    assert main(["synth", root, "--add-topic", "double charge", "--under", "billing"]) == 0
    assert "added 'double charge' under 'billing'" in capsys.readouterr().out
    assert main(["synth", root, "--rename-topic", "refunds", "returns"]) == 0
    assert "renamed 'refunds' to 'returns'" in capsys.readouterr().out
    assert [t.path for t in topics.tree(workspace.store)] == [
        "returns",
        "billing",
        "billing / double charge",
    ]
    assert main(["synth", root, "--add-topic", "x", "--under", "nowhere"]) == 2
    assert "no topic 'nowhere'" in capsys.readouterr().err
    assert main(["synth", root, "--delete-topic", "billing"]) == 0
    assert "deleted 'billing' and its 1 subtopic" in capsys.readouterr().out
    assert main(["synth", root, "--topics-only"]) == 0
    assert capsys.readouterr().out.splitlines() == ["  returns  (0 inputs)"]
    assert fake.requests == []
