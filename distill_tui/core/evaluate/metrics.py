"""Scores for a student's answer against the teacher's accepted output.

Distilled tasks are narrow (a label, a short extraction, a JSON object), so the
metrics are the ones such tasks are judged by: exact match after a forgiving
normalisation, SQuAD-style token-level F1, and for JSON tasks whether the
answer parses and which of the reference's fields it reproduces. All pure
functions; `evaluate` in the engine calls them, the tests check them by hand.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

# Metric names, in the order front ends show them.
EXACT = "exact_match"
F1 = "token_f1"
JSON_VALID = "json_valid"
JSON_FIELDS = "json_fields"

TEXT_METRICS = (EXACT, F1)
JSON_METRICS = (EXACT, F1, JSON_VALID, JSON_FIELDS)

# A model that wraps its answer in a Markdown code fence gave the same answer.
_FENCE = re.compile(r"^\s*```[\w-]*\s*\n?(.*?)\n?\s*```\s*$", re.S)
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
# Trailing full stops and wrapping quotes are style, not content, for a label.
_EDGE_PUNCT = ".,;:!?\"'`"


def strip_fence(text: str) -> str:
    m = _FENCE.match(text)
    return m.group(1) if m else text


def normalize(text: str) -> str:
    """Unicode-normalised, case-folded, whitespace-collapsed text without a code
    fence or wrapping punctuation: `  "Billing." ` and `billing` are equal."""
    text = unicodedata.normalize("NFKC", strip_fence(text)).casefold()
    text = _SPACE.sub(" ", text).strip()
    return text.strip(_EDGE_PUNCT).strip()


def tokens(text: str) -> list[str]:
    """Word tokens of the normalised text; punctuation is not a token."""
    return _WORD.findall(normalize(text))


def exact_match(prediction: str, reference: str) -> float:
    return 1.0 if normalize(prediction) == normalize(reference) else 0.0


def token_f1(prediction: str, reference: str) -> float:
    """Harmonic mean of token precision and recall over the bags of tokens."""
    pred, ref = tokens(prediction), tokens(reference)
    if not pred and not ref:
        return 1.0
    if not pred or not ref:
        return 0.0
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision = common / len(pred)
    recall = common / len(ref)
    return 2 * precision * recall / (precision + recall)


def parse_json(text: str) -> tuple[bool, Any]:
    """(parsed, value) for an answer that should be JSON, fence allowed."""
    try:
        return True, json.loads(strip_fence(text).strip())
    except (json.JSONDecodeError, ValueError):
        return False, None


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return normalize(a) == normalize(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return bool(a == b)


def field_matches(prediction: str, reference: str) -> dict[str, bool]:
    """For a reference JSON object: which of its top-level fields the
    prediction reproduces (strings compared after normalisation). Empty when
    the reference is not an object."""
    ok_ref, ref = parse_json(reference)
    if not ok_ref or not isinstance(ref, dict):
        return {}
    ok_pred, pred = parse_json(prediction)
    if not ok_pred or not isinstance(pred, dict):
        return {k: False for k in ref}
    return {k: k in pred and _same_value(pred[k], v) for k, v in ref.items()}


def json_field_score(prediction: str, reference: str) -> float:
    """Fraction of the reference's fields matched; for a non-object reference,
    whether the parsed values are equal."""
    fields = field_matches(prediction, reference)
    if fields:
        return sum(fields.values()) / len(fields)
    ok_ref, ref = parse_json(reference)
    ok_pred, pred = parse_json(prediction)
    if ok_ref and ok_pred and not isinstance(ref, dict):
        return 1.0 if _same_value(pred, ref) else 0.0
    return 0.0


def score(prediction: str, reference: str, output_format: str = "text") -> dict[str, float]:
    """Every metric that fits the task's output format, by name."""
    out = {EXACT: exact_match(prediction, reference), F1: token_f1(prediction, reference)}
    if output_format == "json":
        out[JSON_VALID] = 1.0 if parse_json(prediction)[0] else 0.0
        out[JSON_FIELDS] = json_field_score(prediction, reference)
    return out


def mean_scores(scores: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Per-metric mean over rows (metrics missing from a row are skipped)."""
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    for row in scores:
        for name, value in row.items():
            totals[name] = totals.get(name, 0.0) + value
            counts[name] = counts.get(name, 0) + 1
    return {name: totals[name] / counts[name] for name in totals}


def is_failure(scores: Mapping[str, float]) -> bool:
    """A row the failure browser lists: the answer is not an exact match."""
    return scores.get(EXACT, 0.0) < 1.0
