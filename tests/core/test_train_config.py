"""Preflight arithmetic and the reproducible mlx_lm.lora config."""

from __future__ import annotations

import yaml

from distill_tui.core import config as cfg
from distill_tui.core.train import loraconfig
from distill_tui.core.train.preflight import ModelShape, run_preflight

SHAPE_1B = ModelShape(
    params=1_500_000_000, bytes_per_param=0.56, hidden_size=1536, num_layers=28, vocab_size=151936
)


def test_rows_over_max_seq_length_are_named_with_a_suggestion():
    pf = run_preflight(
        [100, 300, 90, 520],
        SHAPE_1B,
        max_seq_length=256,
        batch_size=2,
        trainable_params=5_000_000,
        grad_checkpoint=False,
        machine_gb=64,
    )
    assert pf.too_long == [(1, 300), (3, 520)]
    assert "2 of 4 training rows are longer than max_seq_length 256" in pf.problems[0]
    assert any("raise max_seq_length to 520" in s for s in pf.suggestions)


def test_memory_that_does_not_fit_suggests_a_smaller_batch_and_checkpointing():
    kw = dict(max_seq_length=2048, trainable_params=10_000_000, grad_checkpoint=False)
    big = run_preflight([2048] * 16, SHAPE_1B, batch_size=16, machine_gb=16, **kw)
    assert not big.fits
    # Above the whole machine: training would not start, so it is an error.
    assert any("estimated peak memory" in p for p in big.errors)
    assert any(s.startswith("lower batch size to") for s in big.suggestions)
    assert any("gradient checkpointing" in s for s in big.suggestions)
    small = run_preflight([2048] * 16, SHAPE_1B, batch_size=1, machine_gb=64, **kw)
    assert small.fits and small.problems == [] and small.errors == []
    assert small.estimate_gb < big.estimate_gb


def test_yaml_reads_back_with_mlx_lm_loader_as_the_same_settings():
    from mlx_lm.lora import yaml_loader

    train = cfg.Train(learning_rate=1e-5, lora_rank=32, mask_prompt=True, iters=250)
    settings = loraconfig.lora_settings(train, "some/model", "my data: yes/#1", "runs/x")
    back = yaml.load(loraconfig.to_yaml(settings), yaml_loader)
    assert back == settings
    assert isinstance(back["learning_rate"], float)


def test_presets_and_epochs():
    t = loraconfig.apply_preset(cfg.Train(), "low-memory")
    assert (t.batch_size, t.grad_checkpoint, t.lora_rank) == (1, True, 8)
    assert loraconfig.iters_for_epochs(2, rows=100, batch_size=4) == 50
    assert loraconfig.iters_for_epochs(1, rows=10, batch_size=4) == 3


def test_a_max_seq_length_that_cuts_off_every_completion_blocks_training():
    pf = run_preflight(
        [40, 50],
        SHAPE_1B,
        max_seq_length=16,
        batch_size=1,
        trainable_params=1,
        grad_checkpoint=False,
        machine_gb=64,
        offsets=[20, 30],
    )
    assert pf.errors and "training would see 0 tokens" in pf.errors[0]
    assert "raise max_seq_length above 20" in pf.errors[0]
    some = run_preflight(
        [40, 50], SHAPE_1B, max_seq_length=32, batch_size=1, trainable_params=1,
        grad_checkpoint=False, machine_gb=64, offsets=[20, 40],
    )  # fmt: skip
    assert some.errors == [] and "1 of 2 training rows have no completion" in some.problems[0]


def test_what_fails_at_start_is_an_error_with_a_suggestion():
    kw = dict(trainable_params=1000, grad_checkpoint=False, machine_gb=64)
    shape = ModelShape(
        params=10_000, bytes_per_param=4, hidden_size=64, num_layers=2, vocab_size=300
    )
    pf = run_preflight(
        [40] * 6,
        shape,
        max_seq_length=32,
        batch_size=8,
        num_layers=16,
        valid_rows=3,
        offsets=[10, 10, 33, 10, 40, 10],
        **kw,
    )
    text = "\n".join(pf.errors)
    assert "num_layers 16 is more than the student's 2 layers" in text
    assert "only 6 training rows for batch size 8" in text
    assert "only 3 validation rows for batch size 8" in text
    assert "2 of 6 training rows have no completion tokens left" in "\n".join(pf.problems)
    assert any("-1" in s for s in pf.suggestions)
    ok = run_preflight([20] * 8, shape, max_seq_length=32, batch_size=8, num_layers=-1, **kw)
    assert ok.errors == []


def test_model_layers_reads_config_json(tmp_path):
    from distill_tui.core.train.preflight import layers_error, model_layers

    (tmp_path / "config.json").write_text('{"num_hidden_layers": 2}')
    assert model_layers(str(tmp_path)) == 2
    assert model_layers(str(tmp_path / "missing")) is None
    assert layers_error(8, 2) and layers_error(2, 2) is None and layers_error(-1, 2) is None


def test_iterations_far_beyond_the_data_are_a_warning_with_a_suggestion():
    kw = dict(max_seq_length=256, trainable_params=1_000_000, grad_checkpoint=False, machine_gb=64)
    pf = run_preflight([50] * 25, SHAPE_1B, batch_size=4, iters=3000, **kw)
    assert pf.errors == []  # said, not refused
    assert (
        "iters 3000 is 480 epochs of 25 train rows at batch size 4; usual is 1-10"
        in (pf.problems[0])
    )
    assert "set iterations to 19 (3 epochs), or accept and export more rows" in pf.suggestions
    usual = run_preflight([50] * 25, SHAPE_1B, batch_size=4, iters=60, **kw)
    assert usual.problems == []
