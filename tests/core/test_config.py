import pytest

from distill_tui.core import config as cfg


def test_defaults_round_trip_through_toml(tmp_path):
    p = cfg.Project()
    p.task.examples = [cfg.Example(input='say "hi"\nnow', output="[/] hi")]
    path = tmp_path / "distill.toml"
    cfg.save(p, path)
    again = cfg.load(path)
    assert again == p
    assert again.split.valid_fraction == 0.1
    assert again.train.mask_prompt is True


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[train]\niters = "many"\n', "distill.toml:2: train.iters"),
        ("\n\n[teacher]\nprovider = 'gpt'\n", "distill.toml:4: teacher.provider"),
        ("[split]\nvalid_fraction = 1.5\n", "distill.toml:2: split.valid_fraction"),
        ("[task]\nnmae = 'x'\n", "distill.toml:2: task.nmae"),
        ("[task\nname = 1\n", "not valid TOML"),
        ("[task]\nname = \n", "line 2"),
    ],
)
def test_bad_files_name_key_and_line(text, expected):
    with pytest.raises(cfg.ConfigError) as e:
        cfg.parse(text)
    assert expected in str(e.value)


def test_missing_file_says_how_to_create(tmp_path):
    with pytest.raises(cfg.ConfigError, match="distill-tui init"):
        cfg.load(tmp_path / "distill.toml")


def test_save_is_atomic_and_leaves_no_temp(tmp_path):
    path = tmp_path / "distill.toml"
    cfg.save(cfg.Project(), path)
    assert [f.name for f in tmp_path.iterdir()] == ["distill.toml"]
