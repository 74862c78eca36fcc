"""The local MLX teacher on the tiny model: batched, prefix-cached, on the
one MLX thread, and never beside training."""

from __future__ import annotations

import threading

import pytest

from distill_tui.core.config import Example
from distill_tui.core.errors import UserError
from distill_tui.core.generate import queue as q
from distill_tui.engine.generate.queue import run_queue
from distill_tui.engine.generate.teachers.base import build_prompt
from distill_tui.engine.generate.teachers.mlx_local import MLXTeacher
from distill_tui.engine.mlx_thread import mlx_thread


def _setup(ws, model_path, n=6):
    t = ws.settings.teacher
    t.provider, t.model, t.max_tokens, t.local_batch_size = "mlx", str(model_path), 6, 4
    ws.settings.task.instructions = "Classify the support ticket as billing, bug or feature."
    ws.settings.task.examples = [Example(input="I was charged twice", output="billing")]
    ws.store.add_inputs([(f"The app crashes {i} times", None) for i in range(n)])


def test_local_teacher_generates_every_row_on_the_mlx_thread(workspace, tiny_model):
    _setup(workspace, tiny_model)
    mlx = mlx_thread()
    mlx.calls.clear()
    result = run_queue(workspace)
    assert result.reason == "finished" and result.progress.done == 6
    rows = q.rows_page(workspace.store, 0, 10)
    assert all(r["status"] == "done" and r["output"] is not None for r in rows)
    g = q.history(workspace.store, rows[0]["id"])[0]
    assert g["teacher"] == f"mlx:{tiny_model}" and g["cost_usd"] == 0
    assert g["input_tokens"] > g["cache_read_tokens"] > 0  # the prefix came from cache
    assert 0 < g["output_tokens"] <= 6
    # Two batches of at most four, and every MLX call ran on the one thread.
    gen_calls = [c for c in mlx.calls if "_generate" in c[0]]
    assert len(gen_calls) == 2
    assert {ident for _, ident in mlx.calls} == {mlx.ident}


def test_prefix_cache_gives_the_same_answers_with_fewer_prefilled_tokens(workspace, tiny_model):
    _setup(workspace, tiny_model, n=0)
    prompts = [
        build_prompt(workspace.settings.task, f"ticket {i} is about billing") for i in range(3)
    ]
    cached = MLXTeacher(workspace.settings.teacher)
    plain = MLXTeacher(workspace.settings.teacher)
    plain.prefix_cache = False
    mlx = mlx_thread()
    a = mlx.call(cached._generate, prompts)
    a2 = mlx.call(cached._generate, prompts)  # prefix reused from the first call
    b = mlx.call(plain._generate, prompts)
    assert [c.text for c in a] == [c.text for c in b] == [c.text for c in a2]
    assert cached.prefilled_tokens < 2 * plain.prefilled_tokens
    assert [c.prompt_hash for c in a] == [c.prompt_hash for c in b]


def test_local_teacher_refuses_to_run_beside_training(workspace, tiny_model):
    _setup(workspace, tiny_model, n=2)
    with mlx_thread().lease("training"), pytest.raises(UserError, match="training is running"):
        run_queue(workspace)
    assert workspace.store.counts()["pending"] == 2

    # And the other way round: while the teacher runs, training is refused.
    seen: list[str] = []
    started = threading.Event()

    def on_row(ev):
        if ev.status == "running" and not started.is_set():
            started.set()
            try:
                with mlx_thread().lease("training"):
                    pass
            except Exception as e:  # noqa: BLE001
                seen.append(str(e))

    run_queue(workspace, on_row=on_row)
    assert seen and "the local teacher is running" in seen[0]


def test_local_teacher_answers_never_contain_an_end_token(workspace, tiny_model):
    """Sampled at temperature 1, the tiny model writes `<|endoftext|>` (its pad
    token, an end token in Qwen's generation config) into some answers when
    only its declared eos stops it: stored, those answers would be trained on."""
    from distill_tui.demo.tiny import SPECIAL_TOKENS

    _setup(workspace, tiny_model, n=0)
    workspace.settings.teacher.temperature = 1.0
    workspace.settings.teacher.max_tokens = 48
    prompts = [build_prompt(workspace.settings.task, f"ticket {i}") for i in range(24)]
    teacher = MLXTeacher(workspace.settings.teacher)

    def seeded():  # noqa: ANN202 - the random key belongs to the MLX thread
        import mlx.core as mx

        mx.random.seed(0)
        return teacher._generate(prompts)

    answers = mlx_thread().call(seeded)
    for a in answers:
        assert not any(t in a.text for t in SPECIAL_TOKENS), a.text
    assert any(a.stop_reason == "end_turn" for a in answers)
