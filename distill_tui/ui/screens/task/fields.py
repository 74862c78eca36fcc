"""The Task screen's fields: what each one saves and how a refusal reads, the
API key line (whether the teacher needs one, never its value) and the price
field, where any teacher gets a price of its own (USD per million tokens) and
a local server is priced at 0 by choice; the terms line: what the teacher's
own terms say about training on its outputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text

from distill_tui.core import config as cfg
from distill_tui.core import sysinfo
from distill_tui.core.generate.pricing import price_text
from distill_tui.core.ship.terms import teacher_terms_line, terms_for


def whole_number(raw: str) -> int:
    """Digits only: Python's int() also takes "1_000", which a typo (or a
    path typed into the wrong field) should not become."""
    text = raw.strip()
    if not text.isascii() or not text.lstrip("+-").isdigit():
        raise ValueError(raw)
    return int(text)


# widget id -> (section, field, parse)
FIELDS: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "task-name": ("task", "name", str),
    "task-input-desc": ("task", "input_description", str),
    "task-output-desc": ("task", "output_description", str),
    "task-instructions": ("task", "instructions", str),
    "task-output-format": ("task", "output_format", str),
    "teacher-provider": ("teacher", "provider", str),
    "teacher-model": ("teacher", "model", str),
    "teacher-base-url": ("teacher", "base_url", lambda v: v or None),
    "teacher-max-tokens": ("teacher", "max_tokens", whole_number),
    "teacher-concurrency": ("teacher", "concurrency", whole_number),
    "teacher-rpm": ("teacher", "requests_per_minute", whole_number),
    "student-model": ("student", "model", str),
}


def refusal_reason(error: cfg.Invalid) -> str:
    """The config model's complaint in a few words ('must be at least 1')."""
    first = error.first
    words = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
    if first.bound is not None:
        kind, bound = first.bound
        return f"must be {words[kind]} {bound}"
    return first.msg


def examples_title(n: int) -> str:
    hint = "" if 5 <= n <= 10 else "  (the guide suggests 5-10)"
    return f"Few-shot examples: {n}{hint}   a add · e edit · d delete · shift+↑↓ move"


PROVIDERS = [
    ("Anthropic (Claude)", "anthropic"),
    ("OpenAI-compatible", "openai"),
    ("Local MLX", "mlx"),
]


def key_line(teacher: cfg.Teacher) -> Text:
    """One line on the API key: needed and set, needed and missing, or not
    needed (a local MLX model, or a server on this machine or network)."""
    present = sysinfo.api_key_present(teacher.provider, teacher.base_url)
    var = sysinfo.API_KEY_VARS.get(teacher.provider, "")
    if present is None:
        return Text("Local teacher: no API key needed.", style="dim")
    if present:
        return Text(f"✓ {var} is set in the environment.")
    return Text(f"✗ {var} is not set: export it in the shell that runs distill-tui.")


def terms_line(teacher: cfg.Teacher) -> Text:
    """What the teacher's own terms say about training on its outputs, with
    the source; empty when the table has no entry for it."""
    if terms_for(teacher.provider, teacher.model, teacher.base_url) is None:
        return Text("")
    return Text(teacher_terms_line(teacher.provider, teacher.model, teacher.base_url))


def price_placeholder(teacher: cfg.Teacher) -> str:
    """What a blank price field means for this teacher."""
    if teacher.provider == "mlx":
        return "blank: free (a local MLX model)"
    if teacher.provider == "openai" and sysinfo.is_local_url(teacher.base_url):
        return "unknown: type 0 if this server is free"
    return "blank: genai-prices' price; or in / out"


def price_value(teacher: cfg.Teacher) -> str:
    """The field's text: this model's own price in distill.toml, if any."""
    return price_text(teacher.prices.get(teacher.model))
