import re

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


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[train]\niters = 1e23\n", "distill.toml:2: train.iters: Input should be a valid integer"),
        ("[train]\niters = 9000000000000000000\n", "train.iters: Input should be less than"),
        (
            "[teacher]\nrequest_timeout_s = inf\n",
            "teacher.request_timeout_s: Input should be a finite",
        ),
        ("[teacher]\nmax_cost_usd = nan\n", "teacher.max_cost_usd: Input should be a finite"),
        ("[train]\nbatch_size = true\n", "train.batch_size: Input should be a valid integer"),
        ("[train]\nmask_prompt = 'yes'\n", "train.mask_prompt: Input should be a valid boolean"),
    ],
)
def test_non_finite_numbers_and_loose_types_are_refused(text, expected):
    with pytest.raises(cfg.ConfigError, match=re.escape(expected)):
        cfg.parse(text)


def test_an_integer_is_still_a_float():
    assert cfg.parse("[train]\nlearning_rate = 1\n").train.learning_rate == 1.0


def test_assignments_and_copies_are_checked_like_the_file():
    t = cfg.Teacher()
    with pytest.raises(cfg.Invalid) as e:
        t.max_tokens = 0
    assert e.value.first.msg == "Input should be greater than or equal to 1"
    assert e.value.first.bound == ("ge", 1)
    assert t.max_tokens == 1024  # the refused value is not kept
    with pytest.raises(cfg.Invalid, match="Input should be 'anthropic', 'openai' or 'mlx'"):
        t.provider = "gpt"
    with pytest.raises(AttributeError, match="no setting 'max_token'"):
        t.max_token = 5  # type: ignore[attr-defined]
    with pytest.raises(cfg.Invalid, match="train.iters|iters: Input should be a valid integer"):
        cfg.Train().replace(iters="600")
    assert cfg.Train().replace(iters=30).iters == 30
    assert cfg.Train().replace(learning_rate=1).learning_rate == 1.0  # an int is a float


def test_every_problem_is_counted_and_nested_keys_are_named():
    text = (
        "[teacher]\nmodel = 'm'\n[teacher.prices.m]\ninput = -1\noutput = 1\n[train]\niters = 0\n"
    )
    with pytest.raises(cfg.ConfigError) as e:
        cfg.parse(text)
    msg = str(e.value)
    assert msg.startswith("distill.toml:4: teacher.prices.m.input: Input should be greater")
    assert msg.endswith("(and 1 more problem(s))")  # iters 0
    with pytest.raises(cfg.ConfigError, match=r"task.examples.0.output: Field required"):
        cfg.parse("[[task.examples]]\ninput = 'x'\n")


def test_a_dump_is_plain_toml_values_and_leaves_out_blanks():
    p = cfg.Project()
    p.teacher.prices = {"m": cfg.Price(input=1, output=2)}
    data = p.to_dict(exclude_none=True)
    assert data["teacher"]["prices"] == {"m": {"input": 1.0, "output": 2.0}}
    assert "base_url" not in data["teacher"]
    data["train"]["iters"] = 1  # a copy, not a view
    assert p.train.iters == 600
    assert cfg.Project.parse(p.to_dict()) == p
