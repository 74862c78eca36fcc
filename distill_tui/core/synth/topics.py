"""The topic tree synthesis writes inputs for (issue 22): root topics the
teacher proposes and the user edits, optionally a second level, stored in the
`topics` table with parent ids. Leaves (topics without children) are what the
teacher writes inputs for; each keeps what it was asked, what the teacher
wrote and what the filter dropped by reason, and a row written for a leaf
points at it (`rows.topic_id`), so coverage is read straight from the store.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from distill_tui.core.config import Project
from distill_tui.core.errors import UserError
from distill_tui.core.store import Store, sha

MAX_NAME = 80
SEP = " / "


@dataclass
class Topic:
    id: int
    parent_id: int | None
    name: str
    requested: int = 0  # inputs asked of the teacher for this leaf
    written: int = 0  # candidates the teacher wrote
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> count
    exhausted: bool = False  # stopped early: mostly duplicates
    kept: int = 0  # rows in the store that point at it
    path: str = ""
    children: int = 0

    @property
    def is_leaf(self) -> bool:
        return self.children == 0

    @property
    def duplicates(self) -> int:
        return self.dropped.get("duplicate", 0) + self.dropped.get("near-duplicate", 0)

    @property
    def duplicate_rate(self) -> float | None:
        return self.duplicates / self.written if self.written else None


def readiness(settings: Project, min_examples: int = 5) -> str | None:
    """Why synthesis cannot start yet (no instructions, too few examples to
    show the teacher the inputs' style), or None when it can."""
    task = settings.task
    if not task.instructions.strip():
        return "write the task's instructions first"
    if len(task.examples) < min_examples:
        return f"add at least {min_examples} examples first (the task has {len(task.examples)})"
    return None


def clean_name(name: str) -> str:
    """One line, at most MAX_NAME characters; an empty name is refused."""
    flat = " ".join(name.split()).replace(SEP.strip(), "-")
    if not flat:
        raise UserError("a topic needs a name")
    return flat[:MAX_NAME]


def add(store: Store, name: str, parent_id: int | None = None) -> int:
    name = clean_name(name)
    with store.tx() as c:
        if parent_id is not None:
            row = c.execute("SELECT parent_id FROM topics WHERE id = ?", (parent_id,)).fetchone()
            if row is None:
                raise UserError(f"no topic {parent_id}")
            if row[0] is not None:
                raise UserError("topics go two levels deep: add this one under a root topic")
        cur = c.execute(
            "INSERT INTO topics (parent_id, name, created_at) VALUES (?, ?, ?)",
            (parent_id, name, time.time()),
        )
        return int(cur.lastrowid or 0)


def rename(store: Store, topic_id: int, name: str) -> None:
    name = clean_name(name)
    with store.tx() as c:
        # A renamed leaf is a new question: it may be asked again.
        c.execute("UPDATE topics SET name = ?, exhausted = 0 WHERE id = ?", (name, topic_id))


def delete(store: Store, topic_id: int) -> int:
    """Delete a topic and its subtopics; rows written for them stay (their
    topic is forgotten, their `source` still names it). Returns how many."""
    with store.tx() as c:
        ids = [topic_id] + [
            r[0] for r in c.execute("SELECT id FROM topics WHERE parent_id = ?", (topic_id,))
        ]
        marks = ",".join("?" * len(ids))
        c.execute(f"UPDATE rows SET topic_id = NULL WHERE topic_id IN ({marks})", ids)
        c.execute(f"DELETE FROM topics WHERE id IN ({marks})", ids)
        return len(ids)


def tree(store: Store) -> list[Topic]:
    """Every topic, each root followed by its children, in creation order."""
    c = store.conn
    kept = dict(
        c.execute("SELECT topic_id, COUNT(*) FROM rows WHERE topic_id IS NOT NULL GROUP BY 1")
    )
    rows = c.execute(
        "SELECT id, parent_id, name, requested, written, dropped, exhausted FROM topics ORDER BY id"
    ).fetchall()
    topics = {
        r[0]: Topic(r[0], r[1], r[2], r[3], r[4], _counts(r[5]), bool(r[6]), kept.get(r[0], 0))
        for r in rows
    }
    out: list[Topic] = []
    for t in topics.values():
        if t.parent_id is None or t.parent_id not in topics:
            t.path = t.name
            out.append(t)
            for child in topics.values():
                if child.parent_id == t.id:
                    child.path = t.name + SEP + child.name
                    t.children += 1
                    out.append(child)
    return out


def find(store: Store, name: str) -> Topic:
    """A topic by its path ("root / sub") or by its name where one topic has
    it, ignoring case; a name several topics share is refused with their paths."""
    want = " ".join(name.split()).casefold()
    every = tree(store)
    for t in every:
        if t.path.casefold() == want:
            return t
    named = [t for t in every if t.name.casefold() == want]
    if len(named) == 1:
        return named[0]
    if named:
        paths = "; ".join(repr(t.path) for t in named)
        raise UserError(f"{len(named)} topics are named {name!r}: give the path ({paths})")
    raise UserError(f"no topic {name!r} (`distill-tui synth DIR --topics-only` lists them)")


def leaves(store: Store) -> list[Topic]:
    return [t for t in tree(store) if t.is_leaf]


def _counts(raw: str) -> dict[str, int]:
    # Here, not at the top: the Task screen reads `readiness` before its first
    # paint, and candidates brings the dedup and metrics modules with it.
    from distill_tui.core.synth.candidates import REASONS

    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return {r: int(data.get(r, 0)) for r in REASONS} if isinstance(data, dict) else {}


def record(
    store: Store, topic_id: int, requested: int, written: int, dropped: dict[str, int]
) -> None:
    """Add one request's figures to a leaf's totals."""
    with store.tx() as c:
        row = c.execute("SELECT dropped FROM topics WHERE id = ?", (topic_id,)).fetchone()
        if row is None:
            return  # deleted while the teacher wrote
        total = _counts(row[0])
        for reason, n in dropped.items():
            total[reason] = total.get(reason, 0) + n
        c.execute(
            "UPDATE topics SET requested = requested + ?, written = written + ?, dropped = ?"
            " WHERE id = ?",
            (requested, written, json.dumps(total), topic_id),
        )


def set_exhausted(store: Store, topic_id: int, exhausted: bool = True) -> None:
    with store.tx() as c:
        c.execute("UPDATE topics SET exhausted = ? WHERE id = ?", (int(exhausted), topic_id))


def leaf_inputs(store: Store, topic_id: int, limit: int = 50) -> list[str]:
    """Inputs the leaf already has, newest first (shown as "do not repeat")."""
    return [
        r[0]
        for r in store.conn.execute(
            "SELECT input FROM rows WHERE topic_id = ? ORDER BY id DESC LIMIT ?",
            (topic_id, limit),
        )
    ]


def add_rows(store: Store, topic: Topic, texts: list[str], origin: str) -> int:
    """Add kept inputs as pending rows of `topic`; returns how many were new."""
    now = time.time()
    added = 0
    with store.tx() as c:
        for text in texts:
            cur = c.execute(
                "INSERT OR IGNORE INTO rows (input, input_sha, source, origin, topic_id,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (text, sha(text), f"synth: {topic.path}", origin, topic.id, now, now),
            )
            added += cur.rowcount
    return added


def describe_coverage(topics: list[Topic], per_leaf: int | None = None) -> list[str]:
    """One line per leaf: kept / wanted, what was dropped, the duplicate rate."""
    lines = []
    for t in topics:
        if not t.is_leaf:
            continue
        want = f"/{per_leaf}" if per_leaf else ""
        rate = t.duplicate_rate
        if rate is not None:
            dup = f"{rate:.0%} duplicates"
        elif t.requested:
            dup = f"asked {t.requested}, the replies held no list"
        else:
            dup = "not asked yet"
        drops = ", ".join(f"{n} {r}" for r, n in t.dropped.items() if n)
        lines.append(
            f"{t.path}: kept {t.kept}{want}, wrote {t.written}, {dup}"
            + (f" (dropped {drops})" if drops else "")
            + (" - stopped early: mostly duplicates" if t.exhausted else "")
        )
    return lines
