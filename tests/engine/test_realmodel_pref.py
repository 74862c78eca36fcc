"""Preference training on the demo's real student, SmolLM2-135M-Instruct, at
the defaults a newcomer keeps (issue 30's acceptance): from the session's SFT
run of the demo (`demo_sft`), `export --preferences` then `train --objective
dpo` with no setting changed keeps the held-out exact match within 2 rows of
its SFT start with no answer running on; the old defaults (SFT's learning
rate, no SFT term) are stopped by the collapse guard with its one line, and
the weights it keeps answer like the SFT start, not like the collapse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.realmodel, pytest.mark.slow]

EXE = str(Path(sys.executable).parent / "distill-tui")
ROWS = 32


def _cli(*args: str) -> str:
    out = subprocess.run([EXE, *args], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stdout + out.stderr
    return out.stdout


def _run_id(out: str) -> str:
    return next(ln.split()[1].rstrip(":") for ln in out.splitlines() if ln.startswith("run "))


def _eval(root: Path, run: str) -> dict:
    return json.loads(_cli("eval", str(root), "--run", run, "--no-base", "--json", "--items"))


def _rows_right(result: dict, who: str) -> int:
    return round(result[who]["exact_match"] * result["rows"])


def _run_on(result: dict, who: str) -> int:
    """Answers far longer than any label: they ran to the token budget."""
    return sum(1 for i in result["items"] if len(i["answers"].get(who, "")) > 24)


def test_dpo_at_the_defaults_keeps_its_sft_start(demo_sft, demo_sft_project):
    root = demo_sft_project.root
    _cli("export", str(root), "--preferences")
    out = _cli("train", str(root), "--objective", "dpo")
    assert "learning rate 2e-05" in out and "SFT term 1" in out
    assert "too few pairs to measure" in out  # the demo's one held-out pair
    result = _eval(root, _run_id(out))
    assert result["rows"] == ROWS
    sft, dpo = _rows_right(result, "sft"), _rows_right(result, "adapter")
    assert dpo >= sft - 2, (sft, dpo)
    assert _run_on(result, "adapter") == 0


def test_the_old_defaults_collapse_and_the_guard_keeps_the_weights_before(
    demo_sft, demo_sft_project
):
    root = demo_sft_project.root
    _cli("export", str(root), "--preferences")
    out = _cli(
        "train", str(root), "--objective", "dpo",
        "--learning-rate", "5e-4", "--sft-weight", "0", "--iters", "30",
    )  # fmt: skip
    lines = [ln for ln in out.splitlines() if ln.startswith("collapse at iteration")]
    assert len(lines) == 1 and "kept the weights of iteration" in lines[0], out
    run = _run_id(out)
    assert "collapsed at iteration" in out
    result = _eval(root, run)
    sft, kept = _rows_right(result, "sft"), _rows_right(result, "adapter")
    # Today's defaults scored 0/32, every answer running on; the kept weights
    # answer like their SFT start.
    assert kept >= sft - 2, (sft, kept)
    assert _run_on(result, "adapter") == 0
