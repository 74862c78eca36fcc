"""The Train screen when data/ is older than the accepted rows (issue 20,
item 1), in a real 80x24 terminal: the preflight warns, and ctrl+r asks
whether to export first, train on the old export, or not train."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.store_reads import runs as _runs

from distill_tui.core import paths
from distill_tui.core.curate import curation
from distill_tui.core.curate import query as cq
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.project import Workspace

EDITED = "hand-fixed label"


@pytest.fixture
def stale(demo_project: Path) -> Path:
    """The demo exported, then one accepted row's output edited."""
    ws = Workspace.open(demo_project)
    ids = cq.ids(ws.store, cq.Filter(decision="unreviewed"))
    curation.accept(ws.store, ids)
    export_dataset(ws.root, ws.store, ws.settings)
    curation.edit(ws.store, ids[0], output=EDITED)
    ws.store.close()
    return demo_project


def _exported(root: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in paths.data_dir(root).glob("*.jsonl"))


def _stop(t, root: Path, n: int) -> None:  # noqa: ANN001
    t.wait_until(lambda: len(_runs(root)) == n, f"run {n}", 60)
    t.wait_for("iter ", timeout=60)
    t.press("ctrl+x")
    t.wait_until(lambda: _runs(root)[0].status in ("stopped", "finished"), "stopped", 120)


def test_preflight_warns_and_ctrl_r_asks_export_first_old_or_cancel(terminal, stale):
    t = terminal(str(stale))
    t.wait_for("support-tickets", timeout=60)
    t.press("4")
    t.wait_for("edited row is not in data/", timeout=60)
    assert not t.has("No problems found")
    t.press("ctrl+r", binding="train-start")
    t.wait_for("train on the old export")
    t.press("escape", binding="confirm-cancel")
    t.wait_for("Not started: the export is older")
    assert _runs(stale) == []
    # o: trains on data/ as it is.
    t.press("ctrl+r")
    t.wait_for("train on the old export")
    t.press("o")
    _stop(t, stale, 1)
    assert EDITED not in _exported(stale)
    # e: exports the accepted rows first, then trains on them.
    t.press("ctrl+r")
    t.wait_for("export first, then train")
    t.press("e")
    _stop(t, stale, 2)
    assert EDITED in _exported(stale)
    t.assert_no_traceback()
    assert t.quit() == 0
