"""New inputs a teacher wrote, from its reply to the queue: the reply is read
as a JSON array or a marked list (never stray lines), and each candidate is
dropped when it duplicates the store or the batch exactly, near-duplicates
them (core/dataset/dedup.py), would not fit the training `max_seq_length`, or is a
fragment (a code fence, a lone brace). Used by topic synthesis and by
"inputs like the failing ones", so both show what was dropped and why.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from distill_tui.core.config import Project
from distill_tui.core.dataset import dedup
from distill_tui.core.dataset.export import normalize
from distill_tui.core.evaluate import metrics
from distill_tui.core.store import Store

REASONS = ("duplicate", "near-duplicate", "too-long", "fragment")
MAX_ITEMS = 200
SAMPLE = 2000  # texts the filter learns common shingles from
MAX_DEPTH = 32  # nesting of a reply's JSON: a list of inputs needs 3 at most
MAX_RESCANS = 8  # fresh starts after a quote that never closed

# "1. x", "1) x", "- x", "* x", "• x": the markers that make a line a list item.
_MARKER = re.compile(r"^\s*(?:\d{1,3}[.)]|[-*•])\s+")
_WORD = re.compile(r"\w", re.U)
_KEY_LINE = re.compile(r'^"[^"]*"\s*:')  # `"text": "...",`: one line of a JSON object
TURN_OVERHEAD = 8  # role markers and framing per chat turn, as engine/generate/estimate.py


def _unquote(item: str) -> str:
    item = item.strip().rstrip(",").strip()
    if len(item) >= 2 and item[0] == item[-1] and item[0] in "\"'`":
        item = item[1:-1]
    return item.strip()


def _json_items(body: str) -> list[object] | None:
    """The first JSON array in `body` that parses, found in one pass: each
    bracketed span at the top level (brackets inside JSON strings do not
    count) is parsed once, so a reply full of brackets costs linear time, and
    a span nested deeper than MAX_DEPTH is skipped rather than handed to the
    recursive JSON parser. A quote that never closes (prose in brackets)
    swallows the rest of the reply: the scan then starts again after that
    span's bracket, at most MAX_RESCANS times."""
    pos = 0
    for _ in range(MAX_RESCANS + 1):
        found, unclosed = _scan(body, pos)
        if found is not None or unclosed is None:
            return found
        pos = unclosed + 1
    return None


def _scan(body: str, pos: int) -> tuple[list[object] | None, int | None]:
    """(the first array from `pos` that parses, None) or, when the text ended
    inside a span, (None, where that span began)."""
    depth = start = 0
    in_str = too_deep = False
    i = body.find("[", pos)
    while i != -1 and i < len(body):
        ch = body[i]
        if in_str:
            if ch == "\\":
                i += 1  # the escaped character is not a quote
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            if depth == 0:
                start, too_deep = i, False
            depth += 1
            too_deep = too_deep or depth > MAX_DEPTH
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                items = None if too_deep else _loads(body[start : i + 1])
                if isinstance(items, list):
                    return items, None
        i = body.find("[", i + 1) if depth == 0 else i + 1
    return None, (start if depth > 0 else None)


def _loads(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def is_fragment(item: str) -> bool:
    """A piece of markup, not an input: a fence, a brace, a lone key."""
    s = item.strip()
    if not s or s.startswith("```") or not _WORD.search(s) or _KEY_LINE.match(s):
        return True
    unbalanced = s.count("{") != s.count("}") or s.count("[") != s.count("]")
    if unbalanced and (s[0] in "{[" or s.rstrip(",")[-1] in "}]"):
        if _loads(s) is None:
            return True  # one line of a multi-line JSON value: `{"a": [`, `]},`
    return False


def parse_list(text: str, truncated: bool = False) -> list[str]:
    """The items of a teacher's reply: a JSON array of strings (objects kept
    as compact JSON), else the lines marked as list items ("1. ", "- ").
    Unmarked lines (a lead-in, code, commentary) are never items; with
    `truncated` (the reply hit the token limit) the last list item is dropped.
    Fragments and repeats are removed; at most MAX_ITEMS are returned."""
    body = metrics.strip_fence(text.strip())
    items = _json_items(body)
    out: list[str] = []
    if items is not None:
        for i in items:
            out.append(i if isinstance(i, str) else json.dumps(i, ensure_ascii=False))
    else:
        marked = [ln for ln in body.splitlines() if _MARKER.match(ln)]
        if truncated and marked:
            marked = marked[:-1]
        out = [_unquote(_MARKER.sub("", ln)) for ln in marked]
    seen: set[str] = set()
    kept = []
    for s in (x.strip() for x in out):
        if s and s not in seen and not is_fragment(s):
            seen.add(s)
            kept.append(s)
    return kept[:MAX_ITEMS]


@dataclass
class Dropped:
    text: str
    reason: str  # one of REASONS
    like: str | None = None  # the text it duplicates, when one


@dataclass
class FilterReport:
    kept: list[str] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    unexamined: int = 0  # texts left once `limit` were kept

    @property
    def examined(self) -> int:
        return len(self.kept) + len(self.dropped)

    def counts(self) -> dict[str, int]:
        c = Counter(d.reason for d in self.dropped)
        return {r: c[r] for r in REASONS}

    @property
    def duplicates(self) -> int:
        c = self.counts()
        return c["duplicate"] + c["near-duplicate"]

    def describe(self) -> str:
        """'kept 3 of 5; dropped 1 near-duplicate, 1 too-long'."""
        parts = [f"{n} {r}" for r, n in self.counts().items() if n]
        total = len(self.kept) + len(self.dropped)
        return f"kept {len(self.kept)} of {total}" + (
            f"; dropped {', '.join(parts)}" if parts else ""
        )


def too_long_rule(settings: Project, count: Callable[[str], int]) -> Callable[[str], bool]:
    """Whether an input cannot be trained on whole: the instructions, the
    input and an answer as long as the longest example's (at least 16 tokens)
    exceed `[train] max_seq_length` (mlx-lm would cut the row)."""
    task = settings.task
    outputs = [count(e.output) for e in task.examples if e.output]
    reserve = max([16, *outputs])
    fixed = count(task.instructions) if task.instructions.strip() else 0
    budget = settings.train.max_seq_length - fixed - reserve - 3 * TURN_OVERHEAD

    def too_long(text: str) -> bool:
        return count(text) > budget

    return too_long


class CandidateFilter:
    """Exact and near duplicates against everything seen (the store, then
    each kept candidate), and the length rule. Build it once per run: indexing
    a store costs about what filtering its size of candidates does."""

    def __init__(
        self, existing: Iterable[str] = (), too_long: Callable[[str], bool] | None = None
    ) -> None:
        self.too_long = too_long
        self._exact: dict[str, str] = {}
        texts = existing if isinstance(existing, list) else list(existing)
        # Common shingles are learnt from a sample: 2,000 texts find a 5% share.
        step = max(1, len(texts) // SAMPLE)
        self._near = dedup.NearIndex.for_texts(texts[::step])
        for text in texts:
            self._remember(text)

    @classmethod
    def for_store(
        cls, store: Store, too_long: Callable[[str], bool] | None = None
    ) -> CandidateFilter:
        return cls((r[0] for r in store.conn.execute("SELECT input FROM rows")), too_long)

    def extend(self, texts: Iterable[str]) -> None:
        """Also compare candidates with `texts` (inputs shown to the teacher)."""
        for text in texts:
            self._remember(text)

    def _remember(self, text: str, sig: tuple[int, ...] | None = None) -> None:
        key = normalize(text)
        if key in self._exact:
            return
        self._exact[key] = text
        self._near.add(key, text, sig=sig)

    def filter(self, texts: Iterable[str], limit: int | None = None) -> FilterReport:
        """Split `texts` into kept and dropped; kept ones join what later
        candidates are compared with. With `limit`, the texts after the
        `limit`-th kept one are counted in `unexamined`, not looked at."""
        report = FilterReport()
        for text in texts:
            if limit is not None and len(report.kept) >= limit:
                report.unexamined += 1
                continue
            key = normalize(text)
            if is_fragment(text):
                report.dropped.append(Dropped(text, "fragment"))
                continue
            if key in self._exact:
                report.dropped.append(Dropped(text, "duplicate", self._exact[key]))
                continue
            s = dedup.shingles(text)
            sig = self._near.signature(s)
            other = self._near.find(text, s, sig)
            if other is not None:
                report.dropped.append(Dropped(text, "near-duplicate", self._exact[str(other)]))
                continue
            if self.too_long is not None and self.too_long(text):
                report.dropped.append(Dropped(text, "too-long"))
                continue
            self._remember(text, sig)
            report.kept.append(text)
        return report
