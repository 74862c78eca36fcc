"""Near-duplicate detection by MinHash, shared by the curator's checks
(`core/curate/checks.py`) and the filter new inputs pass before they are queued
(`core/synth/candidates.py`).

Two texts are near-duplicates when the Jaccard similarity of their character
5-gram sets (after `normalize`: case and spacing ignored) is at least 0.8.
The sets cover the whole text: cut at 2,000 characters, 60 contracts that
shared a 2,100-character preamble (true Jaccard 0.36) were all "near-
duplicates". Candidates are found with MinHash buckets (8 bands of 2 of 16
minima) and confirmed with the exact Jaccard of the whole texts, so a
reported pair is always >= 0.8.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from functools import cache
from typing import Any
from zlib import crc32

from distill_tui.core.dataset.export import normalize

THRESHOLD = 0.8
SHINGLE = 5
_CHUNK = 1 << 15  # shingles hashed at once: bounds the memory of a long text's signature
# Each of the 16 minima is taken under its own multiply-shift hash
# ((a * x + b) mod 2**64) >> 32, a strongly universal family on 32-bit keys
# (Dietzfelbinger). Until now the minima were taken of `h ^ salt`, whose order
# is decided by the top bits of h alone: two texts at Jaccard 0.78 agreed on
# 1-5 of 16 minima where a min-wise family agrees on ~12, and a quarter of the
# test's runs let a reworded copy through.
_A = (
    0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93,
    0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3, 0x589965CC75374CC3,
    0x1D8E4E27C47D124F, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
    0x85EBCA77C2B2AE63, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x2127599BF4325C37,
)  # fmt: skip
_B = (
    0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1, 0x510E527FADE682D1, 0x9B05688C2B3E6C1F,
    0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179, 0x6A09E667F3BCC908, 0xBB67AE8584CAA73B,
    0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89,
    0x452821E638D01377, 0xBE5466CF34E90C6C, 0xC0AC29B7C97C50DD, 0x3F84D5B5B5470917,
)  # fmt: skip
BAND = 2  # 8 bands of 2: pairs at Jaccard 0.8 share a band with p > 0.999
STOP_SHARE = 0.05  # a shingle in more of the texts than this says nothing about one
STOP_MIN_SAMPLE = 200  # below this many texts, every shingle counts
HEADS = 20  # members of one bucket compared with; a bigger bucket is a cluster


def shingles(text: str) -> set[int]:
    """The text's character 5-grams as 32-bit CRCs: the same numbers in every
    process, so the filter drops the same candidates on every run (Python's
    `hash` of a str is salted per process)."""
    t = normalize(text)
    if len(t) <= SHINGLE:
        return {crc32(t.encode())}
    return {crc32(t[i : i + SHINGLE].encode()) for i in range(len(t) - SHINGLE + 1)}


def signature(s: set[int]) -> tuple[int, ...]:
    """The 16 MinHash minima of a shingle set."""
    import numpy as np

    a, b = _coefficients()
    x = np.fromiter(s, dtype=np.uint64, count=len(s))
    mins = None
    for i in range(0, len(x), _CHUNK):
        h = (x[None, i : i + _CHUNK] * a + b) >> np.uint64(32)  # uint64 wraps: mod 2**64
        part = h.min(axis=1)
        mins = part if mins is None else np.minimum(mins, part)
    assert mins is not None  # a shingle set is never empty
    return tuple(mins.tolist())


@cache
def _coefficients() -> tuple[Any, Any]:
    """The hash family as numpy columns (numpy loads on first use, not import)."""
    import numpy as np

    return np.array(_A, dtype=np.uint64)[:, None], np.array(_B, dtype=np.uint64)[:, None]


def band_keys(s: set[int] | tuple[int, ...]) -> list[tuple[int, ...]]:
    """The MinHash band keys of a shingle set (or its signature): texts
    sharing one are candidates."""
    mins = s if isinstance(s, tuple) else signature(s)
    return [(b, *mins[b : b + BAND]) for b in range(0, len(mins), BAND)]


def similar_enough(a: set[int], b: set[int], threshold: float = THRESHOLD) -> bool:
    """Exact Jaccard >= threshold (sizes far apart rule it out unseen)."""
    if min(len(a), len(b)) < threshold * max(len(a), len(b)):
        return False
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
