"""Near-duplicate detection by MinHash, shared by the curator's checks
(`core/curate/checks.py`) and the filter new inputs pass before they are queued
(`core/synth/candidates.py`).

Two texts are near-duplicates when the Jaccard similarity of their character
5-gram sets (after `normalize`: case and spacing ignored) is at least 0.8.
Candidates are found with MinHash buckets (8 bands of 2 of 16 minima) and
confirmed with the exact Jaccard, so a reported pair is always >= 0.8.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable

from distill_tui.core.dataset.export import normalize

THRESHOLD = 0.8
SHINGLE = 5
MAX_CHARS = 2000  # enough text to judge similarity; bounds the cost per row
# XOR salts must cover the high bits of the 64-bit str hash: the order of
# `h ^ salt` is decided by its top bits, so 32-bit salts (used until issue 22)
# made all 16 minima the same shingle and every text sharing a boilerplate
# phrase landed in one bucket, where a near-duplicate could go unseen.
_SEEDS = (
    0x5F3759DF, 0x2545F491, 0x6C8E9CF5, 0x1B873593, 0x7FEB352D, 0x68E31DA4, 0x3C6EF372,
    0x27D4EB2F, 0x165667B1, 0x61C88647, 0x4CF5AD43, 0x0BF58476, 0x94D049BB, 0x2127599B,
    0x52DCE729, 0x7A2F1C3D,
)  # fmt: skip
SALTS = tuple((seed * 0x9E3779B97F4A7C15) & (2**63 - 1) for seed in _SEEDS)
BAND = 2  # 8 bands of 2: pairs at Jaccard 0.8 share a band with p > 0.999
STOP_SHARE = 0.05  # a shingle in more of the texts than this says nothing about one
STOP_MIN_SAMPLE = 200  # below this many texts, every shingle counts
HEADS = 20  # members of one bucket compared with; a bigger bucket is a cluster


def shingles(text: str) -> set[int]:
    """The text's character 5-grams, hashed (within this process)."""
    t = normalize(text)[:MAX_CHARS]
    if len(t) <= SHINGLE:
        return {hash(t)}
    return {hash(t[i : i + SHINGLE]) for i in range(len(t) - SHINGLE + 1)}


def signature(s: set[int]) -> tuple[int, ...]:
    """The 16 MinHash minima of a shingle set."""
    return tuple(min(map(salt.__xor__, s)) for salt in SALTS)


def band_keys(s: set[int] | tuple[int, ...]) -> list[tuple[int, ...]]:
    """The MinHash band keys of a shingle set (or its signature): texts
    sharing one are candidates."""
    mins = s if isinstance(s, tuple) else signature(s)
    return [(b, *mins[b : b + BAND]) for b in range(0, len(mins), BAND)]


def similar_enough(a: set[int], b: set[int], threshold: float = THRESHOLD) -> bool:
    return len(a & b) >= threshold * len(a | b)


class NearIndex:
    """Texts seen so far, by key; `find` names an earlier one a new text
    near-duplicates. Only texts and signatures are kept (a shingle set costs
    ~9 KB, a 100,000-row store's sets a gigabyte). Every member of a shared
    bucket is screened by how many of the 16 minima it shares (a pair at
    Jaccard 0.8 shares fewer than MIN_AGREE with p ~ 0.002, one at 0.9 with
    p < 1e-5), and only those
    that pass are re-shingled and confirmed exactly: texts sharing boilerplate
    fill big buckets, and a member past the first few must not go unseen."""

    MIN_AGREE = 6

    def __init__(self, stop: frozenset[int] = frozenset()) -> None:
        self.stop = stop
        self._texts: dict[Hashable, str] = {}
        self._sigs: dict[Hashable, tuple[int, ...]] = {}
        self._buckets: dict[tuple[int, ...], list[Hashable]] = {}

    def __len__(self) -> int:
        return len(self._texts)

    @classmethod
    def for_texts(cls, sample: list[str]) -> NearIndex:
        """An index whose signatures leave out the shingles in more than
        STOP_SHARE of `sample` (a greeting, a sign-off, a template every input
        shares): otherwise their minima put most texts in one bucket, where
        every lookup screens thousands. Exact Jaccard still counts them."""
        if len(sample) < STOP_MIN_SAMPLE:
            return cls()
        df: Counter[int] = Counter()
        for text in sample:
            df.update(shingles(text))
        limit = STOP_SHARE * len(sample)
        return cls(frozenset(h for h, n in df.items() if n > limit))

    def signature(self, s: set[int]) -> tuple[int, ...]:
        """The minima of the informative shingles (all of them if none is)."""
        return signature((s - self.stop) or s)

    def find(
        self, text: str, s: set[int] | None = None, sig: tuple[int, ...] | None = None
    ) -> Hashable | None:
        s = shingles(text) if s is None else s
        sig = self.signature(s) if sig is None else sig
        seen: set[Hashable] = set()
        for band in band_keys(sig):
            for other in self._buckets.get(band, ()):
                if other in seen:
                    continue
                seen.add(other)
                if sum(map(int.__eq__, sig, self._sigs[other])) < self.MIN_AGREE:
                    continue
                if similar_enough(s, shingles(self._texts[other])):
                    return other
        return None

    def add(
        self,
        key: Hashable,
        text: str,
        s: set[int] | None = None,
        sig: tuple[int, ...] | None = None,
    ) -> None:
        if sig is None:
            sig = self.signature(shingles(text) if s is None else s)
        self._texts[key] = text
        self._sigs[key] = sig
        for band in band_keys(sig):
            self._buckets.setdefault(band, []).append(key)
