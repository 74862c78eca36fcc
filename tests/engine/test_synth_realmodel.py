"""Synthesis with a real local teacher, SmolLM2-135M-Instruct (issue 22): it
proposes topics and writes inputs end to end. A 135M model's lists are poor;
the point is that whatever it writes is parsed as a list or refused in one
line, and that nothing queued is a fragment or a duplicate."""

from __future__ import annotations

import asyncio

import pytest

from distill_tui.core.config import Example
from distill_tui.core.dataset.export import normalize
from distill_tui.core.errors import UserError
from distill_tui.core.synth import topics
from distill_tui.core.synth.candidates import is_fragment
from distill_tui.demo import INSTRUCTIONS, bundled_rows
from distill_tui.engine.generate.teachers import make_teacher
from distill_tui.engine.synth import topics as synth
from distill_tui.engine.synth.magpie import UNFINISHED, magpie

pytestmark = pytest.mark.realmodel


def _ticket_task(ws) -> None:  # noqa: ANN001
    task = ws.settings.task
    task.instructions = INSTRUCTIONS
    task.input_description = "a customer's support ticket"
    task.examples = [Example(input=r["input"], output=r["output"]) for r in bundled_rows()[:5]]


def test_smollm2_proposes_topics_and_writes_inputs_that_pass_the_filter(workspace, smollm2):
    s = workspace.settings
    s.teacher.provider, s.teacher.model, s.teacher.max_tokens = "mlx", str(smollm2), 96
    _ticket_task(workspace)
    # Replies of 96 tokens, not synthesis's own limit (1,024 or more): a 135M
    # model rambles to it, minutes on a CPU, and the point here is the parsing.
    teacher = make_teacher(s.teacher.replace(temperature=synth.SYNTH_TEMPERATURE))
    try:
        try:
            proposed = synth.propose_topics(workspace, 2, teacher=teacher)
            assert 1 <= len(proposed.names) <= 2
        except UserError as e:  # a reply that is no list: one line, nothing added
            assert "held no JSON array or list of topics" in str(e) and "\n" not in str(e)
            assert topics.tree(workspace.store) == []
            topics.add(workspace.store, "refunds")
        res = synth.fill(workspace, 2, teacher=teacher)
    finally:
        asyncio.run(teacher.aclose())
    assert res.requests >= 1 and res.cost_usd == 0
    rows = [r[0] for r in workspace.store.conn.execute("SELECT input FROM rows")]
    assert len({normalize(r) for r in rows}) == len(rows)
    assert not any(is_fragment(r) for r in rows)
    lines = topics.describe_coverage(topics.tree(workspace.store), 2)
    assert lines and all("kept " in ln for ln in lines)
    print(res.summary(), *lines, sep="\n")


def test_smollm2_writes_magpie_inputs_from_its_template(workspace, smollm2):
    """Magpie (issue 22 item 6), kept short: 4 user turns of at most 64 tokens."""
    s = workspace.settings
    s.teacher.provider, s.teacher.model, s.teacher.local_batch_size = "mlx", str(smollm2), 4
    _ticket_task(workspace)
    res = magpie(workspace, 4, max_tokens=64, seed=0)
    # SmolLM2's template: its own system turn (not the default one), the user's opened.
    assert res.prefix.startswith("<|im_start|>system\n" + INSTRUCTIONS.strip())
    assert res.prefix.endswith("<|im_end|>\n<|im_start|>user\n")
    assert "SmolLM, trained by Hugging Face" not in res.prefix
    assert res.written == 4 and res.batches == 1
    assert res.ended + res.leaf.dropped[UNFINISHED] == 4
    rows = [
        r[0]
        for r in workspace.store.conn.execute(
            "SELECT input FROM rows WHERE origin = 'synth' AND source = 'synth: magpie'"
        )
    ]
    assert len(rows) == res.kept <= res.ended
    assert not any("<|im_" in r or is_fragment(r) for r in rows)
    print(res.leaf.line(), res.summary(), *rows, sep="\n")
