"""What the teachers' own terms say about training a model on their outputs.

A small table keyed by provider and model id, each line with its source, shown
as "the terms you accepted say ..." on the Task screen, in `status` and before
fuse. It quotes, it does not advise: a teacher with no entry says so, and the
user reads the terms they accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

NOT_ADVICE = "a summary of published terms with their source, not legal advice"


@dataclass(frozen=True)
class Term:
    family: str  # "Llama 3.x", "Anthropic", ...
    says: str  # what the terms say, in one sentence
    source: str  # where it says it
    # The licence that passes on to a model trained on the outputs, for the
    # model card's `license: other` + `license_name`; None when none does.
    passes_on: str | None = None

    def line(self) -> str:
        return f"the terms you accepted say: {self.says} ({self.family}; source: {self.source})"


LLAMA = Term(
    "Llama 3.x",
    'a model trained on Llama outputs and distributed must start its name with "Llama" '
    'and show "Built with Llama"',
    "Llama 3.1/3.2/3.3 Community License, section 1.b.i",
    passes_on="llama3",
)
GEMMA = Term(
    "Gemma",
    "a model trained on Gemma outputs is a Model Derivative, and Gemma's terms and use "
    "restrictions apply to it",
    "Gemma Terms of Use, section 1.1 (Model Derivatives)",
    passes_on="gemma",
)
QWEN = Term(
    "Qwen License",
    'a model trained or improved with Qwen outputs and distributed must show "Built with '
    'Qwen" or "Improved using Qwen" in its documentation',
    "Qwen LICENSE AGREEMENT, section 4.b (Qwen2.5-72B and other Qwen-licensed models)",
)
QWEN_RESEARCH = Term(
    "Qwen Research License",
    "the model and its outputs are for non-commercial research; a model trained with them "
    'must show "Built with Qwen" or "Improved using Qwen"',
    "Qwen RESEARCH LICENSE AGREEMENT, sections 3 and 4 (Qwen2.5-3B)",
)
ANTHROPIC = Term(
    "Anthropic",
    "the services may not be used to build a competing product or service, including to "
    "train AI models that compete with Anthropic",
    "Anthropic Commercial Terms of Service, section D.4",
)
OPENAI = Term(
    "OpenAI",
    "Output may not be used to develop models that compete with OpenAI",
    "OpenAI Terms of Use, 'What you cannot do'",
)

# Open-weight families first: a Llama served by an OpenAI-compatible endpoint
# is Llama's terms, not OpenAI's. Patterns match the model id, lower-cased.
_BY_MODEL: list[tuple[re.Pattern[str], Term]] = [
    (re.compile(r"llama[-_ .]?3|llama3"), LLAMA),
    (re.compile(r"gemma"), GEMMA),
    (re.compile(r"qwen[-_ ]?2\.5[-_ :]?72b"), QWEN),
    (re.compile(r"qwen[-_ ]?2\.5[-_ :]?3b"), QWEN_RESEARCH),
]
_OPENAI_HOSTS = {"api.openai.com"}


def terms_for(provider: str, model: str, base_url: str | None = None) -> Term | None:
    """The terms entry for a teacher, or None when the table has none."""
    name = model.lower()
    for pattern, term in _BY_MODEL:
        if pattern.search(name):
            return term
    if provider == "anthropic":
        return ANTHROPIC
    if provider == "openai":
        host = urlparse(base_url).hostname if base_url else "api.openai.com"
        if host in _OPENAI_HOSTS:
            return OPENAI
    return None


def teacher_terms_line(provider: str, model: str, base_url: str | None = None) -> str:
    """One line for a teacher: its terms, or that none are on record."""
    term = terms_for(provider, model, base_url)
    if term is None:
        return (
            f"no terms on record for {provider}:{model}: read the licence of the model "
            "and the terms of the service you use"
        )
    return term.line()
