"""Curation in the store: decisions, edits with history, undo, regenerate,
filters, paging and next-unreviewed."""

from __future__ import annotations

import pytest
from support.curate_helpers import add_answered

from distill_tui.core.curate import curation as cur
from distill_tui.core.curate import query as q
from distill_tui.core.errors import UserError
from distill_tui.core.generate import queue


@pytest.fixture
def store(workspace):
    add_answered(
        workspace.store,
        [(f"ticket {i}", f"answer {i}" + "!" * i) for i in range(1, 11)],
    )
    return workspace.store


def test_accept_reject_with_reason_and_counts(store):
    assert cur.accept(store, [1, 2, 3]) == 3
    assert cur.reject(store, [4], "wrong") == 1
    counts = store.counts()
    assert (counts["accepted"], counts["rejected"], counts["unreviewed"]) == (3, 1, 6)
    row = q.get(store, 4)
    assert (row.decision, row.reason) == ("rejected", "wrong")
    # Accepting a rejected row drops its reason.
    cur.accept(store, [4])
    assert q.get(store, 4).reason is None


def test_single_row_mistakes_are_user_errors(store):
    with pytest.raises(UserError, match="no row with id 99"):
        cur.accept(store, [99])
    store.add_inputs([("not answered yet", None)])
    pending = store.conn.execute("SELECT id FROM rows WHERE status='pending'").fetchone()[0]
    with pytest.raises(UserError, match="no output"):
        cur.accept(store, [pending])
    assert cur.missing_ids(store, [1, 99, 2, 100]) == [99, 100]


def test_undo_reverts_the_last_action_then_the_one_before(store):
    cur.accept(store, [1])
    cur.reject(store, [1], "format")
    assert cur.last_action(store) == ("decision", 1)
    res = cur.undo(store)
    assert res.row_ids == [1]
    assert q.get(store, 1).decision == "accepted"
    cur.undo(store)
    assert q.get(store, 1).decision is None
    assert cur.undo(store) is None


def test_bulk_accept_of_a_filtered_set_undoes_as_one(store):
    flt = q.Filter(text="answer 1")  # answer 1 and answer 10
    ids = q.ids(store, flt)
    assert ids == [1, 10]
    cur.accept(store, [5])
    assert cur.accept(store, ids) == 2
    assert cur.last_action(store) == ("decision", 2)
    assert sorted(cur.undo(store).row_ids) == [1, 10]
    assert store.counts()["accepted"] == 1  # row 5's accept is still there


def test_bulk_changes_unreviewed_rows_unless_the_view_shows_decided_ones(store):
    cur.accept(store, [1])
    cur.reject(store, [2], "wrong")
    store.add_inputs([("not answered yet", None)])
    everything = q.Filter()
    assert q.split(store, everything) == {
        "accepted": 1,
        "rejected": 1,
        "unreviewed": 8,
        "no output": 1,
    }
    assert q.bulk_ids(store, everything) == list(range(3, 11))  # 1 and 2 keep theirs
    rejected = q.Filter(decision="rejected")
    assert q.bulk_scope(rejected) == "rejected"
    assert q.bulk_ids(store, rejected) == [2]  # asked for on purpose


def test_edit_keeps_teacher_original_and_diff_and_undoes(store):
    assert cur.edit(store, 2, output="a better answer\nsecond line")
    row = q.get(store, 2)
    assert row.output == "a better answer\nsecond line" and row.edited
    assert cur.original_output(store, 2) == "answer 2!!"
    diff = cur.diff_lines("answer 2!!", row.output)
    assert "-answer 2!!" in diff and "+a better answer" in diff
    assert [h["kind"] for h in cur.history(store, 2)] == ["edit"]
    cur.undo(store)
    row = q.get(store, 2)
    assert row.output == "answer 2!!" and not row.edited
    assert cur.original_output(store, 2) == "answer 2!!"


def test_edit_input_refuses_a_duplicate_input(store):
    with pytest.raises(UserError, match="row 1 already has this input"):
        cur.edit(store, 2, input="ticket 1")
    cur.edit(store, 2, input="ticket two")
    assert q.get(store, 2).input == "ticket two"
    cur.undo(store)
    assert q.get(store, 2).input == "ticket 2"
    store.add_inputs([("ticket two", None)])  # the sha was restored with the text


def test_edit_writes_only_the_fields_that_changed(store):
    """Issue 17 item 2: an input passed back unchanged (as the edit dialog does)
    is neither rewritten nor named in the history; undo restores only what the
    edit changed, and an input-only edit does not hide the teacher's original."""
    weird = "line one\r\nline two\nline three\u2028four"
    cur.edit(store, 3, input=weird)
    cur.edit(store, 3, output="a better answer", input=weird)  # input as it was
    stored = store.conn.execute("SELECT input FROM rows WHERE id = 3").fetchone()[0]
    assert stored.encode() == weird.encode()
    last = cur.history(store, 3)[-1]
    assert (last["kind"], sorted(last["before"]), sorted(last["after"])) == (
        "edit",
        ["edited", "output", "status"],
        ["edited", "group", "output", "status"],
    )
    assert cur.original_output(store, 3) == "answer 3!!!"
    assert not cur.edit(store, 3, output="a better answer", input=weird)  # nothing changed
    cur.edit(store, 4, input="ticket four")  # input only: the output is left alone
    assert sorted(cur.history(store, 4)[-1]["after"]) == ["edited", "group", "input", "status"]
    assert cur.original_output(store, 4) == "answer 4!!!!"
    cur.undo(store)
    assert q.get(store, 4).input == "ticket 4" and q.get(store, 4).output == "answer 4!!!!"
    cur.undo(store)  # the output edit of row 3: its input stays as typed
    row = q.get(store, 3)
    assert (row.input, row.output) == (weird, "answer 3!!!")


def test_regenerate_sends_back_to_queue_and_keeps_history(store):
    cur.accept(store, [3])
    assert cur.regenerate(store, [3]) == 1
    assert q.get(store, 3).status == "pending"
    assert [c.id for c in queue.claim(store, 10)] == [3]
    queue.complete(
        store,
        3,
        queue.GenerationRecord("new answer", "t", "h", queue.Usage(), 0.0, None, "end_turn"),
    )
    outputs = [r[0] for r in store.conn.execute("SELECT output FROM generations WHERE row_id = 3")]
    assert outputs == ["answer 3!!!", "new answer"]
    # The queue answered again since: undo leaves the new answer alone.
    res = cur.undo(store)
    assert res.kind == "regenerate" and res.skipped == 1
    assert q.get(store, 3).status == "done"


def test_filters_sort_and_paging(store):
    cur.reject(store, [2, 3], "wrong")
    cur.reject(store, [4], "format")
    assert q.count(store, q.Filter(decision="rejected")) == 3
    assert q.ids(store, q.Filter(reason="wrong")) == [2, 3]
    assert q.count(store, q.Filter(decision="unreviewed")) == 7
    assert q.ids(store, q.Filter(min_chars=15, max_chars=16)) == [7, 8]  # "answer 7!!!!!!!"
    by_len = q.Filter(sort="length", descending=True)
    assert q.ids(store, by_len)[:3] == [10, 9, 8]
    assert [r.id for r in q.page(store, by_len, 3, 2)] == [7, 6]
    assert q.position(store, by_len, 7) == 3
    assert q.position(store, q.Filter(decision="rejected"), 5) is None
    # LIKE wildcards in the search text are literal.
    assert q.count(store, q.Filter(text="%")) == 0


def test_next_unreviewed_follows_the_order_and_wraps(store):
    cur.accept(store, [2, 3])
    flt = q.Filter()
    assert q.next_unreviewed(store, flt, 1) == 4
    assert q.next_unreviewed(store, flt, 10) == 1
    desc = q.Filter(sort="length", descending=True)
    assert q.next_unreviewed(store, desc, 4) == 1
    cur.accept(store, list(range(1, 11)))
    assert q.next_unreviewed(store, flt, 1) is None


def test_reasons_can_be_extended(store):
    assert "wrong" in cur.reasons(store)
    cur.add_reason(store, "  rude   tone ")
    assert cur.reasons(store)[-1] == "rude tone"
    with pytest.raises(UserError):
        cur.add_reason(store, "   ")
