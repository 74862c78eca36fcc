"""The project file `distill.toml`: one documented model, read with tomllib and
written with tomli-w. A bad file raises `ConfigError` with the key and line."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import field
from pathlib import Path
from typing import Annotated, Literal

import tomli_w

from distill_tui.core.errors import UserError
from distill_tui.core.schema import Invalid, Range, Section

__all__ = ["ConfigError", "Invalid", "Project", "load", "parse", "save"]

# Large enough for any real run, small enough that no arithmetic overflows.
_MANY = 10**9


# Every section (core/schema.py) refuses unknown keys, which are typos more
# often than not, and is strict: TOML has real types, so `true` is not 1,
# `"yes"` is not a bool and 1e23 is not an integer; nan and inf are refused (nan
# would switch a budget cap off, inf ends training in an OverflowError).
class Example(Section):
    input: str
    output: str


class Task(Section):
    name: str = "my-task"
    instructions: str = ""
    input_description: str = ""
    output_description: str = ""
    output_format: Literal["text", "json"] = "text"
    examples: list[Example] = field(default_factory=list)


class Price(Section):
    """USD per million tokens."""

    input: Annotated[float, Range(ge=0)]
    output: Annotated[float, Range(ge=0)]
    cache_read: Annotated[float | None, Range(ge=0)] = None
    cache_write: Annotated[float | None, Range(ge=0)] = None


class Teacher(Section):
    provider: Literal["anthropic", "openai", "mlx"] = "anthropic"
    # claude-sonnet-4-5 retires on 30 Nov 2026 (the SDK warns); 4-6 is its successor.
    model: str = "claude-sonnet-4-6"
    max_tokens: Annotated[int, Range(ge=1, le=1_000_000)] = 1024
    temperature: Annotated[float, Range(ge=0, le=2)] = 0.0
    concurrency: Annotated[int, Range(ge=1, le=256)] = 8
    # 0 = no limit; the largest API tiers allow a few thousand a minute.
    requests_per_minute: Annotated[int, Range(ge=0, le=1_000_000)] = 50
    base_url: str | None = None
    max_cost_usd: Annotated[float | None, Range(ge=0)] = None
    use_batches: bool = False
    prices: dict[str, Price] = field(default_factory=dict)
    # Generation queue: attempts per row (transient errors) before the row is
    # marked failed, and the timeout of one request in seconds.
    max_attempts: Annotated[int, Range(ge=1, le=50)] = 6
    request_timeout_s: Annotated[float, Range(gt=0, le=86_400)] = 120.0
    # Local MLX teacher: how many inputs one batch_generate call decodes together.
    local_batch_size: Annotated[int, Range(ge=1, le=256)] = 8
    # Message Batches: seconds between polls of a submitted batch.
    batch_poll_s: Annotated[float, Range(gt=0, le=86_400)] = 30.0


class Student(Section):
    model: str = "mlx-community/Qwen2.5-1.5B-Instruct-4bit"


class Split(Section):
    valid_fraction: Annotated[float, Range(ge=0, lt=1)] = 0.1
    test_fraction: Annotated[float, Range(ge=0, lt=1)] = 0.0
    seed: int = 0
    format: Literal["chat", "completions"] = "chat"


class Train(Section):
    iters: Annotated[int, Range(ge=1, le=_MANY)] = 600
    batch_size: Annotated[int, Range(ge=1, le=_MANY)] = 4
    lora_rank: Annotated[int, Range(ge=1, le=_MANY)] = 16
    lora_scale: Annotated[float, Range(gt=0)] = 20.0
    lora_dropout: Annotated[float, Range(ge=0, lt=1)] = 0.0
    learning_rate: Annotated[float, Range(gt=0)] = 1e-5
    num_layers: Annotated[int, Range(ge=-1, le=_MANY)] = 16
    max_seq_length: Annotated[int, Range(ge=16, le=_MANY)] = 2048
    mask_prompt: bool = True
    grad_checkpoint: bool = False
    # Batches of rows of similar length (engine/train/batches.py), off as in
    # Hugging Face's trainer: less padding, less mixed batches.
    group_by_length: bool = False
    steps_per_report: Annotated[int, Range(ge=1, le=_MANY)] = 10
    steps_per_eval: Annotated[int, Range(ge=1, le=_MANY)] = 100
    steps_per_save: Annotated[int, Range(ge=1, le=_MANY)] = 100
    val_batches: Annotated[int, Range(ge=-1, le=_MANY)] = 25
    early_stopping_patience: Annotated[int, Range(ge=0, le=_MANY)] = 0
    fine_tune_type: Literal["lora", "dora", "full"] = "lora"
    # mlx.random.seed takes no negative number (-1 died in a TypeError after
    # the run was recorded); 2**32 - 1 leaves room for the per-step offsets.
    seed: Annotated[int, Range(ge=0, le=2**32 - 1)] = 0
    # Preference training from an SFT run's adapter: "dpo" on the exported
    # pairs, "kto" on the labelled rows. A preference run has its own learning
    # rate and length (core/train/objectives.py says why these values): it
    # never inherits SFT's, which collapses the chosen answers' likelihood.
    # beta 0.1 as TRL and mlx-lm-lora; sft_weight adds the chosen answer's NLL
    # (RPO, TRL's rpo_alpha = 1.0), on by default.
    objective: Literal["sft", "dpo", "kto", "onpolicy"] = "sft"
    beta: Annotated[float, Range(gt=0, le=10)] = 0.1
    sft_weight: Annotated[float, Range(ge=0, le=10)] = 1.0
    pref_learning_rate: Annotated[float, Range(gt=0, le=1)] = 2e-5
    pref_epochs: Annotated[float, Range(gt=0, le=100)] = 2.0
    # Stop a preference run whose chosen answers' likelihood collapsed, and
    # keep the last checkpoint before the fall (core/train/collapse.py).
    stop_on_collapse: bool = True
    # On-policy distillation (objective "onpolicy", engine/train/onpolicy.py):
    # the student samples answers at onpolicy_temperature, a local MLX teacher
    # sharing its vocabulary scores every token (onpolicy_teacher; empty: the
    # [teacher] model when its provider is "mlx"), and the loss is GKD's
    # generalised JSD with onpolicy_beta (1: the reverse KL(student || teacher)
    # of on-policy distillation; 0: the forward KL), plus onpolicy_sft_weight
    # times the NLL of the accepted answers of the same inputs.
    onpolicy_teacher: str = ""
    onpolicy_temperature: Annotated[float, Range(ge=0, le=2)] = 1.0
    onpolicy_beta: Annotated[float, Range(ge=0, le=1)] = 1.0
    onpolicy_sft_weight: Annotated[float, Range(ge=0, le=10)] = 0.0


# A key as Textual names it ("f4", "ctrl+t", "?"), or several separated by commas.
_KEYS = re.compile(r"^\s*[^\s,]+\s*(,\s*[^\s,]+\s*)*$")


def _check_keys(keys: dict[str, str]) -> dict[str, str]:
    for binding_id, value in keys.items():
        if not _KEYS.match(value):
            raise ValueError(
                f'{binding_id} = {value!r}: give a key such as "f4" or "ctrl+t", '
                "or several separated by commas"
            )
    return keys


class Project(Section):
    task: Task = field(default_factory=Task)
    teacher: Teacher = field(default_factory=Teacher)
    student: Student = field(default_factory=Student)
    split: Split = field(default_factory=Split)
    train: Train = field(default_factory=Train)
    # Binding id -> key(s), replacing the app's own key for that action (the ids
    # are the ones the `?` overlay's keys belong to; docs/keys.md).
    keys: Annotated[dict[str, str], _check_keys] = field(default_factory=dict)


class ConfigError(UserError):
    """A project file that cannot be used; the message names the key and line."""


_SECRET_KEYS = re.compile(r"(api[_-]?key|secret|token|password)$", re.I)
_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def _line_of(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Best-effort line of the last key in `loc` (a problem names keys, not lines)."""
    keys = [k for k in loc if isinstance(k, str)]
    if not keys:
        return None
    key = keys[-1]
    pattern = re.compile(rf"^\s*(\"?){re.escape(key)}\1\s*=", re.M)
    # Prefer a match after the section header of the first key.
    start = 0
    if len(keys) > 1:
        header = re.search(rf"^\s*\[+\s*{re.escape(keys[0])}[\].]", text, re.M)
        if header:
            start = header.start()
    m = pattern.search(text, start) or pattern.search(text)
    if m is None:
        header = re.search(rf"^\s*\[+[^\]]*\b{re.escape(key)}\]+", text, re.M)
        m = header
    return text.count("\n", 0, m.start()) + 1 if m else None


def parse(text: str, source: str = "distill.toml") -> Project:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    try:
        return Project.parse(data)
    except Invalid as e:
        first = e.first
        line = _line_of(text, first.loc)
        where = f"{source}:{line}" if line else source
        n = len(e.problems)
        more = f" (and {n - 1} more problem(s))" if n > 1 else ""
        raise ConfigError(f"{where}: {first.where}: {first.msg}{more}") from None


def load(path: Path) -> Project:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no project file here (run `distill-tui init`)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    return parse(text, source=str(path))


def dumps(project: Project) -> str:
    data = project.to_dict(exclude_none=True)
    if not data.get("keys"):
        data.pop("keys", None)  # no empty [keys] table in every project file
    return tomli_w.dumps(data, multiline_strings=True)


def save(project: Project, path: Path) -> None:
    """Write atomically: a crash mid-write leaves the previous file whole.
    The file keeps its mode; refusing a read-only one is the caller's job
    (`Workspace.save_settings`): a rename would replace it anyway."""
    text = dumps(project)
    if _SECRET_KEYS.search(text):
        # Belt and braces: no model field holds a secret, but a future one must not.
        for line in text.splitlines():
            k = line.split("=", 1)[0].strip()
            if _SECRET_KEYS.search(k):
                raise ConfigError(f"refusing to write a secret-looking key {k!r} to {path}")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        # The new file takes the old one's mode (a 600 file stays private).
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
    except FileNotFoundError:
        pass
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
