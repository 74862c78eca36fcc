"""Export of accepted rows to mlx-lm's train/valid/test JSONL."""

from __future__ import annotations

import json
import os
import types

import pytest
from support.curate_helpers import add_answered

from distill_tui.core import paths
from distill_tui.core.curate import curation as cur
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.errors import UserError
from distill_tui.engine.mlx_thread import mlx_thread

# Text that breaks naive renderers and encoders: it must come out unchanged.
NASTY = [
    "[bold]not bold[/] and [/] alone [link=x]",
    "ansi \x1b[31mred\x1b[0m escape",
    "long " + "x" * 5000,
    "emoji 🧪👩‍🔬 and rtl \u202eabc\u202c \u200f",
]


def _ws(workspace, n: int, **split):
    for k, v in split.items():
        setattr(workspace.settings.split, k, v)
    workspace.settings.task.instructions = "Classify the ticket."
    ids = add_answered(workspace.store, [(f"input number {i}", f"label {i % 3}") for i in range(n)])
    cur.accept(workspace.store, ids)
    return workspace


def _read(ws, name):
    p = paths.data_dir(ws.root) / f"{name}.jsonl"
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines()]


def _export(ws, **kw):
    return export_dataset(ws.root, ws.store, ws.settings, **kw)


def test_chat_export_has_system_message_and_fractions(workspace):
    ws = _ws(workspace, 50, valid_fraction=0.2, test_fraction=0.1)
    res = _export(ws)
    assert res.counts == {"train": 35, "valid": 10, "test": 5}
    train = _read(ws, "train")
    assert train[0]["messages"][0] == {"role": "system", "content": "Classify the ticket."}
    assert [m["role"] for m in train[0]["messages"]] == ["system", "user", "assistant"]
    assert (paths.data_dir(ws.root) / "test.jsonl").exists()


def test_completions_format(workspace):
    ws = _ws(workspace, 12)
    _export(ws, fmt="completions")
    rec = _read(ws, "train")[0]
    assert set(rec) == {"prompt", "completion"}


def test_same_seed_same_files_other_seed_other_split(workspace):
    ws = _ws(workspace, 40)
    first = _export(ws)
    data = (paths.data_dir(ws.root) / "train.jsonl").read_bytes()
    again = _export(ws)
    assert (paths.data_dir(ws.root) / "train.jsonl").read_bytes() == data
    assert again.dataset_hash == first.dataset_hash
    other = _export(ws, seed=7)
    assert set(other.row_ids["valid"]) != set(first.row_ids["valid"])


def test_identical_inputs_never_on_both_sides(workspace):
    ws = workspace
    ws.settings.train.batch_size = 1
    ws.settings.split.valid_fraction = 0.3
    # Same question with different case and spacing, many times over.
    pairs = [(f"Question {i % 10}" + " " * (i // 10), f"a{i}") for i in range(40)]
    pairs += [(f"QUESTION {i % 10}", f"b{i}") for i in range(10)]
    cur.accept(ws.store, add_answered(ws.store, pairs))
    for seed in range(5):
        _export(ws, seed=seed)
        norm = lambda recs: {" ".join(r["messages"][-2]["content"].lower().split()) for r in recs}  # noqa: E731
        assert not norm(_read(ws, "train")) & norm(_read(ws, "valid"))


def test_too_few_rows_for_batch_size_is_a_clear_error(workspace):
    ws = _ws(workspace, 6)  # batch_size 4: needs 4 train + 4 valid
    with pytest.raises(UserError, match=r"6 accepted, need at least 8 .*batch_size"):
        _export(ws)
    ws.settings.split.valid_fraction = 0
    assert _export(ws).counts["train"] == 6


def test_no_accepted_rows_says_how_to_accept(workspace):
    with pytest.raises(UserError, match="--accept-all"):
        _export(workspace)


def test_interrupted_export_leaves_previous_files(workspace, monkeypatch):
    ws = _ws(workspace, 30, test_fraction=0.2)
    _export(ws)
    data_dir = paths.data_dir(ws.root)
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    cur.accept(ws.store, add_answered(ws.store, [(f"more {i}", "x") for i in range(20)]))
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd):
        calls.append(fd)
        if len(calls) == 2:  # the second file, half-way through the export
            raise OSError("disk full")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        _export(ws)
    after = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    assert after == before  # no temp files left, nothing half-written


def test_stale_test_file_is_removed(workspace):
    ws = _ws(workspace, 30, test_fraction=0.2)
    _export(ws)
    ws.settings.split.test_fraction = 0
    _export(ws)
    assert not (paths.data_dir(ws.root) / "test.jsonl").exists()


def test_edited_output_is_exported(workspace):
    ws = _ws(workspace, 10)
    ws.settings.split.valid_fraction = 0
    cur.edit(ws.store, 1, output="hand-fixed label")
    _export(ws)
    outs = [r["messages"][-1]["content"] for r in _read(ws, "train")]
    # Rows 0, 3, 6, 9 said "label 0"; row id 1 (input 0) was edited.
    assert outs.count("hand-fixed label") == 1 and outs.count("label 0") == 3


def test_nasty_text_exports_unchanged(workspace):
    ws = workspace
    ws.settings.split.valid_fraction = 0
    ws.settings.train.batch_size = 1
    cur.accept(ws.store, add_answered(ws.store, [(t, t) for t in NASTY]))
    _export(ws)
    got = {r["messages"][-1]["content"] for r in _read(ws, "train")}
    assert got == set(NASTY)


def _mlx_load(data_dir, model_path, mask_prompt):
    from mlx_lm.tuner.datasets import load_local_dataset
    from mlx_lm.utils import load_tokenizer

    tok = load_tokenizer(model_path)
    cfg = types.SimpleNamespace(mask_prompt=mask_prompt)
    train, valid, test = load_local_dataset(data_dir, tok, cfg)
    return [train.process(train[i]) for i in range(len(train))], len(valid), len(test)


@pytest.mark.parametrize("fmt", ["chat", "completions"])
def test_mlx_lm_reads_the_export(workspace, tiny_model, fmt):
    ws = _ws(workspace, 20, test_fraction=0.2)
    res = _export(ws, fmt=fmt)
    processed, n_valid, n_test = mlx_thread().call(
        _mlx_load, paths.data_dir(ws.root), tiny_model, True
    )
    assert len(processed) == res.counts["train"]
    assert (n_valid, n_test) == (res.counts["valid"], res.counts["test"])
    tokens, offset = processed[0]
    assert 0 < offset < len(tokens)  # the prompt is masked, the answer trained


def test_a_kill_between_renames_leaves_a_set_that_train_and_eval_refuse(workspace, monkeypatch):
    from distill_tui.engine.chat.evaluate import load_split
    from distill_tui.engine.train.runplan import plan_run

    ws = _ws(workspace, 40, valid_fraction=0.25)
    _export(ws)
    real_replace = os.replace
    calls = []

    def killed(src, dst):
        calls.append(dst)
        if len(calls) == 3:  # split.json and train.jsonl are new, valid.jsonl is old
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        _export(ws, seed=99)
    monkeypatch.setattr(os, "replace", real_replace)
    train = {m["messages"][1]["content"] for m in _read(ws, "train")}
    valid = {m["messages"][1]["content"] for m in _read(ws, "valid")}
    assert train & valid  # what the issue saw: validation inputs also in train
    with pytest.raises(UserError, match="valid.jsonl: does not match the last export"):
        plan_run(ws)
    with pytest.raises(UserError, match="an export was interrupted"):
        load_split(ws, "valid")
    assert not (paths.runs_dir(ws.root)).exists()
    _export(ws, seed=99)  # exporting again repairs it
    plan_run(ws)


@pytest.mark.parametrize("kind", ["file", "dangling link"])
def test_data_that_is_not_a_folder_is_a_clear_error(workspace, kind):
    ws = _ws(workspace, 30)
    data = paths.data_dir(ws.root)
    if kind == "file":
        data.write_text("not a folder")
    else:
        data.symlink_to(ws.root / "gone")
    with pytest.raises(UserError, match="data"):
        _export(ws)
