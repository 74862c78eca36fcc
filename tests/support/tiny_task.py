"""A tiny ticket-classification split for the tests and bench/bench_train.py:
the tiny model learns it visibly within a few dozen steps. Writes
`train.jsonl` / `valid.jsonl` in mlx-lm's chat format. No MLX here."""

from __future__ import annotations

import json
import random
from pathlib import Path

LABELS = {
    "billing": ["I was charged twice", "refund my payment", "my invoice is wrong"],
    "bug": ["the app crashes", "settings page is broken", "error when I log in"],
    "feature": ["please add dark mode", "add an export button", "I want a new chart"],
    "account": ["reset my password", "delete my account", "change my email"],
}


def rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    items = [(label, text) for label, texts in LABELS.items() for text in texts]
    for k in range(n):
        label, text = items[k % len(items)] if k < len(items) else rng.choice(items)
        out.append(
            {
                "messages": [
                    {"role": "user", "content": f"Classify the support ticket: {text}"},
                    {"role": "assistant", "content": label},
                ]
            }
        )
    return out


def write_split(data_dir: Path, n_train: int = 48, n_valid: int = 12, seed: int = 0) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, n, s in (("train", n_train, seed), ("valid", n_valid, seed + 1)):
        with open(data_dir / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for r in rows(n, s):
                f.write(json.dumps(r) + "\n")
    return data_dir
