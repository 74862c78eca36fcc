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

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill_tui.core import paths
from distill_tui.core.dataset import jsonl
from distill_tui.core.dataset.export import MANIFEST, SPLITS, accepted_samples, record_input
from distill_tui.core.errors import UserError
from distill_tui.core.store import Store
from distill_tui.core.train.objectives import reads_sft_split


@dataclass(frozen=True)
class StaleExport:
    missing: int  # accepted rows (new or edited) that no split file holds
    gone: int  # rows in the split files the store no longer accepts as they are
    pairs: bool = False  # counts preference pairs in data/pref/, not rows in data/

    def message(self, how: str) -> str:
        """`how` says how to export: "x on the Curate screen exports" or a command."""
        parts = []
        where = "data/pref/" if self.pairs else "data/"
        one, many = ("pair", "pairs") if self.pairs else ("row", "rows")
        if self.missing:
            rows = f"{one} is" if self.missing == 1 else f"{many} are"
            what = "curated" if self.pairs else "accepted or edited"
            parts.append(f"{self.missing} {what} {rows} not in {where}")
        if self.gone:
            rows = one if self.gone == 1 else many
            kept = "kept" if self.pairs else "accepted"
            parts.append(f"{self.gone} {rows} in {where} no longer {kept} as exported")
        return f"{' and '.join(parts)} ({how})"


def _output(rec: dict[str, Any]) -> str:
    if "messages" in rec:
        last = rec["messages"][-1]
        if last["role"] != "assistant":
            raise KeyError("role")
        return str(last["content"])
    return str(rec["completion"])


def _counted(
    files: list[Path], key: Callable[[dict[str, Any]], tuple[str, ...]]
) -> Counter[tuple[str, ...]]:
    """How many records of `files` have each `key`; unreadable ones are
    skipped (verify_split and the preflight say what is wrong with them)."""
    found: Counter[tuple[str, ...]] = Counter()
    for path in files:
        if not path.is_file():
            continue
        for _, line in jsonl.split(jsonl.read(path)):
            if not line.strip():
                continue
            try:
                found[key(jsonl.loads(line))] += 1
            except (ValueError, KeyError, TypeError, IndexError, AttributeError):
                continue
    return found


def _exported_pairs(data_dir: Path) -> Counter[tuple[str, ...]]:
    files = [data_dir / f"{name}.jsonl" for name in SPLITS]
    return _counted(files, lambda rec: (record_input(rec), _output(rec)))


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
    accepted: Counter[tuple[str, ...]] = Counter(
        (s.input, s.output) for s in accepted_samples(store)
    )
    missing = sum((accepted - exported).values())
    gone = sum((exported - accepted).values())
    return StaleExport(missing, gone) if missing or gone else None


def compare_preferences(root: Path, store: Store) -> StaleExport | None:
    """The differences between data/pref/ and the pairs the store holds now
    (an edit, a regeneration or `pairs` since the last export); None when
    there are none or when there is no preference export to compare."""
    from distill_tui.core.curate.preferences import MANIFEST as PREF_MANIFEST
    from distill_tui.core.curate.preferences import pairs

    pref = paths.pref_dir(root)
    try:
        manifest = json.loads((pref / PREF_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or "files" not in manifest:
        return None  # not the app's export (it names its files' hashes): taken as it is
    exported = _counted(
        [pref / "train.jsonl", pref / "valid.jsonl"],
        lambda rec: (str(rec["prompt"]), str(rec["chosen"]), str(rec["rejected"])),
    )
    held: Counter[tuple[str, ...]] = Counter((p.input, p.chosen, p.rejected) for p in pairs(store))
    missing = sum((held - exported).values())
    gone = sum((exported - held).values())
    return StaleExport(missing, gone, pairs=True) if missing or gone else None


def compare_for(root: Path, store: Store, objective: str) -> StaleExport | None:
    """What a run of `objective` would train on that the store no longer
    says: data/ for SFT, data/pref/ for DPO and KTO (KTO's rows are the
    accepted and rejected answers, so the accepted rows of data/ count too).
    The one check the Train screen's ctrl+r and `distill-tui train` make."""
    if reads_sft_split(objective):  # on-policy reads data/'s inputs
        return compare(root, store)
    return compare_preferences(root, store) or (
        compare(root, store) if objective == "kto" else None
    )
