"""The SQLite store `distill.db`: the single source of truth of a project.

Screens read it, workers and headless commands write it, and WAL mode lets a
second process read while one writes. Feature modules (queue, curation, runs)
keep their own queries beside their logic and use `Store.tx()` to write.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from distill_tui.core import disk
from distill_tui.core.errors import UserError

# Each entry upgrades the schema by one version (PRAGMA user_version).
# Append only: never edit a migration that has shipped.
MIGRATIONS: list[str] = [
    # 1: the whole data model.
    """
    CREATE TABLE rows (
        id INTEGER PRIMARY KEY,
        input TEXT NOT NULL,
        input_sha TEXT NOT NULL UNIQUE,
        source TEXT,
        origin TEXT NOT NULL DEFAULT 'import',
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'running', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        output TEXT,
        generation_id INTEGER,
        edited INTEGER NOT NULL DEFAULT 0,
        decision TEXT CHECK (decision IN ('accepted', 'rejected')),
        reason TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX rows_status ON rows (status);
    CREATE INDEX rows_decision ON rows (decision);

    -- Every teacher answer ever received, so regenerating keeps the history
    -- and the cost of every paid call is counted.
    CREATE TABLE generations (
        id INTEGER PRIMARY KEY,
        row_id INTEGER NOT NULL REFERENCES rows (id),
        output TEXT NOT NULL,
        teacher TEXT NOT NULL,
        prompt_hash TEXT NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        latency_s REAL,
        stop_reason TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX generations_row ON generations (row_id);

    -- Curation history: decisions and edits, newest last, for undo and diffs.
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        row_id INTEGER NOT NULL REFERENCES rows (id),
        kind TEXT NOT NULL,
        before TEXT,
        after TEXT,
        at REAL NOT NULL
    );
    CREATE INDEX events_row ON events (row_id);

    -- Message Batches submitted to a provider, resumable by id after a restart.
    CREATE TABLE batches (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        status TEXT NOT NULL,
        row_ids TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );

    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        config TEXT NOT NULL,
        dataset_hash TEXT,
        iters_total INTEGER,
        iter INTEGER NOT NULL DEFAULT 0,
        best_iter INTEGER,
        best_val_loss REAL,
        error TEXT,
        pid INTEGER,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );

    CREATE TABLE metrics (
        run_id TEXT NOT NULL REFERENCES runs (id),
        kind TEXT NOT NULL CHECK (kind IN ('train', 'val')),
        iter INTEGER NOT NULL,
        loss REAL,
        learning_rate REAL,
        it_per_sec REAL,
        tokens_per_sec REAL,
        trained_tokens INTEGER,
        peak_memory_gb REAL,
        at REAL NOT NULL,
        PRIMARY KEY (run_id, kind, iter)
    );

    CREATE TABLE evals (
        id INTEGER PRIMARY KEY,
        run_id TEXT,
        split TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at REAL NOT NULL
    );

    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    """,
    # curation (issue 4): results of core/curate/checks.py per row, so the Curate
    # screen can show and filter flags without re-tokenizing 100,000 rows.
    # `fingerprint` says which input/output/settings they were computed for.
    """
    CREATE TABLE checks (
        row_id INTEGER PRIMARY KEY REFERENCES rows (id) ON DELETE CASCADE,
        fingerprint TEXT NOT NULL,
        tokens INTEGER,
        flags TEXT NOT NULL DEFAULT '',
        detail TEXT
    );
    """,
    # prices (issue 13): a generation whose model has no known price stores a
    # NULL cost, not 0, so it is shown as unknown instead of free. SQLite
    # cannot drop a NOT NULL, so the column is replaced (DROP COLUMN: 3.35+).
    """
    ALTER TABLE generations RENAME COLUMN cost_usd TO cost_usd_v2;
    ALTER TABLE generations ADD COLUMN cost_usd REAL;
    UPDATE generations SET cost_usd = cost_usd_v2;
    ALTER TABLE generations DROP COLUMN cost_usd_v2;
    """,
    # synthesis (issue 22): the topic tree the teacher writes inputs for
    # (core/synth/topics.py), with what each leaf was asked, got and dropped; a row
    # written for a leaf points at it.
    """
    CREATE TABLE topics (
        id INTEGER PRIMARY KEY,
        parent_id INTEGER REFERENCES topics (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        requested INTEGER NOT NULL DEFAULT 0,
        written INTEGER NOT NULL DEFAULT 0,
        dropped TEXT NOT NULL DEFAULT '{}',
        exhausted INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE INDEX topics_parent ON topics (parent_id);
    ALTER TABLE rows ADD COLUMN topic_id INTEGER REFERENCES topics (id) ON DELETE SET NULL;
    """,
    # preferences (issue 21): the generation a curation decision was about, so a
    # rejected answer that was regenerated and then accepted becomes a pair
    # (core/curate/preferences.py); NULL on events written before this. And the
    # preference metrics of a DPO/KTO run on its validation pairs, per evaluation.
    """
    ALTER TABLE events ADD COLUMN generation_id INTEGER;
    CREATE TABLE pref_metrics (
        run_id TEXT NOT NULL REFERENCES runs (id),
        iter INTEGER NOT NULL,
        pair_accuracy REAL,
        reward_margin REAL,
        chosen_logp REAL,
        rejected_logp REAL,
        at REAL NOT NULL,
        PRIMARY KEY (run_id, iter)
    );
    """,
    # safe preference training (issue 30): what a preference run's evaluation
    # measures besides the pairs (the task score on held-out rows, the share of
    # answers that no longer end, the chosen answers' drift per token from the
    # SFT start, how many pairs), and the student's own wrong answers kept as
    # the rejected side of a pair (core/curate/preferences.py, source
    # "student"), one per row and answer.
    """
    ALTER TABLE pref_metrics ADD COLUMN pairs INTEGER;
    ALTER TABLE pref_metrics ADD COLUMN task_score REAL;
    ALTER TABLE pref_metrics ADD COLUMN run_on REAL;
    ALTER TABLE pref_metrics ADD COLUMN chosen_drift REAL;
    CREATE TABLE student_answers (
        id INTEGER PRIMARY KEY,
        row_id INTEGER NOT NULL REFERENCES rows (id) ON DELETE CASCADE,
        run_id TEXT NOT NULL,
        answer TEXT NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (row_id, answer)
    );
    """,
    # the teacher's minimal revision of a wrong free-text answer, the chosen
    # side of that pair where there is one (CLAIR); NULL: the accepted answer.
    """
    ALTER TABLE student_answers ADD COLUMN revision TEXT;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)

STATUS_KEYS = ("pending", "running", "done", "failed")

# How long a write waits for another process's write lock before giving up.
BUSY_TIMEOUT_S = 30.0


class StoreError(UserError):
    """The store cannot be opened or is newer than this program."""


class StoreDamaged(StoreError):
    """The file fails SQLite's integrity check: nothing is written to it."""


class StoreBusy(StoreError):
    """Another process held the write lock for longer than the busy timeout."""


def recovery_hint(path: Path) -> str:
    return (
        f"nothing was written to it. Keep a copy of {path.name}, then recover from your last"
        " `distill-tui export DIR --rows FILE` (or try one now) into a new project with"
        " `distill-tui init NEW` and `distill-tui import-rows NEW FILE`"
    )


def _is_busy(e: sqlite3.Error) -> bool:
    return isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e))


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AddResult:
    added: int
    duplicates: int


class Store:
    """One project's database. Safe to share between threads: each thread gets
    its own connection.

    Opening checks the file (`PRAGMA quick_check`): a damaged store raises
    `StoreDamaged`, or with `allow_damaged` opens for reading only (to salvage
    rows with `export --rows`); every write then raises. A 0-byte file or an
    SQLite file of another program is refused rather than silently adopted.
    """

    def __init__(
        self, path: Path, *, busy_timeout_s: float | None = None, allow_damaged: bool = False
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_s = BUSY_TIMEOUT_S if busy_timeout_s is None else busy_timeout_s
        self.damaged: str | None = None
        self._local = threading.local()
        if self.path.is_file() and self.path.stat().st_size == 0:
            raise StoreError(
                f"{self.path}: the store is an empty (0-byte) file, so this project's rows"
                " are gone; restore it from a backup, or delete it to start with an empty store"
            )
        # SQLite makes these on opening; a failed open (a full disk) leaves
        # them behind cut short, so ones that were not there are removed.
        sidecars = [self.path.with_name(self.path.name + s) for s in ("-wal", "-shm")]
        had = [p.exists() for p in sidecars]
        try:
            self._check(allow_damaged)
        except StoreError:
            self.close()
            for p, existed in zip(sidecars, had, strict=True):
                with contextlib.suppress(OSError):
                    if not existed and (p.name.endswith("-shm") or p.stat().st_size == 0):
                        p.unlink()
            raise
        if self.damaged is None:
            self._migrate()

    # -- connections -------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable against process death in WAL mode; only an OS
            # crash can lose the last transactions.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken up front so concurrent writers queue
        instead of failing half-way. Raises StoreDamaged on a damaged store and
        StoreBusy when another process holds the write lock past the timeout."""
        if self.damaged is not None:
            raise StoreDamaged(
                f"{self.path}: the store is damaged ({self.damaged}); " + recovery_hint(self.path)
            )
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            if _is_busy(e):
                raise self._busy() from None
            raise
        try:
            yield conn
        except BaseException as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(e, sqlite3.OperationalError) and _is_busy(e):
                raise self._busy() from None
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.OperationalError as e:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if _is_busy(e):
                    raise self._busy() from None
                raise

    def _busy(self) -> StoreBusy:
        return StoreBusy(
            f"{self.path}: another process held the database's write lock for more than"
            f" {self.busy_timeout_s:g} s; nothing was written"
        )

    def _check(self, allow_damaged: bool) -> None:
        """Refuse a file that is not ours, and find damage before any write."""
        try:
            conn = self.conn
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as e:
            if _is_busy(e):
                raise self._busy() from None
            raise self._cannot_open(e) from None
        try:
            found = [r[0] for r in conn.execute("PRAGMA quick_check(3)")]
        except sqlite3.DatabaseError as e:
            if _is_busy(e):
                raise self._busy() from None
            if disk.explain_sqlite(e, self.path.parent) is not None:
                raise self._cannot_open(e) from None  # the disk, not the file
            found = [str(e)]
        if found != ["ok"]:
            self.damaged = "; ".join(found)[:200]
            if not allow_damaged:
                raise StoreDamaged(
                    f"{self.path}: the store is damaged (SQLite integrity check:"
                    f" {self.damaged}); " + recovery_hint(self.path)
                )
            return
        if version == 0:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            if tables:
                raise StoreError(
                    f"{self.path}: an SQLite database of another program (tables:"
                    f" {', '.join(tables[:5])}), not a distill-tui store; move it away"
                    " or use another folder"
                )

    def _cannot_open(self, e: sqlite3.DatabaseError) -> StoreError:
        """A full disk or a read-only folder is said as such; only a file
        SQLite does not recognise is called foreign."""
        if getattr(e, "sqlite_errorname", "") == "SQLITE_NOTADB" or "not a database" in str(e):
            return StoreError(f"{self.path}: not a distill-tui store ({e})")
        found = disk.explain_sqlite(e, self.path.parent)
        if found is not None:
            return StoreError(f"{self.path}: cannot open the store: {found}; nothing was changed")
        return StoreError(f"{self.path}: cannot open the store ({e})")

    def _migrate(self) -> None:
        conn = self.conn
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store schema v{version} is newer than this program "
                f"(v{SCHEMA_VERSION}); upgrade distill-tui"
            )
        for i in range(version, SCHEMA_VERSION):
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Re-read inside the lock: another process may have migrated.
                if conn.execute("PRAGMA user_version").fetchone()[0] > i:
                    conn.execute("ROLLBACK")
                    continue
                for statement in _split_sql(MIGRATIONS[i]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {i + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # -- inputs --------------------------------------------------------------
    def add_inputs(
        self, items: Iterable[tuple[str, str | None]], origin: str = "import"
    ) -> AddResult:
        """Add (text, source) pairs; identical texts are stored once."""
        now = time.time()
        added = dup = 0
        with self.tx() as c:
            for text, source in items:
                cur = c.execute(
                    "INSERT OR IGNORE INTO rows (input, input_sha, source, origin,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (text, sha(text), source, origin, now, now),
                )
                if cur.rowcount:
                    added += 1
                else:
                    dup += 1
        return AddResult(added, dup)

    # -- summaries -----------------------------------------------------------
    def counts(self) -> dict[str, int | float]:
        """The numbers `status --json` prints and the status bar shows."""
        c = self.conn
        out: dict[str, int | float] = {k: 0 for k in STATUS_KEYS}
        for status, n in c.execute("SELECT status, COUNT(*) FROM rows GROUP BY status"):
            out[status] = n
        out["inputs"] = sum(int(out[k]) for k in STATUS_KEYS)
        row = c.execute(
            "SELECT"
            " COALESCE(SUM(decision = 'accepted'), 0),"
            " COALESCE(SUM(decision = 'rejected'), 0),"
            " COALESCE(SUM(status = 'done' AND decision IS NULL), 0)"
            " FROM rows"
        ).fetchone()
        out["accepted"], out["rejected"], out["unreviewed"] = (int(v) for v in row)
        g = c.execute(
            "SELECT COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),"
            " COALESCE(SUM(cache_read_tokens), 0), COALESCE(SUM(cost_usd), 0.0),"
            " COUNT(*) - COUNT(cost_usd)"
            " FROM generations"
        ).fetchone()
        out["input_tokens"], out["output_tokens"], out["cache_read_tokens"] = (
            int(g[0]),
            int(g[1]),
            int(g[2]),
        )
        out["cost_usd"] = float(g[3])
        out["cost_unknown"] = int(g[4])  # answers from a model with no known price
        return out

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.tx() as c:
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
