"""`distill-tui eval` and the feedback helpers the failure browser uses."""

from __future__ import annotations

import json

import pytest
from support.adapter_helpers import make_run, write_split

from distill_tui.cli import main
from distill_tui.core.curate import feedback
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import evals


def test_eval_json_has_rows_base_adapter_and_is_stored(workspace, tiny_model, capsys):
    make_run(workspace, tiny_model)
    write_split(workspace, "valid", [("a", "billing"), ("b", "bug"), ("c", "feature")])
    write_split(workspace, "test", [("d", "account")])
    d = str(workspace.root)
    assert main(["eval", d, "--run", "run-1", "--limit", "2", "--json", "--max-tokens", "4"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"] == 2 and data["split"] == "valid" and data["checkpoint"] == "best"
    assert set(data["base"]) == set(data["adapter"]) == {"exact_match", "token_f1"}
    assert "items" not in data
    assert evals.latest(workspace.store).rows == 2
    assert main(["eval", d, "--split", "test", "--no-base", "--max-tokens", "4"]) == 0
    out = capsys.readouterr().out
    assert "run-1:best on test: 1 rows" in out and "exact_match" in out
    assert main(["eval", d, "--limit", "0"]) == 2


def test_save_chat_row_and_send_failures_to_curator(workspace):
    store = workspace.store
    row_id = feedback.save_chat_row(store, "my prompt", "my reply")
    row = store.conn.execute("SELECT * FROM rows WHERE id = ?", (row_id,)).fetchone()
    assert (row["origin"], row["status"], row["output"], row["decision"]) == (
        "chat",
        "done",
        "my reply",
        None,
    )
    with pytest.raises(UserError, match=f"already row {row_id}"):
        feedback.save_chat_row(store, "my prompt", "other")
    with pytest.raises(UserError, match="nothing to save"):
        feedback.save_chat_row(store, "x", "  ")
    with store.tx() as c:
        c.execute("UPDATE rows SET decision = 'accepted' WHERE id = ?", (row_id,))
    assert feedback.row_ids_for_inputs(store, ["my prompt", "unknown"]) == {"my prompt": row_id}
    assert feedback.send_to_curator(store, [row_id]) == 1
    assert store.counts()["unreviewed"] == 1
