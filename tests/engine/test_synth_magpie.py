"""Magpie-style inputs (issue 22 item 6) from tiny local teachers: the chat
template's pre-query prefix, user turns that stop at the end of turn, the
tree's filter, pending rows the Queue answers, and the refusals in one line.
The models write junk; where a turn ends and what the store holds is the point."""

from __future__ import annotations

import asyncio
import json
import shutil
from functools import partial

import pytest

from distill_tui.cli import main
from distill_tui.core.config import Example
from distill_tui.core.errors import UserError
from distill_tui.engine.generate.queue import run_queue
from distill_tui.engine.generate.teachers.mlx_local import MLXTeacher
from distill_tui.engine.synth import magpie as mp

TICKETS = ("printer", "login", "export", "sync", "backup")


def _ready(ws, model, provider: str = "mlx") -> None:  # noqa: ANN001
    t = ws.settings.teacher
    t.provider, t.model, t.local_batch_size, t.max_tokens = provider, str(model), 8, 4
    task = ws.settings.task
    task.instructions = "Label the support ticket: billing, bug or account."
    task.input_description = "a customer's support ticket"
    task.examples = [
        Example(input=f"My {w} stopped working this morning", output="bug") for w in TICKETS
    ]
    ws.save_settings()


def _with_model(ws, fn):  # noqa: ANN001, ANN202
    async def go():  # noqa: ANN202
        teacher = MLXTeacher(ws.settings.teacher)
        try:
            return await teacher.with_model(fn)
        finally:
            await teacher.aclose()

    return asyncio.run(go())


def _synth_rows(ws) -> list:  # noqa: ANN001
    return ws.store.conn.execute(
        "SELECT input, origin, source, topic_id, status FROM rows WHERE origin = 'synth'"
    ).fetchall()


def test_the_prefix_is_the_template_up_to_where_the_users_text_starts(workspace, tiny_model):
    _ready(workspace, tiny_model)
    system = mp.magpie_system(workspace.settings.task)
    assert system.startswith("Label the support ticket: billing, bug or account.")
    assert "Users send a customer's support ticket, about 6 words long" in system
    assert "- My printer stopped working this morning" in system
    prefix = _with_model(workspace, lambda _m, tok: mp.pre_query_prefix(tok, system, "tiny"))
    # The system turn whole, then the user's turn opened and nothing of it written.
    assert prefix == f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n"


def test_turns_stop_at_the_end_of_turn_token(workspace, uniform_model):
    _ready(workspace, uniform_model)
    prefix = "<|im_start|>system\nLabel tickets.<|im_end|>\n<|im_start|>user\n"
    sample = partial(mp.sample_turns, prefix=prefix, n=8, max_tokens=64, seed=3)
    got = _with_model(workspace, sample)
    assert len(got.turns) == 8
    ended = [t for t in got.turns if t.ended]
    assert ended and len(ended) < 8  # this seed: some end, some run on
    for t in got.turns:
        # batch_generate stops early only at an end token, and leaves it out.
        assert t.ended == (t.tokens < 64)
        assert "<|im_end|>" not in t.text and "<|im_start|>" not in t.text


def test_magpie_queues_what_ended_and_passed_the_filter(workspace, uniform_model):
    _ready(workspace, uniform_model)
    res = mp.magpie(workspace, 16, max_tokens=64, seed=3)
    leaf = res.leaf
    assert leaf.written == 16 and res.batches == 2
    unfinished = leaf.dropped[mp.UNFINISHED]
    assert res.ended + unfinished == 16 and res.ended >= 1 and unfinished >= 1
    rows = _synth_rows(workspace)
    assert len(rows) == res.kept >= 1
    for text, origin, source, topic_id, status in rows:
        assert (origin, source, topic_id, status) == ("synth", "synth: magpie", None, "pending")
        assert text == text.strip() and "<|im_end|>" not in text
    assert leaf.line().startswith(f"magpie: kept {res.kept} of 16 written (16 asked)")
    assert f"{unfinished} unfinished" in leaf.line()

    # The same seed samples the same turns: the store already has every one.
    again = mp.magpie(workspace, 16, max_tokens=64, seed=3)
    assert again.kept == 0 and again.leaf.dropped["duplicate"] >= res.kept
    assert len(_synth_rows(workspace)) == res.kept

    # Pending rows like any others: the Queue answers them.
    done = run_queue(workspace)
    assert done.reason == "finished" and done.progress.done == res.kept
    assert {r[4] for r in _synth_rows(workspace)} == {"done"}


def test_synth_magpie_from_the_command_line(workspace, uniform_model, capsys):
    _ready(workspace, uniform_model)
    root = str(workspace.root)
    assert main(["synth", root, "--magpie", "8", "--dry-run"]) == 0
    assert "estimate: 8 user turn(s) sampled from" in capsys.readouterr().err
    assert workspace.store.counts()["inputs"] == 0
    assert main(["synth", root, "--magpie", "8"]) == 0
    out, err = capsys.readouterr()
    assert "magpie: kept " in err and "of 8 written (8 asked)" in out
    assert "new input(s) in the queue from 8 user turn(s) sampled (Magpie" in out
    assert main(["synth", root, "--magpie", "4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["written"] == 4 and set(data["dropped"]) >= {"duplicate", "unfinished"}


def test_magpie_is_refused_in_one_line_without_a_local_teacher_or_template(
    workspace, tiny_model, tmp_path, capsys
):
    _ready(workspace, "claude-haiku-4-5", provider="anthropic")
    assert main(["synth", str(workspace.root), "--magpie", "4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Magpie needs the local MLX teacher" in err
    assert "the topic tree works with any teacher" in err
    # A local model whose tokenizer has no chat template.
    bare = tmp_path / "no-template"
    shutil.copytree(tiny_model, bare)
    config = json.loads((bare / "tokenizer_config.json").read_text())
    del config["chat_template"]
    (bare / "tokenizer_config.json").write_text(json.dumps(config))
    _ready(workspace, bare)
    with pytest.raises(UserError, match="Magpie needs a chat template") as e:
        mp.magpie(workspace, 4)
    assert "\n" not in str(e.value)
    assert workspace.store.counts()["inputs"] == 0
