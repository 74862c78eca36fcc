"""`distill-tui init DIR`: create a project folder, with the task, teacher and
student from flags, so a project can be made without writing TOML by hand.
The values go through the same config model as distill.toml."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from distill_tui.core import config as cfg
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.generate.pricing import parse_price
from distill_tui.core.numbers import finite_float
from distill_tui.core.project import Workspace

# flag dest -> (section, field)
_FLAGS: dict[str, tuple[str, str]] = {
    "name": ("task", "name"),
    "instructions": ("task", "instructions"),
    "input_description": ("task", "input_description"),
    "output_description": ("task", "output_description"),
    "output_format": ("task", "output_format"),
    "provider": ("teacher", "provider"),
    "teacher_model": ("teacher", "model"),
    "base_url": ("teacher", "base_url"),
    "max_tokens": ("teacher", "max_tokens"),
    "temperature": ("teacher", "temperature"),
    "concurrency": ("teacher", "concurrency"),
    "requests_per_minute": ("teacher", "requests_per_minute"),
    "max_cost": ("teacher", "max_cost_usd"),
    "max_attempts": ("teacher", "max_attempts"),
    "request_timeout": ("teacher", "request_timeout_s"),
    "student": ("student", "model"),
}


# The teacher's limits: flag, type, metavar, help.
_LIMITS: tuple[tuple[str, Callable[[str], object], str, str], ...] = (
    ("--max-tokens", int, "N", "an answer's token limit (default 1024)"),
    ("--temperature", finite_float, "T", "sampling temperature (default 0)"),
    ("--concurrency", int, "N", "requests at once (default 8)"),
    ("--requests-per-minute", int, "N", "request rate cap, 0 for none (default 50)"),
    ("--max-cost", finite_float, "USD", "the project's budget cap"),
    ("--max-attempts", int, "N", "tries per request (default 6)"),
    ("--request-timeout", finite_float, "S", "seconds one request may take (default 120)"),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="create a project folder",
        description="Create a project folder. The flags fill in distill.toml; anything "
        "left out keeps its default and can be set later on the Task screen.",
    )
    p.add_argument("dir", help="project folder to create")
    task = p.add_argument_group("task")
    task.add_argument("--name", help="task name (default: the folder's name)")
    task.add_argument("--instructions", metavar="TEXT", help="the teacher's task prompt")
    task.add_argument("--input-description", metavar="TEXT", help="what an input looks like")
    task.add_argument("--output-description", metavar="TEXT", help="what an output looks like")
    task.add_argument("--output-format", choices=("text", "json"), help="default: text")
    task.add_argument(
        "--example",
        nargs=2,
        action="append",
        metavar=("INPUT", "OUTPUT"),
        help="a few-shot example (repeat for more; the guide suggests 5-10)",
    )
    teacher = p.add_argument_group("teacher")
    teacher.add_argument("--provider", choices=("anthropic", "openai", "mlx"))
    teacher.add_argument("--teacher-model", metavar="MODEL", help="the teacher model's name")
    teacher.add_argument("--base-url", metavar="URL", help="an OpenAI-compatible server")
    teacher.add_argument(
        "--price",
        metavar="IN[/OUT]",
        help="the teacher's price in USD per million tokens (0 for a free local server)",
    )
    # The Task form's teacher limits, checked by the config model's ranges.
    for flag, kind, metavar, what in _LIMITS:
        teacher.add_argument(flag, type=kind, metavar=metavar, help=what)
    p.add_argument_group("student").add_argument(
        "--student", metavar="MODEL", help="Hugging Face id, model folder or .gguf file"
    )


def _settings(args: argparse.Namespace) -> cfg.Project:
    project = cfg.Project()
    for dest, (section, field) in _FLAGS.items():
        value = getattr(args, dest)
        if value is None:
            continue
        try:
            setattr(getattr(project, section), field, value)
        except cfg.Invalid as e:
            flag = "--" + dest.replace("_", "-")
            raise UserError(f"{flag}: {e.first.msg}") from None
    if args.example:
        project.task.examples = [cfg.Example(input=i, output=o) for i, o in args.example]
    if args.price is not None:
        try:
            price = parse_price(args.price)
        except ValueError as e:
            raise UserError(f"--price: {e}") from None
        if price is not None:
            project.teacher.prices = {project.teacher.model: price}
    return project


def run(args: argparse.Namespace) -> int:
    settings = _settings(args)  # a bad flag is refused before anything is written
    ws = Workspace.create(args.dir, settings)
    print(f"created {shown(ws.root)} (edit distill.toml or run `distill-tui {shown(args.dir)}`)")
    return 0
