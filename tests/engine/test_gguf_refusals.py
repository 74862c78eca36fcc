"""Crafted and damaged GGUF files are refused in plain Python, in one line
naming the file, before MLX's reader sees them (issue 17: mx.load dies of
SIGSEGV on them, taking the CLI or the TUI with it)."""

from __future__ import annotations

import random
import re
import struct
import subprocess
import sys

import pytest
from support.gguf_helpers import gguf_header_bytes, write_gguf
from support.tiny_task import write_split

from distill_tui.core.errors import UserError
from distill_tui.core.train.preflight import model_layers
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.models import gguf

CRAFTED = {
    # The two files of issue 17: mx.load dies of SIGSEGV on each.
    "random": (b"GGUF" + random.Random(17).randbytes(4096), "version"),
    "huge key": (
        b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 2**62) + b"\0" * 100,
        "metadata key 0 at byte 32 needs 4611686018427387904 bytes",
    ),
    "huge tensor count": (b"GGUF" + struct.pack("<IQQ", 3, 2**40, 0), "the tensor count"),
    "huge array": (
        gguf_header_bytes(meta=[("tok", 9, struct.pack("<IQ", 8, 2**50))]),
        "the length of 'tok'",
    ),
    "k-quant": (
        gguf_header_bytes(tensors=[("blk.0.attn_q.weight", (256, 4), 12, 0)]) + b"\0" * 2048,
        "tensor 'blk.0.attn_q.weight' is Q4_K (a K-quant, as in Q4_K_M files); MLX reads F32",
    ),
    "bf16": (
        gguf_header_bytes(tensors=[("output.weight", (8,), 30, 0)]) + b"\0" * 64,
        "tensor 'output.weight' is BF16; MLX reads F32, F16, Q4_0, Q4_1 and Q8_0 tensors",
    ),
    "data past the end": (
        gguf_header_bytes(tensors=[("output_norm.weight", (64,), 0, 0)]) + b"\0" * 100,
        "the data of tensor 'output_norm.weight' ends at byte",
    ),
    "huge shape": (
        gguf_header_bytes(tensors=[("output.weight", (2**40, 2**40), 1, 0)]) + b"\0" * 64,
        "the data of tensor 'output.weight'",
    ),
    "nine dimensions": (gguf_header_bytes(tensors=[("x", (1,) * 9, 0, 0)]), "9 dimensions"),
    "odd offset": (
        gguf_header_bytes(tensors=[("x", (4,), 0, 3)]) + b"\0" * 64,
        "offset 3, not a multiple of 32",
    ),
    "zero alignment": (
        gguf_header_bytes(meta=[("general.alignment", 4, struct.pack("<I", 0))]),
        "general.alignment 0",
    ),
    "partial block": (
        gguf_header_bytes(tensors=[("x", (40, 2), 2, 0)]) + b"\0" * 99,
        "not whole Q4_0",
    ),
}


@pytest.mark.parametrize("case", CRAFTED)
def test_a_crafted_header_is_refused_in_one_line_before_mlx_reads_it(tmp_path, case):
    data, message = CRAFTED[case]
    src = tmp_path / "crafted.gguf"
    src.write_bytes(data)
    with pytest.raises(UserError, match=re.escape(message)) as e:
        mlx_thread().call(gguf.convert, src, cache=tmp_path / "cache")
    assert str(e.value).startswith(f"{src}: ") and "\n" not in str(e.value)
    assert model_layers(str(src)) is None


def test_a_file_cut_short_says_so_not_k_quants(tmp_path):
    whole = tmp_path / "whole.gguf"
    write_gguf(whole)
    data = whole.read_bytes()
    for cut in (len(data) // 2, len(data) - 1, 40):
        src = tmp_path / f"cut{cut}.gguf"
        src.write_bytes(data[:cut])
        with pytest.raises(UserError, match="cut short or damaged") as e:
            mlx_thread().call(gguf.convert, src, cache=tmp_path / "cache")
        assert "K-quant" not in str(e.value) and str(e.value).startswith(str(src))


@pytest.mark.parametrize("case", ["random", "huge key"])
def test_cli_train_on_a_crafted_student_exits_2_with_one_line(workspace, case):
    """The real path, in a process of its own: before the check, mx.load
    killed it with SIGSEGV (exit 139), no message."""
    (workspace.root / "crafted.gguf").write_bytes(CRAFTED[case][0])
    workspace.settings.student.model = "crafted.gguf"
    workspace.save_settings()
    write_split(workspace.root / "data")
    r = subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", "train", str(workspace.root), "--iters", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.strip().count("\n") == 0 and "crafted.gguf: " in r.stderr
    assert "Traceback" not in r.stderr
