"""Near-duplicate detection by MinHash, shared by the curator's checks
(`core/checks.py`) and the filter new inputs pass before they are queued
(`core/candidates.py`).

Two texts are near-duplicates when the Jaccard similarity of their character
5-gram sets (after `normalize`: case and spacing ignored) is at least 0.8.
Candidates are found with MinHash buckets (8 bands of 2 of 16 minima) and
confirmed with the exact Jaccard, so a reported pair is always >= 0.8.
"""

from __future__ import annotations

from collections.abc import Hashable

from distill_tui.core.export import normalize

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
HEADS = 20  # members of one bucket compared with; a bigger bucket is a cluster


def shingles(text: str) -> set[int]:
    """The text's character 5-grams, hashed (within this process)."""
    t = normalize(text)[:MAX_CHARS]
    if len(t) <= SHINGLE:
        return {hash(t)}
    return {hash(t[i : i + SHINGLE]) for i in range(len(t) - SHINGLE + 1)}


def band_keys(s: set[int]) -> list[tuple[int, ...]]:
    """The MinHash band keys of a shingle set: texts sharing one are candidates."""
    mins = [min(map(salt.__xor__, s)) for salt in SALTS]
    return [(b, *mins[b : b + BAND]) for b in range(0, len(mins), BAND)]


def similar_enough(a: set[int], b: set[int], threshold: float = THRESHOLD) -> bool:
    return len(a & b) >= threshold * len(a | b)


class NearIndex:
    """Texts seen so far, by key; `find` names an earlier one a new text
    near-duplicates. Only the texts and band keys are kept (a shingle set
    costs ~9 KB, a 100,000-row store's sets a gigabyte); a bucket hit, rare
    below the threshold, re-shingles the other text to confirm it exactly."""

    def __init__(self) -> None:
        self._texts: dict[Hashable, str] = {}
        self._buckets: dict[tuple[int, ...], list[Hashable]] = {}

    def __len__(self) -> int:
        return len(self._texts)

    def find(self, text: str, s: set[int] | None = None) -> Hashable | None:
        s = shingles(text) if s is None else s
        for key in band_keys(s):
            for other in self._buckets.get(key, ())[:HEADS]:
                if similar_enough(s, shingles(self._texts[other])):
                    return other
        return None

    def add(self, key: Hashable, text: str, s: set[int] | None = None) -> None:
        s = shingles(text) if s is None else s
        self._texts[key] = text
        for band in band_keys(s):
            self._buckets.setdefault(band, []).append(key)
