"""The project file `distill.toml`: one documented model, read with tomllib and
written with tomli-w. A bad file raises `ConfigError` with the key and line."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from distill_tui.core.errors import UserError

# Large enough for any real run, small enough that no arithmetic overflows.
_MANY = 10**9


class _Section(BaseModel):
    # Unknown keys are typos more often than not: say so instead of ignoring them.
    # Strict: TOML has real types, so `true` is not 1, `"yes"` is not a bool and
    # 1e23 is not an integer; nan and inf are refused (nan would switch a budget
    # cap off, inf ends training in an OverflowError).
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False
    )


class Example(_Section):
    input: str
    output: str


class Task(_Section):
    name: str = "my-task"
    instructions: str = ""
    input_description: str = ""
    output_description: str = ""
    output_format: Literal["text", "json"] = "text"
    examples: list[Example] = Field(default_factory=list)


class Price(_Section):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)


class Teacher(_Section):
    provider: Literal["anthropic", "openai", "mlx"] = "anthropic"
    # claude-sonnet-4-5 retires on 30 Nov 2026 (the SDK warns); 4-6 is its successor.
    model: str = "claude-sonnet-4-6"
    max_tokens: int = Field(default=1024, ge=1)
    temperature: float = Field(default=0.0, ge=0, le=2)
    concurrency: int = Field(default=8, ge=1, le=256)
    requests_per_minute: int = Field(default=50, ge=0)
    base_url: str | None = None
    max_cost_usd: float | None = Field(default=None, ge=0)
    use_batches: bool = False
    prices: dict[str, Price] = Field(default_factory=dict)
    # Generation queue: attempts per row (transient errors) before the row is
    # marked failed, and the timeout of one request in seconds.
    max_attempts: int = Field(default=6, ge=1, le=50)
    request_timeout_s: float = Field(default=120.0, gt=0, le=86_400)
    # Local MLX teacher: how many inputs one batch_generate call decodes together.
    local_batch_size: int = Field(default=8, ge=1, le=256)
    # Message Batches: seconds between polls of a submitted batch.
    batch_poll_s: float = Field(default=30.0, gt=0, le=86_400)


class Student(_Section):
    model: str = "mlx-community/Qwen2.5-1.5B-Instruct-4bit"


class Split(_Section):
    valid_fraction: float = Field(default=0.1, ge=0, lt=1)
    test_fraction: float = Field(default=0.0, ge=0, lt=1)
    seed: int = 0
    format: Literal["chat", "completions"] = "chat"


class Train(_Section):
    iters: int = Field(default=600, ge=1, le=_MANY)
    batch_size: int = Field(default=4, ge=1)
    lora_rank: int = Field(default=16, ge=1)
    lora_scale: float = Field(default=20.0, gt=0)
    lora_dropout: float = Field(default=0.0, ge=0, lt=1)
    learning_rate: float = Field(default=1e-5, gt=0)
    num_layers: int = Field(default=16, ge=-1)
    max_seq_length: int = Field(default=2048, ge=16, le=_MANY)
    mask_prompt: bool = True
    grad_checkpoint: bool = False
    steps_per_report: int = Field(default=10, ge=1, le=_MANY)
    steps_per_eval: int = Field(default=100, ge=1, le=_MANY)
    steps_per_save: int = Field(default=100, ge=1, le=_MANY)
    val_batches: int = Field(default=25, ge=-1, le=_MANY)
    early_stopping_patience: int = Field(default=0, ge=0, le=_MANY)
    fine_tune_type: Literal["lora", "dora", "full"] = "lora"
    seed: int = 0
    # Preference training (issue 21) from an SFT run's adapter: "dpo" on the
    # exported pairs, "kto" on the labelled rows. beta 0.1 as TRL and
    # mlx-lm-lora; sft_weight adds the chosen answer's NLL (keeps the chosen
    # log-probability from collapsing).
    objective: Literal["sft", "dpo", "kto"] = "sft"
    beta: float = Field(default=0.1, gt=0, le=10)
    sft_weight: float = Field(default=0.0, ge=0, le=10)


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


class Project(_Section):
    task: Task = Field(default_factory=Task)
    teacher: Teacher = Field(default_factory=Teacher)
    student: Student = Field(default_factory=Student)
    split: Split = Field(default_factory=Split)
    train: Train = Field(default_factory=Train)
    # Binding id -> key(s), replacing the app's own key for that action (the ids
    # are the ones the `?` overlay's keys belong to; README "Keys").
    keys: dict[str, str] = Field(default_factory=dict)

    @field_validator("keys")
    @classmethod
    def _valid_keys(cls, keys: dict[str, str]) -> dict[str, str]:
        return _check_keys(keys)


class ConfigError(UserError):
    """A project file that cannot be used; the message names the key and line."""


_SECRET_KEYS = re.compile(r"(api[_-]?key|secret|token|password)$", re.I)
_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def _line_of(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Best-effort line of the last key in `loc` (TOML errors from pydantic carry none)."""
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
        return Project.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(text, loc)
        where = f"{source}:{line}" if line else source
        more = f" (and {len(e.errors()) - 1} more problem(s))" if len(e.errors()) > 1 else ""
        raise ConfigError(f"{where}: {key}: {err['msg']}{more}") from None


def load(path: Path) -> Project:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no project file here (run `distill-tui init`)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    return parse(text, source=str(path))


def dumps(project: Project) -> str:
    data = project.model_dump(mode="json", exclude_none=True)
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
