"""Evaluation results: base model vs adapter on one split, per row and in
total, kept in the store's `evals` table so the Chat screen's evaluation view
and `distill-tui eval --json` show the same numbers."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from distill_tui.core.evaluate import compare, general, metrics, stats, task_metric
from distill_tui.core.evaluate import confusion as conf
from distill_tui.core.generate.pricing import fmt_usd
from distill_tui.core.store import Store
from distill_tui.core.train.objectives import MIN_PAIRS

BASE = "base"
ADAPTER = "adapter"
SFT = "sft"  # a preference run's starting point: the SFT run's adapter
JUDGE = "judge"  # metric: 1.0 when the teacher judged the adapter's answer a pass
CI_METHOD = (
    "95%: exact binomial (Clopper-Pearson) for 0/1 metrics, bootstrap over rows"
    f" ({stats.BOOTSTRAP_SAMPLES} resamples, seed {stats.BOOTSTRAP_SEED}) for the others"
)


@dataclass
class EvalItem:
    index: int  # line in the split file
    row_id: int | None  # the dataset row with this input, if it is still there
    input: str
    reference: str  # the teacher's accepted output
    answers: dict[str, str] = field(default_factory=dict)  # "base"/"adapter" -> text
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    judge: str | None = None  # the teacher's reason, when it judged this row

    @property
    def adapter_failed(self) -> bool:
        s = self.scores.get(ADAPTER)
        return s is not None and metrics.is_failure(s)


@dataclass
class JudgeSummary:
    """How far the teacher's judging went on one evaluation."""

    rows: int = 0  # adapter answers to judge
    judged: int = 0  # with a pass/fail verdict (exact matches pass unasked)
    unclear: int = 0  # replies that said neither
    cost_usd: float = 0.0
    cost_unknown: int = 0  # requests to a teacher with no known price
    max_cost_usd: float | None = None
    capped: bool = False  # stopped at the cost cap
    stopped: bool = False  # stopped by the user

    def note(self) -> str:
        usd = None if self.cost_unknown else self.cost_usd
        line = f"judged {self.judged}/{self.rows} adapter answers for {fmt_usd(usd)}"
        if self.unclear:
            line += f", {self.unclear} unclear"
        if self.capped:
            line += f"; stopped at the ${self.max_cost_usd:.2f} cost cap"
        elif self.stopped:
            line += "; stopped by request"
        return line


@dataclass
class EvalResult:
    run_id: str | None
    checkpoint: str
    split: str
    output_format: str
    items: list[EvalItem]
    stopped: bool = False  # the user stopped it; the numbers cover fewer rows
    id: int | None = None
    created_at: float = 0.0
    judge: JudgeSummary | None = None
    # Held-out preference pairs (data/pref/valid.jsonl) whose chosen answer the
    # model finds likelier than the rejected one, per model; pair_rows pairs.
    pairs: dict[str, float] = field(default_factory=dict)
    pair_rows: int = 0
    # The forgetting check: perplexity per model on the package's general text
    # (core.evaluate.general), over `general_tokens` tokens.
    general: dict[str, float] = field(default_factory=dict)
    general_tokens: int = 0

    @property
    def rows(self) -> int:
        return len(self.items)

    @property
    def compared(self) -> list[str]:
        """The models that answered, in the order they are shown."""
        seen = {who for i in self.items for who in i.scores} | set(self.pairs)
        return [who for who in (BASE, SFT, ADAPTER) if who in seen]

    def summary(self, who: str) -> dict[str, float]:
        return metrics.mean_scores(i.scores[who] for i in self.items if who in i.scores)

    def failures(self) -> list[EvalItem]:
        return [i for i in self.items if i.adapter_failed]

    @property
    def parent(self) -> str | None:
        """What the run is judged against: its SFT start for a preference run
        (when it answered), else the base model; None when neither did."""
        answered = {who for i in self.items for who in i.scores}
        if ADAPTER not in answered:
            return None
        return next((w for w in (SFT, BASE) if w in answered), None)

    def _paired(self, vs: str) -> list[EvalItem]:
        return [i for i in self.items if ADAPTER in i.scores and vs in i.scores]

    @property
    def verdict_metric(self) -> str:
        """What decides whether a row is right against the parent (JSON fields
        for a JSON task, exact match otherwise: `task_metric.verdict_metric`)."""
        return task_metric.verdict_metric(self.output_format)

    def _right(self, item: EvalItem, who: str) -> bool:
        return task_metric.row_right(item.scores[who], self.verdict_metric)

    def flips(self) -> compare.Flips | None:
        vs = self.parent
        if vs is None:
            return None
        rows = self._paired(vs)
        return compare.flips(
            [self._right(i, ADAPTER) for i in rows], [self._right(i, vs) for i in rows], vs
        )

    def flipped(self, kind: str) -> list[EvalItem]:
        """The rows of one kind of flip against the parent: "fixed" or "regressed"."""
        vs = self.parent
        if vs is None:
            return []
        out = []
        for i in self._paired(vs):
            run_ok, parent_ok = self._right(i, ADAPTER), self._right(i, vs)
            if (kind == "fixed" and run_ok and not parent_ok) or (
                kind == "regressed" and parent_ok and not run_ok
            ):
                out.append(i)
        return out

    def verdict(self) -> compare.Verdict | None:
        vs = self.parent
        if vs is None:
            return None
        rows = self._paired(vs)
        if not rows:
            return None
        metric = self.verdict_metric
        return compare.verdict(
            [i.scores[ADAPTER].get(metric, 0.0) for i in rows],
            [i.scores[vs].get(metric, 0.0) for i in rows],
            vs,
            metric,
        )

    def intervals(self) -> dict[str, dict[str, tuple[float, float]]]:
        """95% interval of every metric of every model: exact binomial for 0/1
        scores (exact match, JSON valid, the judge), a seeded bootstrap over
        rows for the others."""
        out: dict[str, dict[str, tuple[float, float]]] = {}
        for who in self.compared:
            per: dict[str, list[float]] = {}
            for i in self.items:
                for name, value in i.scores.get(who, {}).items():
                    per.setdefault(name, []).append(value)
            if per:
                out[who] = {name: stats.interval(values) for name, values in per.items()}
        return out

    def general_line(self) -> str | None:
        """ "general perplexity base 12.31 -> run 12.90 (+4.8%) on ..." """
        return general.line(self.general, self.general_tokens)

    def general_warning(self) -> str | None:
        return general.warning(self.general)

    def confusion(self) -> conf.Confusion | None:
        rows = [i for i in self.items if ADAPTER in i.answers]
        return conf.confusion([i.reference for i in rows], [i.answers[ADAPTER] for i in rows])

    def field_confusions(self) -> dict[str, conf.Confusion]:
        if self.output_format != "json":
            return {}
        rows = [i for i in self.items if ADAPTER in i.answers]
        return conf.field_confusions(
            [i.reference for i in rows], [i.answers[ADAPTER] for i in rows]
        )

    def to_json(self, items: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rows": self.rows,
            "split": self.split,
            "run": self.run_id,
            "checkpoint": self.checkpoint,
            "output_format": self.output_format,
            BASE: self.summary(BASE),
            ADAPTER: self.summary(ADAPTER),
            **({SFT: self.summary(SFT)} if SFT in self.compared else {}),
            "failures": len(self.failures()),
            "stopped": self.stopped,
        }
        out["ci"] = {
            who: {name: [lo, hi] for name, (lo, hi) in per.items()}
            for who, per in self.intervals().items()
        }
        out["ci_method"] = CI_METHOD
        flips, verdict = self.flips(), self.verdict()
        out["flips"] = flips.to_json() if flips else None
        out["verdict"] = verdict.verdict if verdict else None
        out["paired"] = verdict.to_json() if verdict else None
        matrix = self.confusion()
        if matrix is not None:
            out["confusion"] = matrix.to_json()
        if fields := self.field_confusions():
            out["confusion_fields"] = {k: v.to_json() for k, v in fields.items()}
        if self.judge is not None:
            out[JUDGE] = asdict(self.judge) | {"note": self.judge.note()}
        if self.pairs:
            out["pairs"] = {"rows": self.pair_rows, "accuracy": self.pairs}
        out["general_perplexity"] = dict(self.general) or None
        out["general_tokens"] = self.general_tokens
        if self.id is not None:
            out["id"] = self.id
        if items:
            out["items"] = [asdict(i) for i in self.items]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any], id: int | None = None, at: float = 0.0) -> EvalResult:
        judge = data.get(JUDGE)
        if isinstance(judge, dict):
            judge = JudgeSummary(**{k: v for k, v in judge.items() if k != "note"})
        return cls(
            run_id=data.get("run"),
            checkpoint=data.get("checkpoint", ""),
            split=data.get("split", "valid"),
            output_format=data.get("output_format", "text"),
            items=[EvalItem(**i) for i in data.get("items", [])],
            stopped=bool(data.get("stopped", False)),
            id=id,
            created_at=at,
            judge=judge if isinstance(judge, JudgeSummary) else None,
            pairs=dict((data.get("pairs") or {}).get("accuracy", {})),
            pair_rows=int((data.get("pairs") or {}).get("rows", 0)),
            general=dict(data.get("general_perplexity") or {}),
            general_tokens=int(data.get("general_tokens") or 0),
        )


GENERAL_ROW = "general ppl"  # lower is better; its change is relative


def _cell(name: str, value: float) -> str:
    return f"{value:.2f}" if name == GENERAL_ROW else f"{value:.3f}"


def _change(name: str, a: float, b: float) -> str:
    if name == GENERAL_ROW:
        return f"{a / b - 1:+.1%}" if b else ""
    return f"{a - b:+.3f}"


def comparison(result: EvalResult, intervals: bool = True) -> tuple[list[str], list[list[str]]]:
    """The metrics table the Chat screen and `eval` print: one column per model
    that answered (base, sft for a preference run, adapter), the adapter's
    change against the base and, where there is one, against its SFT start;
    under each metric its 95% interval per model; a last row with the
    held-out pair accuracy when preference pairs exist, and one with the
    general perplexity (the forgetting check) when it was measured."""
    who = result.compared
    sums = {w: result.summary(w) for w in who}
    against = [w for w in (BASE, SFT) if w in who]
    headers = ["metric", *who, *("change" if w == BASE else "vs sft" for w in against)]
    names = list(sums.get(ADAPTER, {}))
    values = {w: dict(sums[w]) for w in who}
    ci = result.intervals() if intervals else {}
    if result.pairs:
        names.append("pair acc")
        for w in who:
            if w in result.pairs:
                values[w]["pair acc"] = result.pairs[w]
    rows = []
    if result.general:
        names.append(GENERAL_ROW)
        for w in who:
            if w in result.general:
                values[w][GENERAL_ROW] = result.general[w]
    few = result.pair_rows < MIN_PAIRS
    for name in names:
        row = [name]
        if name == "pair acc" and few:
            # One pair reads 0 or 1 (issue 30): the count, not a share.
            rows.append([name, *["too few" for _ in who], *[""] * len(against)])
            continue
        row += [_cell(name, values[w][name]) if name in values[w] else "-" for w in who]
        a = values.get(ADAPTER, {}).get(name)
        for w in against:
            b = values[w].get(name)
            row.append(_change(name, a, b) if a is not None and b is not None else "")
        rows.append(row)
        if any(name in ci.get(w, {}) for w in who):
            row = ["  95% CI"]
            for w in who:
                lo_hi = ci.get(w, {}).get(name)
                row.append(f"{lo_hi[0]:.2f}-{lo_hi[1]:.2f}" if lo_hi else "")
            rows.append(row + [""] * len(against))
    return headers, rows


def save(store: Store, result: EvalResult) -> int:
    result.created_at = result.created_at or time.time()
    with store.tx() as c:
        cur = c.execute(
            "INSERT INTO evals (run_id, split, result, created_at) VALUES (?, ?, ?, ?)",
            (result.run_id, result.split, json.dumps(result.to_json()), result.created_at),
        )
    result.id = int(cur.lastrowid or 0)
    return result.id


def update(store: Store, result: EvalResult) -> None:
    """Rewrite a stored result (after judging it, say)."""
    if result.id is None:
        save(store, result)
        return
    with store.tx() as c:
        c.execute(
            "UPDATE evals SET result = ? WHERE id = ?", (json.dumps(result.to_json()), result.id)
        )


def latest(
    store: Store, run_id: str | None = None, checkpoint: str | None = None
) -> EvalResult | None:
    """The newest evaluation (of `run_id`, and of its `checkpoint` such as
    "best" or "iter 100", when given)."""
    q = "SELECT id, result, created_at FROM evals"
    where: list[str] = []
    args: tuple[Any, ...] = ()
    if run_id is not None:
        where.append("run_id = ?")
        args += (run_id,)
    if checkpoint is not None:
        where.append("json_extract(result, '$.checkpoint') = ?")
        args += (checkpoint,)
    if where:
        q += " WHERE " + " AND ".join(where)
    row = store.conn.execute(q + " ORDER BY created_at DESC, id DESC LIMIT 1", args).fetchone()
    if row is None:
        return None
    return EvalResult.from_json(json.loads(row["result"]), row["id"], row["created_at"])
