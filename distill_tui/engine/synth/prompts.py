"""What synthesis asks the teacher: topics for the task (or subtopics of one
topic), and new inputs for one leaf, shown the task, the example inputs (for
style and length) and the inputs the leaf already has ("do not repeat")."""

from __future__ import annotations

from collections.abc import Sequence

from distill_tui.core.config import Task
from distill_tui.engine.generate.teachers.base import Prompt

MAX_EXAMPLES = 5  # example inputs quoted for style and length
MAX_HAVE = 30  # a leaf's inputs quoted as "do not repeat these"
_CLIP = 600  # characters of one quoted input


def _quote(texts: Sequence[str]) -> str:
    return "\n".join(f"<input>\n{t[:_CLIP]}\n</input>" for t in texts)


def _about(task: Task) -> list[str]:
    about = [
        "You plan and write inputs for a dataset that teaches a small model one narrow task.",
        f"The task, as given to the model:\n{task.instructions.strip() or '(no instructions)'}",
    ]
    if task.input_description.strip():
        about.append(f"What an input looks like: {task.input_description.strip()}")
    shown = [e.input for e in task.examples][:MAX_EXAMPLES]
    if shown:
        about.append(f"Example inputs (match their style and length):\n{_quote(shown)}")
    return about


def topics_prompt(task: Task, n: int, parent: str | None, existing: Sequence[str]) -> Prompt:
    if parent is None:
        ask = (
            f"List {n} distinct topics that real inputs for this task are about, so that "
            "together they cover what users send: different subjects, situations and "
            "difficulties, not rewordings of one another."
        )
    else:
        ask = (
            f"List {n} distinct subtopics of the topic {parent!r} for this task's inputs: "
            "narrower situations within it, not rewordings of one another."
        )
    if existing:
        ask += "\nAlready in the list (do not repeat them): " + "; ".join(existing)
    ask += f"\nReply with only a JSON array of {n} short strings (a few words each)."
    return Prompt(system="\n\n".join(_about(task)), examples=(), input=ask)


def inputs_prompt(task: Task, path: str, n: int, have: Sequence[str]) -> Prompt:
    ask = (
        f"Topic: {path}\n"
        f"Write {n} new inputs for this task about this topic. Make them differ from one "
        "another in wording, length, details and difficulty; write the inputs only, do not "
        "answer them."
    )
    if have:
        ask += (
            "\n\nInputs this topic already has (do not repeat or lightly edit these):\n"
            + _quote(list(have)[:MAX_HAVE])
        )
    ask += f"\n\nReply with only a JSON array of {n} strings, one input each."
    return Prompt(system="\n\n".join(_about(task)), examples=(), input=ask)
