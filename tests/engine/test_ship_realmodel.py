"""GGUF export of the demo's real student (SmolLM2-135M, fused with an
adapter): F16 and Q8_0 files reload through the project's own GGUF loader and
answer the probes as the fused MLX model does (F16 8/8, Q8_0 at least 7/8);
the file carries the tokenizer, the chat template and the provenance keys."""

from __future__ import annotations

import json

import gguf
import pytest
from adapter_helpers import make_run, write_split

from distill_tui.cli import main
from distill_tui.demo import create_demo

pytestmark = pytest.mark.realmodel

QUESTIONS = [
    "What is the capital of France?",
    "Name three colours.",
    "I was charged twice for my subscription.",
    "The app crashes when I upload a photo.",
    "Please add a dark mode.",
    "How do I reset my password?",
    "Write one word for happy.",
    "What is 2 + 2?",
]


def test_gguf_f16_and_q8_0_answer_like_the_fused_model(tmp_path, capsys):
    ws = create_demo(tmp_path / "demo")
    from distill_tui.engine.gguf import mlx_path

    folder = mlx_path(str(ws.root / ws.settings.student.model))
    make_run(ws, folder, seed=3)
    write_split(ws, "valid", [(q, "x") for q in QUESTIONS])
    assert main(["fuse", str(ws.root), "--run", "run-1", "--json"]) == 0
    capsys.readouterr()
    agree = {}
    for quant in ("f16", "q8_0"):
        code = main(["ship", str(ws.root), "--target", "gguf", "--quant", quant, "--json"])
        report = json.loads(capsys.readouterr().out)
        assert code == 0, report
        agree[quant] = report["agree"]
        reader = gguf.GGUFReader(report["where"])
        fields = reader.fields
        assert fields["tokenizer.ggml.model"].contents() == "gpt2"
        assert len(fields["tokenizer.ggml.merges"].contents()) > 40_000
        assert "im_start" in fields["tokenizer.chat_template"].contents()
        assert fields["general.license"].contents() == "apache-2.0"
        assert fields["general.base_model.0.organization"].contents() == "HuggingFaceTB"
    assert agree["f16"] == 8 and agree["q8_0"] >= 7, agree
