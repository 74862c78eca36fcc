"""Fuse on the tiny model: the fused folder loads with mlx_lm.load and its
greedy outputs match the adapter's on the probe prompts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from support.adapter_helpers import make_run

from distill_tui.cli import main
from distill_tui.core.errors import UserError
from distill_tui.core.train import checkpoints
from distill_tui.engine.chat.fuse import fuse, gguf_note
from distill_tui.engine.chat.session import GenSettings, ModelHost, Target, build_messages
from distill_tui.engine.mlx_thread import MLXBusy, mlx_thread
from distill_tui.engine.models import gguf

PROBES = [build_messages("", [], q) for q in ("I was charged twice", "The app crashes")]


def test_fuse_writes_a_loadable_model_that_answers_like_the_adapter(workspace, tiny_model):
    make_run(workspace, tiny_model)
    cp = checkpoints.resolve(workspace, "run-1", "latest")
    out = workspace.root / "fused"
    stages = []
    report = fuse(cp, out, PROBES, probe_tokens=8, progress=lambda *a: stages.append(a))
    assert report.ok and report.agreeing == 2 and not report.quantized
    assert "probes agree 2/2" in report.summary()
    assert {s for s, *_ in stages} >= {"loading", "fusing", "saving", "probing fused"}
    assert ("fusing", 4 * 2 + 3 * 2, 4 * 2 + 3 * 2) in stages  # 7 linears x 2 layers
    assert (out / "config.json").is_file() and (out / "tokenizer.json").is_file()
    # The fused folder chats like any model, and like the adapter did.
    host = ModelHost()
    greedy = GenSettings(max_tokens=8)
    fused = host.reply(Target(str(out)), PROBES[0], greedy).text
    adapted = host.reply(Target.of(cp), PROBES[0], greedy).text
    base = host.reply(Target.of(cp).base(), PROBES[0], greedy).text
    assert fused == adapted == report.probes[0].fused != base
    assert "of this qwen2 model" in gguf_note(str(tiny_model))
    assert json.loads(json.dumps(report.to_json()))["agree"] == 2


def test_fuse_refuses_a_non_empty_folder_and_a_busy_mlx_thread(workspace, tiny_model):
    make_run(workspace, tiny_model, best=False)
    cp = checkpoints.resolve(workspace, "run-1")
    (workspace.root / "taken").mkdir()
    (workspace.root / "taken" / "x").write_text("x")
    with pytest.raises(UserError, match="not empty"):
        fuse(cp, workspace.root / "taken", PROBES)
    with mlx_thread().lease("training"), pytest.raises(MLXBusy, match="training is running"):
        fuse(cp, workspace.root / "fused", PROBES)


def test_quantized_base_reports_and_dequantized_fuse_drops_quantization(
    workspace, tiny_model, tmp_path
):
    def quantize():
        from mlx_lm.convert import convert

        convert(str(tiny_model), str(tmp_path / "q4"), quantize=True, q_group_size=32, q_bits=4)

    mlx_thread().call(quantize)
    make_run(workspace, tmp_path / "q4", best=False)
    cp = checkpoints.resolve(workspace, "run-1")
    plain = fuse(cp, workspace.root / "fused-q", PROBES, probe_tokens=6)
    assert plain.quantized and not plain.dequantized
    assert "quantization" in json.loads((workspace.root / "fused-q" / "config.json").read_text())
    if not plain.ok:
        assert "--dequantize" in plain.summary()
    deq = fuse(cp, workspace.root / "fused-f", PROBES, probe_tokens=6, dequantize=True)
    assert deq.quantized and deq.dequantized
    config = json.loads((workspace.root / "fused-f" / "config.json").read_text())
    assert "quantization" not in config and "quantization_config" not in config
    # De-quantized fusing keeps the adapter's exact arithmetic up to rounding.
    assert deq.ok


def test_an_out_folder_under_a_file_is_a_clear_error(tmp_path):
    from distill_tui.engine.chat.fuse import check_out

    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="file: is a file"):
        check_out(tmp_path / "file" / "x")


_KILLED_MID_WRITE = """
import os, signal, sys
import mlx_lm.utils

real = mlx_lm.utils.save_config

def save_config(*args, **kwargs):  # weights and config written, tokenizer not yet
    real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

mlx_lm.utils.save_config = save_config
from distill_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_fuse_killed_mid_write_leaves_no_half_model_and_the_next_one_succeeds(
    workspace, tiny_model, tmp_path
):
    make_run(workspace, tiny_model)
    out = workspace.root / "fused" / "run-1-latest"
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_MID_WRITE)
    args = ["fuse", str(workspace.root), "--run", "run-1", "--checkpoint", "latest"]
    r = subprocess.run([sys.executable, str(script), *args], capture_output=True, timeout=300)
    assert r.returncode == -signal.SIGKILL, r.stderr
    # The half-written model is only in a hidden staging folder, never in out.
    assert not out.exists() and list(out.parent.glob(".run-1-latest.*.partial"))
    assert checkpoints.list_fused(workspace) == []
    # The next fuse into the same folder succeeds and clears the leftover.
    assert main(args) == 0
    assert (out / "config.json").is_file() and (out / "tokenizer.json").is_file()
    assert [p.name for p in out.parent.iterdir()] == ["run-1-latest"]
    assert checkpoints.list_fused(workspace) == [out]


def test_a_live_fuses_staging_folder_is_left_alone(tmp_path):
    from distill_tui.core import staging

    live = tmp_path / f".m.{os.getppid()}.partial"
    gone = tmp_path / ".m.999999999.partial"
    other = tmp_path / ".n.999999999.partial"
    for d in (live, gone, other):
        d.mkdir()
    assert staging.clean_stale(tmp_path, "m") == [gone]
    assert live.is_dir() and other.is_dir()


def test_the_gguf_note_says_what_is_true_for_the_student_in_hand(tmp_path, tiny_model):
    from support.gguf_helpers import write_gguf

    # A Llama student from a GGUF file: `ship --target gguf` writes it.
    src = tmp_path / "smol.gguf"
    write_gguf(src)
    assert "ship --target gguf` writes this llama model" in gguf_note(str(src))
    # Its converted folder, or another model type: the routes that work.
    folder = str(mlx_thread().call(gguf.convert, src, cache=tmp_path / "c"))
    assert "convert_hf_to_gguf.py" in gguf_note(folder)
    assert "of this qwen2 model" in gguf_note(str(tiny_model))
    # Not known (a hub id not downloaded): no guess about its type.
    assert gguf_note("nobody/not-a-model").endswith("hands it to Ollama")
