"""`[train] seed` is checked by the config model (issue 34 item 16): -1
passed the check, and `train` died in a traceback from mlx.random.seed with a
failed run recorded."""

from __future__ import annotations

import pytest

from distill_tui.cli import main
from distill_tui.core import config as cfg
from distill_tui.core import paths


@pytest.mark.parametrize(
    "value, words",
    [("-1", "greater than or equal to 0"), ("4294967296", "less than or equal to 4294967295")],
)
def test_a_seed_out_of_range_names_the_key_and_line(value, words):
    with pytest.raises(cfg.ConfigError) as e:
        cfg.parse(f"[train]\niters = 10\nseed = {value}\n")
    assert str(e.value) == f"distill.toml:3: train.seed: Input should be {words}"
    assert cfg.parse("[train]\nseed = 4294967295\n").train.seed == 2**32 - 1
    with pytest.raises(cfg.Invalid):
        cfg.Project().train.seed = -1


def test_train_with_seed_minus_one_is_one_line_and_no_run(workspace, capsys):
    path = workspace.root / "distill.toml"
    text = path.read_text()
    at = text.index("[train]")
    path.write_text(text[:at] + text[at:].replace("seed = 0", "seed = -1", 1))
    assert main(["train", str(workspace.root)]) == 2
    err = capsys.readouterr().err
    assert "train.seed: Input should be greater than or equal to 0" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    runs = paths.runs_dir(workspace.root)
    assert not runs.exists() or not any(runs.iterdir())
