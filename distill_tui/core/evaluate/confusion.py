"""A confusion matrix for label tasks: which label the model answered for each
reference label, with per-label recall and precision.

A task is a label task when its accepted outputs take few distinct values:
two to `MAX_LABELS`, each short (`MAX_LABEL_CHARS`), and on average at
least two rows per label (a free-text task of ten rows has ten distinct
outputs and is not one). Answers are compared after `metrics.normalize`, as
exact match compares them; anything that is not a label goes in `OTHER`.
JSON tasks get the same per top-level field whose values are labels.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from distill_tui.core.evaluate.metrics import normalize, parse_json

MAX_LABELS = 20
MAX_LABEL_CHARS = 40
OTHER = "other"


@dataclass(frozen=True)
class Confusion:
    labels: list[str]  # as the references spell them most often
    matrix: list[list[int]]  # rows: reference label; columns: labels, then OTHER

    @property
    def rows(self) -> int:
        return sum(map(sum, self.matrix))

    def recall(self, i: int) -> float | None:
        n = sum(self.matrix[i])
        return self.matrix[i][i] / n if n else None

    def precision(self, i: int) -> float | None:
        n = sum(row[i] for row in self.matrix)
        return self.matrix[i][i] / n if n else None

    def to_json(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "columns": [*self.labels, OTHER],
            "matrix": self.matrix,
            "recall": [self.recall(i) for i in range(len(self.labels))],
            "precision": [self.precision(i) for i in range(len(self.labels))],
        }


def label_set(references: Sequence[str]) -> list[str] | None:
    """The labels (normalised, in order of first use), or None when the
    references are not few short labels."""
    norms = [normalize(r) for r in references]
    distinct = list(dict.fromkeys(norms))
    if not 2 <= len(distinct) <= MAX_LABELS or 2 * len(distinct) > len(norms):
        return None
    if any(not s or len(s) > MAX_LABEL_CHARS for s in distinct):
        return None
    return distinct


def confusion(references: Sequence[str], answers: Sequence[str]) -> Confusion | None:
    """None unless the references are labels (see the module's rule)."""
    labels = label_set(references)
    if labels is None:
        return None
    index = {s: i for i, s in enumerate(labels)}
    matrix = [[0] * (len(labels) + 1) for _ in labels]
    spelled: dict[str, Counter[str]] = {s: Counter() for s in labels}
    for ref, ans in zip(references, answers, strict=True):
        r = normalize(ref)
        spelled[r][" ".join(ref.split())] += 1
        matrix[index[r]][index.get(normalize(ans), len(labels))] += 1
    shown = [spelled[s].most_common(1)[0][0] for s in labels]
    return Confusion(shown, matrix)


def _field_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int) or value is None:
        return json.dumps(value)
    return None


def field_confusions(references: Sequence[str], answers: Sequence[str]) -> dict[str, Confusion]:
    """For JSON tasks: a matrix per top-level field of the references whose
    values are labels. An answer that does not parse, or lacks the field,
    counts as OTHER."""
    refs = [parse_json(r)[1] for r in references]
    if not refs or not all(isinstance(r, dict) for r in refs):
        return {}
    fields = list(dict.fromkeys(k for r in refs for k in r))
    out: dict[str, Confusion] = {}
    for name in fields:
        ref_vals = [_field_text(r.get(name)) for r in refs]
        if any(v is None for v in ref_vals):
            continue
        ans_vals = []
        for a in answers:
            ok, parsed = parse_json(a)
            v = _field_text(parsed.get(name)) if ok and isinstance(parsed, dict) else None
            ans_vals.append("\0" if v is None else v)  # never a label
        found = confusion([v or "" for v in ref_vals], ans_vals)
        if found is not None:
            out[name] = found
    return out


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{round(100 * x)}%"


def render(c: Confusion, width: int = 80) -> list[str]:
    """The matrix as lines of at most `width` characters: numbered columns
    (`o` is other), each row the reference label (cut short to fit; a count
    is never cut), then that label's recall (rec) and precision (prec)."""
    n = len(c.labels)
    most = max((v for row in c.matrix for v in row), default=0)
    tail = f"{'rec':>5}{'prec':>5}"
    narrowest = max(3, len(str(most)) + 1)
    cell = max(narrowest, 5)
    # Wide cells while they fit beside a readable label; never narrower than a count.
    while cell > narrowest and 14 + cell * (n + 1) + len(tail) > width:
        cell -= 1
    longest = max(len(f"{n} {s}") for s in c.labels) + 1
    label_w = max(6, min(longest, width - cell * (n + 1) - len(tail)))

    def cut(text: str) -> str:
        return text if len(text) < label_w else text[: label_w - 2] + "…"

    head = "label".ljust(label_w) + "".join(f"{i + 1:>{cell}}" for i in range(n))
    lines = [head + f"{'o':>{cell}}" + tail]
    for i, label in enumerate(c.labels):
        lines.append(
            cut(f"{i + 1} {label}").ljust(label_w)
            + "".join(f"{v:>{cell}}" for v in c.matrix[i])
            + f"{_pct(c.recall(i)):>5}{_pct(c.precision(i)):>5}"
        )
    note = f"rows: the reference; columns: the answer (o: not a label); {c.rows} rows"
    return [*lines, note[:width]]
