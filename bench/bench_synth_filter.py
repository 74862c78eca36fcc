"""The filter new inputs pass before they are queued (issue 22): 200
candidates against a 10,000-row store.

    uv run python bench/bench_synth_filter.py [--rows 10000] [--candidates 200]

The store holds ticket-like texts sharing boilerplate (a greeting, a sign-off),
as a task's inputs do, over a vocabulary of 60 task words and 3,000 made-up
ones (names, products); the candidates are 30% reworded copies of stored rows,
10% exact repeats and 60% new texts. Printed side by side:

- distill-tui: indexing the store (once per synthesis run, in its worker) and
  filtering the candidates against it (per teacher reply), and how many
  reworded copies it caught;
- baselines: exact duplicates only (Kiln's filter) and the exact pairwise
  Jaccard of every candidate with every row (what MinHash approximates).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from distill_tui.core.dataset import dedup  # noqa: E402
from distill_tui.core.dataset.export import normalize  # noqa: E402
from distill_tui.core.project import Workspace  # noqa: E402
from distill_tui.core.store import sha  # noqa: E402
from distill_tui.core.synth.candidates import CandidateFilter  # noqa: E402

WORDS = (
    "invoice refund card login password export report printer screen account upgrade plan "
    "team seat email phone address delivery parcel label tracking order coupon discount tax "
    "receipt bank transfer wallet app crash sync backup restore calendar meeting reminder alert "
    "badge theme font language region currency storage quota since yesterday again twice never"
).split()


def vocabulary(rng: random.Random, n: int = 3000) -> list[str]:
    """The task's words and n made-up ones (names, products, order numbers)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    made = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(n)]
    return WORDS * 20 + made


def text(rng: random.Random) -> str:
    body = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(10, 30)))
    return f"Hello support team, {body}. Thanks in advance, regards"


def reword(rng: random.Random, t: str) -> str:
    words = t.split()
    i = rng.randrange(3, len(words) - 3)
    words[i] = rng.choice(VOCAB)  # one word changed and the case of another
    words[i + 1] = words[i + 1].upper()
    return " ".join(words)


VOCAB = vocabulary(random.Random(1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--candidates", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(22)
    stored = list(dict.fromkeys(text(rng) for _ in range(args.rows)))  # same order every run
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "bench")
        now = time.time()
        with ws.store.tx() as c:
            c.executemany(
                "INSERT INTO rows (input, input_sha, created_at, updated_at) VALUES (?, ?, ?, ?)",
                ((t, sha(t), now, now) for t in stored),
            )
        n = args.candidates
        copies = [reword(rng, rng.choice(stored)) for _ in range(n * 3 // 10)]
        repeats = [rng.choice(stored) for _ in range(n // 10)]
        fresh = [text(rng) for _ in range(n - len(copies) - len(repeats))]
        cands = copies + repeats + fresh
        rng.shuffle(cands)

        t0 = time.perf_counter()
        check = CandidateFilter.for_store(ws.store)
        t1 = time.perf_counter()
        report = check.filter(cands)
        t2 = time.perf_counter()
        ws.store.close()
    dropped = {d.text: d.reason for d in report.dropped}
    caught = sum(c in dropped for c in copies)
    fresh_kept = sum(f in report.kept for f in fresh)

    # Baselines.
    t3 = time.perf_counter()
    exact = {normalize(t) for t in stored}
    exact_caught = sum(normalize(c) in exact for c in copies)
    t4 = time.perf_counter()
    sets = [dedup.shingles(t) for t in stored]
    t5 = time.perf_counter()
    pair_caught = 0
    for copy in copies:
        one = dedup.shingles(copy)
        pair_caught += any(dedup.similar_enough(one, o) for o in sets)
    t6 = time.perf_counter()
    pair_per = (t6 - t5) / len(copies) * n  # per the whole candidate batch

    print(f"{len(stored):,} stored rows, {n} candidates ({len(copies)} reworded copies)")
    print(f"{'':34}{'index store':>12}{'filter':>10}{'copies caught':>15}")
    print(
        f"{'exact duplicates only (Kiln)':34}{t4 - t3:>11.2f}s{0:>9.2f}s"
        f"{exact_caught:>8}/{len(copies)}"
    )
    print(
        f"{'pairwise exact Jaccard':34}{t5 - t4:>11.2f}s{pair_per:>9.2f}s"
        f"{pair_caught:>8}/{len(copies)}"
    )
    print(
        f"{'distill-tui (MinHash buckets)':34}{t1 - t0:>11.2f}s{t2 - t1:>9.2f}s"
        f"{caught:>8}/{len(copies)}"
    )
    print(
        f"filter: {pair_per / (t2 - t1):.0f}x faster than pairwise; "
        f"{fresh_kept}/{len(fresh)} new texts kept; "
        f"repeats dropped {sum(r in dropped for r in repeats)}/{len(repeats)}"
    )


if __name__ == "__main__":
    main()
