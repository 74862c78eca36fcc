"""Preference data from curation (issue 21): pairs from edits and
reject-regenerate-accept, KTO rows, the leak-free export, the store migration."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from support.curate_helpers import add_answered

from distill_tui.core import paths
from distill_tui.core.curate import curation as cur
from distill_tui.core.curate import preferences as pref
from distill_tui.core.dataset.export import export_dataset, normalize
from distill_tui.core.generate import queue
from distill_tui.core.store import MIGRATIONS, Store


def _regenerate(store, row_id: int, text: str) -> None:
    cur.regenerate(store, [row_id])
    assert [c.id for c in queue.claim(store, 100)] == [row_id]
    queue.complete(
        store, row_id, queue.GenerationRecord(text, "t", "h", queue.Usage(), 0.0, None, "end_turn")
    )


def _curated(workspace, n: int = 40):
    """n answered rows: every 4th edited, every 4th (+1) rejected, regenerated
    and accepted, every 4th (+2) rejected, the rest accepted."""
    store = workspace.store
    ids = add_answered(store, [(f"ticket number {i}", f"label {i % 3}") for i in range(n)])
    for i, row_id in enumerate(ids):
        if i % 4 == 0:
            cur.edit(store, row_id, output=f"fixed {i}")
            cur.accept(store, [row_id])
        elif i % 4 == 1:
            cur.reject(store, [row_id], "wrong")
            _regenerate(store, row_id, f"better {i}")
            cur.accept(store, [row_id])
        elif i % 4 == 2:
            cur.reject(store, [row_id], "wrong")
        else:
            cur.accept(store, [row_id])
    return ids


def test_edits_and_regenerations_become_pairs(workspace):
    ids = _curated(workspace, 8)
    found = {(p.row_id, p.source): p for p in pref.pairs(workspace.store)}
    assert set(found) == {(ids[0], "edit"), (ids[4], "edit"), (ids[1], "regen"), (ids[5], "regen")}
    assert (found[ids[0], "edit"].chosen, found[ids[0], "edit"].rejected) == ("fixed 0", "label 0")
    assert (found[ids[1], "regen"].chosen, found[ids[1], "regen"].rejected) == (
        "better 1",
        "label 1",
    )
    assert pref.counts(workspace.store) == {
        "edit": 2,
        "regen": 2,
        "student": 0,
        # 6 accepted answers; 2 rejected now + the rejected side of the 4 pairs
        "desirable": 6,
        "undesirable": 6,
    }


def test_the_same_pair_made_two_ways_is_one_pair(workspace):
    """Rejected, regenerated to the same text, then edited: the edit and the
    regeneration both say (edited chosen, first answer rejected); it was
    written to data/pref/train.jsonl twice."""
    store = workspace.store
    (row_id,) = add_answered(store, [("the ticket", "bug")])
    cur.reject(store, [row_id], "wrong")
    _regenerate(store, row_id, "bug")
    cur.edit(store, row_id, output="billing")
    cur.accept(store, [row_id])
    found = pref.pairs(store)
    assert [(p.chosen, p.rejected) for p in found] == [("billing", "bug")]


def test_the_students_wrong_answers_are_pairs_once(workspace):
    store = workspace.store
    a, b = add_answered(store, [("first ticket", "bug"), ("second ticket", "billing")])
    cur.accept(store, [a, b])
    assert pref.add_student_answers(store, "run1", [(a, "feature"), (b, "billing ")]) == 2
    assert pref.add_student_answers(store, "run2", [(a, "feature")]) == 0  # kept before
    found = pref.pairs(store)
    # b's answer differs only by a space: not a mistake worth a pair.
    assert [(p.row_id, p.chosen, p.rejected, p.source) for p in found] == [
        (a, "bug", "feature", "student")
    ]
    assert pref.sources_text(pref.counts(store)) == "1 from the student's mistakes"


def test_a_rejection_names_the_answer_it_was_about(workspace):
    (row_id,) = add_answered(workspace.store, [("q", "first")])
    cur.reject(workspace.store, [row_id])
    gen = workspace.store.conn.execute(
        "SELECT generation_id FROM events WHERE kind = 'decision'"
    ).fetchone()[0]
    assert gen == workspace.store.conn.execute("SELECT generation_id FROM rows").fetchone()[0]


def test_export_writes_pairs_and_kto_rows_leak_free(workspace):
    ws = workspace
    ws.settings.split.valid_fraction = 0.25
    ws.settings.task.instructions = "Label the ticket."
    _curated(ws, 80)
    sft = export_dataset(ws.root, ws.store, ws.settings)
    res = pref.export_preferences(ws.root, ws.store, ws.settings)
    d = paths.pref_dir(ws.root)

    def read(name):
        return [json.loads(x) for x in (d / name).read_text(encoding="utf-8").splitlines()]

    train, valid = read("train.jsonl"), read("valid.jsonl")
    assert res.counts["train"] == len(train) and res.counts["valid"] == len(valid)
    assert len(train) + len(valid) == 40 and train and valid
    rec = train[0]
    assert set(rec) == {"prompt", "system", "chosen", "rejected", "source", "row_id"}
    assert rec["system"] == "Label the ticket."
    kto = read("kto_train.jsonl") + read("kto_valid.jsonl")
    assert {type(r["label"]) for r in kto} == {bool}
    assert sum(r["label"] for r in kto) == 60 and sum(not r["label"] for r in kto) == 60
    # No input on both sides, and nothing in preference-train whose row is in SFT valid.
    inputs = {side: {normalize(r["prompt"]) for r in read(f"{side}.jsonl")} for side in ("train",)}
    held = {normalize(r["prompt"]) for r in valid + read("kto_valid.jsonl")}
    trained = {normalize(r["prompt"]) for r in train + read("kto_train.jsonl")}
    assert not held & trained and inputs["train"] <= trained
    sft_valid = set(sft.row_ids["valid"])
    assert not sft_valid & {r["row_id"] for r in train + read("kto_train.jsonl")}
    assert sft_valid & {r["row_id"] for r in valid}
    # The same seed gives the same files.
    before = (d / "train.jsonl").read_bytes()
    pref.export_preferences(ws.root, ws.store, ws.settings)
    assert (d / "train.jsonl").read_bytes() == before


def test_migration_keeps_old_history_and_reads_old_rejections(tmp_path):
    path = tmp_path / "distill.db"
    old = sqlite3.connect(path)
    for script in MIGRATIONS[:4]:
        old.executescript(script)
    old.execute("PRAGMA user_version = 4")
    old.executescript(
        """
        INSERT INTO rows (id, input, input_sha, status, output, generation_id, decision,
            created_at, updated_at) VALUES (1, 'q', 'h', 'done', 'good', 2, 'accepted', 0, 0);
        INSERT INTO generations (id, row_id, output, teacher, prompt_hash, created_at)
            VALUES (1, 1, 'bad', 't', 'p', 10), (2, 1, 'good', 't', 'p', 30);
        INSERT INTO events (row_id, kind, before, after, at) VALUES
            (1, 'decision', '{}', '{"decision": "rejected", "reason": "wrong"}', 20),
            (1, 'regenerate', '{}', '{"status": "pending"}', 21),
            (1, 'decision', '{}', '{"decision": "accepted", "reason": null}', 40);
        """
    )
    old.commit()
    old.close()
    store = Store(path)
    assert store.version == len(MIGRATIONS)
    assert [e["kind"] for e in cur.history(store, 1)] == ["decision", "regenerate", "decision"]
    # The rejection from before the column names no generation: the one the
    # row held at the time is found.
    assert [(p.chosen, p.rejected, p.source) for p in pref.pairs(store)] == [
        ("good", "bad", "regen")
    ]


def test_cli_export_preferences_and_one_line_errors(workspace):
    _curated(workspace, 40)
    workspace.save_settings()
    cmd = [str(Path(sys.executable).parent / "distill-tui"), "export", str(workspace.root)]
    out = subprocess.run([*cmd, "--preferences"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "pairs train" in out.stdout and "10 from edits, 10 from regenerations" in out.stdout
    assert (paths.pref_dir(workspace.root) / "kto_valid.jsonl").is_file()
    bad = subprocess.run(
        [*cmd, "--preferences", "--rows", str(workspace.root / "x.jsonl")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().count("\n") == 0 and "--preferences" in bad.stderr
