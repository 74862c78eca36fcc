"""`fuse` and `ship` refuse a run whose last evaluation is worse than its
parent, exit non-zero, and name the figures and `--force` (issue 31, item 5)."""

from __future__ import annotations

import json

import pytest
from support.adapter_helpers import make_adapter, make_run, write_split
from support.verdict_helpers import sft_and_collapsed_dpo

from distill_tui.cli import main
from distill_tui.core import paths
from distill_tui.core.ship import provenance


@pytest.fixture
def runs(workspace):
    return sft_and_collapsed_dpo(workspace)


def test_fuse_and_ship_refuse_the_worse_run_naming_the_figures_and_force(runs, tiny_model, capsys):
    make_adapter(tiny_model, paths.run_dir(runs.root, "dpo-1") / "best")
    make_adapter(tiny_model, paths.run_dir(runs.root, "dpo-1"))
    assert main(["fuse", str(runs.root), "--run", "dpo-1", "--checkpoint", "best"]) == 2
    err = capsys.readouterr().err
    assert "not fusing" in err and "worse than its SFT start: -29 rows of 32" in err
    assert "--force" in err
    # A fused folder whose provenance names the run.
    folder = runs.root / "fused" / "dpo-1-best"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    provenance.write_json(provenance.gather(runs, "dpo-1", "best"), folder / "provenance.json")
    args = ["ship", str(runs.root), "--fused", str(folder), "--target", "lmstudio"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "not shipping" in err and "exact match 0.094 vs 1.000" in err and "--force" in err


def test_eval_no_base_of_a_dpo_run_keeps_its_sft_column_flips_verdict_and_pairs(
    workspace, tiny_model, capsys
):
    """Issue 30 item 8: `--no-base` skips only the base model."""
    ws = workspace
    make_run(ws, tiny_model, "sft-1", seed=1)
    make_run(ws, tiny_model, "dpo-1", seed=2)
    config = {"from_run": "sft-1", "train": {"objective": "dpo", "beta": 0.1}}
    with ws.store.tx() as c:
        c.execute("UPDATE runs SET config = ? WHERE id = 'dpo-1'", (json.dumps(config),))
    labels = ["billing", "bug", "feature", "account"] * 2
    write_split(ws, "valid", [(f"ticket {n}", label) for n, label in enumerate(labels)])
    pref = paths.pref_dir(ws.root)
    pref.mkdir(parents=True)
    pair = {"prompt": "ticket 0", "chosen": "billing", "rejected": "bug"}
    (pref / "valid.jsonl").write_text(json.dumps(pair) + "\n")
    args = ["eval", str(ws.root), "--run", "dpo-1", "--no-base", "--json", "--max-tokens", "3"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert "base" not in data["ci"] and set(data["ci"]) == {"sft", "adapter"}
    assert data["sft"] and data["flips"]["vs"] == "sft"
    assert sum(v for k, v in data["flips"].items() if k != "vs") == 8
    assert data["verdict"] in ("better", "worse", "no clear change")
    assert set(data["pairs"]["accuracy"]) == {"sft", "adapter"}
    assert sum(map(sum, data["confusion"]["matrix"])) == 8
