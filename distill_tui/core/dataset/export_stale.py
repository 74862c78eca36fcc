"""Is `data/` still what an export of the store would write?

After the last export, rows may have been accepted (a chat reply saved as a
row, an eval failure curated again) or their outputs edited, or accepted rows
rejected. Training then silently uses the old split. `compare` counts the
differences by (input, output) pair so the preflight and the start of a run
(Train screen and `distill-tui train`) can say "6 accepted or edited rows are
not in data/" and offer to export first. Only a split the app exported (one
with `split.json`) is compared: a hand-written one is taken as it is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill_tui.core import paths
from distill_tui.core.dataset import jsonl
from distill_tui.core.dataset.export import MANIFEST, SPLITS, accepted_samples, record_input
from distill_tui.core.errors import UserError
from distill_tui.core.store import Store


@dataclass(frozen=True)
class StaleExport:
    missing: int  # accepted rows (new or edited) that no split file holds
    gone: int  # rows in the split files the store no longer accepts as they are

    def message(self, how: str) -> str:
        """`how` says how to export: "x on the Curate screen exports" or a command."""
        parts = []
        if self.missing:
            rows = "row is" if self.missing == 1 else "rows are"
            parts.append(f"{self.missing} accepted or edited {rows} not in data/")
        if self.gone:
            rows = "row" if self.gone == 1 else "rows"
            parts.append(f"{self.gone} {rows} in data/ no longer accepted as exported")
        return f"{' and '.join(parts)} ({how})"


def _output(rec: dict[str, Any]) -> str:
    if "messages" in rec:
        last = rec["messages"][-1]
        if last["role"] != "assistant":
            raise KeyError("role")
        return str(last["content"])
    return str(rec["completion"])


def _exported_pairs(data_dir: Path) -> Counter[tuple[str, str]]:
    pairs: Counter[tuple[str, str]] = Counter()
    for name in SPLITS:
        path = data_dir / f"{name}.jsonl"
        if not path.is_file():
            continue
        for _, line in jsonl.split(jsonl.read(path)):
            if not line.strip():
                continue
            try:
                rec = jsonl.loads(line)
                pairs[(record_input(rec), _output(rec))] += 1
            except (ValueError, KeyError, TypeError, IndexError, AttributeError):
                continue
    return pairs


def compare(root: Path, store: Store) -> StaleExport | None:
    """The differences between data/ and the store's accepted rows; None
    when there are none, or when data/ is not an export of this app."""
    data_dir = paths.data_dir(root)
    if not (data_dir / MANIFEST).is_file():
        return None
    try:
        exported = _exported_pairs(data_dir)
    except UserError:
        return None  # unreadable: verify_split and the preflight say what is wrong
    accepted = Counter((s.input, s.output) for s in accepted_samples(store))
    missing = sum((accepted - exported).values())
    gone = sum((exported - accepted).values())
    return StaleExport(missing, gone) if missing or gone else None
