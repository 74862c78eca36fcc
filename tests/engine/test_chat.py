"""ModelHost on the tiny model: streaming, adapter swaps without reloading the
base, seeds, stopping, and the injected-system-prompt warning."""

from __future__ import annotations

import threading

import pytest
from support.adapter_helpers import make_run

from distill_tui.core.train import checkpoints
from distill_tui.engine.chat import session as chat
from distill_tui.engine.chat.session import GenSettings, ModelHost, Target
from distill_tui.engine.mlx_thread import mlx_thread

MSGS = [{"role": "user", "content": "I was charged twice"}]


@pytest.fixture
def run_ws(workspace, tiny_model):
    make_run(workspace, tiny_model)
    return workspace


def test_streams_chunks_and_reports_speed(run_ws):
    host = ModelHost()
    cp = checkpoints.resolve(run_ws, "run-1", "latest")
    chunks: list[str] = []
    reply = host.reply(Target.of(cp), MSGS, GenSettings(max_tokens=12), on_chunk=chunks.append)
    assert reply.tokens > 0
    assert "".join(chunks) == reply.text
    assert reply.ttft_s is not None and reply.ttft_s >= 0
    assert reply.tokens_per_sec > 0
    assert reply.target == "run-1:latest"
    # Every MLX call ran on the one MLX thread.
    assert {ident for _, ident in mlx_thread().calls} == {mlx_thread().ident}


def test_adapter_swaps_never_reload_the_base(run_ws, monkeypatch):
    loads: list[str] = []
    real = chat._load_model

    def counting(path):
        loads.append(path)
        return real(path)

    monkeypatch.setattr(chat, "_load_model", counting)
    host = ModelHost()
    latest = checkpoints.resolve(run_ws, "run-1", "latest")
    best = checkpoints.resolve(run_ws, "run-1", "best")
    greedy = GenSettings(max_tokens=10)
    base_1 = host.reply(Target.of(latest).base(), MSGS, greedy).text
    a_latest = host.reply(Target.of(latest), MSGS, greedy).text
    a_best = host.reply(Target.of(best), MSGS, greedy).text
    base_2 = host.reply(Target.of(latest).base(), MSGS, greedy).text
    a_latest_2 = host.reply(Target.of(latest), MSGS, greedy).text
    assert len(loads) == 1 and host.loads == 1
    # The adapter changes the answer, and switching back restores the base exactly.
    assert a_latest != base_1
    assert a_best != a_latest
    assert base_2 == base_1
    assert a_latest_2 == a_latest


def test_same_seed_same_sampled_reply(run_ws):
    host = ModelHost()
    target = Target.of(checkpoints.resolve(run_ws, "run-1", None))
    s = GenSettings(temperature=1.0, top_p=0.95, max_tokens=12, seed=7)
    first = host.reply(target, MSGS, s).text
    assert host.reply(target, MSGS, s).text == first


def test_stop_ends_a_reply_early(run_ws):
    host = ModelHost()
    target = Target.of(checkpoints.resolve(run_ws, "run-1", None)).base()
    stop = threading.Event()

    def on_chunk(_text: str) -> None:
        stop.set()

    # Sampling at a high temperature keeps the random model from ending at once.
    s = GenSettings(temperature=2.0, max_tokens=200, seed=3)
    reply = host.reply(target, MSGS, s, on_chunk=on_chunk, stop=stop)
    assert reply.finish_reason == "stopped"
    assert reply.tokens < 10


def test_checkpoint_resolution_errors(run_ws):
    assert checkpoints.resolve(run_ws, None, None).name == "best"
    with pytest.raises(checkpoints.UserError, match="no run 'nope'"):
        checkpoints.resolve(run_ws, "nope")
    with pytest.raises(checkpoints.UserError, match="has no '5' checkpoint .it has: best, latest"):
        checkpoints.resolve(run_ws, "run-1", "5")


class _FakeTemplateTokenizer:
    """Renders like Qwen2.5's template: a default system turn when none is given."""

    def apply_chat_template(self, messages, tokenize=False, **_):
        out = ""
        if messages[0]["role"] != "system":
            out += "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.<|im_end|>\n"
        for m in messages:
            out += f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n"
        return out


def test_injected_system_prompt_is_detected(tiny_model):
    assert chat.injected_system_prompt(_FakeTemplateTokenizer()) == (
        "You are Qwen, created by Alibaba Cloud."
    )

    def tiny_tokenizer_injects():
        from mlx_lm import load

        return chat.injected_system_prompt(load(str(tiny_model))[1])

    # The tiny model's plain ChatML template adds nothing.
    assert mlx_thread().call(tiny_tokenizer_injects) is None


def test_build_messages_and_training_system_prompt(workspace):
    msgs = chat.build_messages("Be brief.", [("q1", "a1")], "q2")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert chat.build_messages("  ", [], "q")[0] == {"role": "user", "content": "q"}
    workspace.settings.task.instructions = "Classify the ticket."
    assert chat.training_system_prompt(workspace) == "Classify the ticket."
    from support.adapter_helpers import write_split

    write_split(workspace, "train", [("a", "b")], system="Exported system prompt")
    assert chat.training_system_prompt(workspace) == "Exported system prompt"
