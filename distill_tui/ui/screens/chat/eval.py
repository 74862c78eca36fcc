"""The evaluation view of the Chat screen: base vs adapter numbers on the
validation split with their 95% intervals, the verdict against the run's
parent in one line above them, and a failure browser with the teacher's
output beside the adapter's answer. The table's `general ppl` row is the
forgetting check (each model's perplexity on a general text), with a warning
above when the run's rose past the threshold. `b` shows only the rows the run broke
(right for its parent, wrong now), `f` only those it fixed, `m` the
confusion matrix of a label task; `c` sends the rows shown back to the
curator, `s` has the teacher write inputs like the failing rows into the
generation queue, and `j` has the teacher judge the adapter's answers
(within a cost cap).

Before answering, `core.split_overlap.check` looks for validation rows the run
trained on (a split exported again with another seed); a dialog then asks
before evaluating anyway, and the result's header says how many."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, Static
from textual.worker import Worker, WorkerState

from distill_tui.core.curate import feedback
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import confusion, evals, split_overlap
from distill_tui.core.evaluate.compare import PARENT_NAMES
from distill_tui.core.project import Workspace
from distill_tui.core.train.checkpoints import Checkpoint
from distill_tui.engine.chat.evaluate import evaluate
from distill_tui.engine.chat.judge import DEFAULT_MAX_COST_USD, judge
from distill_tui.engine.chat.session import ModelHost
from distill_tui.engine.synth.similar import SimilarResult, add_similar, default_count
from distill_tui.ui.text import say
from distill_tui.ui.widgets.chat_pane import failure_reason, safe_text
from distill_tui.ui.widgets.confirm import ConfirmDialog

JOB = "evaluation"
# The rows the list shows: the adapter's wrong answers, or one kind of flip.
WRONG, REGRESSED, FIXED, MATRIX = "wrong", "regressed", "fixed", "matrix"


@dataclass
class EvalProgressed(Message):
    done: int
    total: int


@dataclass
class EvalFinished(Message):
    result: evals.EvalResult


@dataclass
class EvalRefused(Message):
    """The split holds training rows of the run: nothing was answered."""

    reason: str
    overlap: split_overlap.Overlap


@dataclass
class SimilarAdded(Message):
    result: SimilarResult


@dataclass
class JudgeFinished(Message):
    result: evals.EvalResult


def _short(text: str, width: int) -> Text:
    flat = " ".join(text.split())
    return safe_text(flat if len(flat) <= width else flat[: width - 1] + "…")


class EvalScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("r", "run", "Run eval", id="eval-run"),
        Binding("c", "to_curator", "To curator", id="eval-curator"),
        Binding("s", "similar", "Similar inputs", id="eval-similar"),
        Binding("j", "judge", "Judge", id="eval-judge"),
        Binding("b", "view('regressed')", "Broken rows", id="eval-regressed", show=False),
        Binding("f", "view('fixed')", "Fixed rows", id="eval-fixed", show=False),
        Binding("m", "view('matrix')", "Confusion matrix", id="eval-matrix", show=False),
        Binding("escape", "close", "Stop/close", id="eval-close"),
    ]
    DEFAULT_CSS = """
    EvalScreen { background: $background; }
    EvalScreen #eval-title { height: 1; text-style: bold; color: $primary; }
    EvalScreen #eval-warning { height: auto; color: $warning; display: none; }
    EvalScreen #eval-warning.shown { display: block; }
    EvalScreen #eval-verdict { height: auto; max-height: 2; }
    EvalScreen #eval-verdict.worse { color: $error; }
    EvalScreen #eval-metrics { height: auto; max-height: 10; }
    EvalScreen #eval-list { height: 1; color: $text-muted; }
    EvalScreen #eval-failures { height: 1fr; }
    EvalScreen #eval-detail { height: 5; border-top: solid $primary-darken-2; }
    EvalScreen #eval-matrix-box { height: 1fr; display: none; }
    EvalScreen.matrix #eval-matrix-box { display: block; }
    EvalScreen.matrix #eval-failures, EvalScreen.matrix #eval-detail { display: none; }
    EvalScreen #eval-progress { height: auto; max-height: 3; color: $text-muted; }
    """

    # The evaluation runs; the teacher is writing inputs or judging.
    running: reactive[bool] = reactive(False, bindings=True, init=False)
    asking: reactive[bool] = reactive(False, bindings=True, init=False)
    view: reactive[str] = reactive(WRONG, bindings=True, init=False)

    def __init__(self, ws: Workspace, host: ModelHost, checkpoint: Checkpoint | None) -> None:
        super().__init__()
        self.ws = ws
        self.host = host
        self.checkpoint = checkpoint
        self.result: evals.EvalResult | None = None
        self._stop = threading.Event()
        self._matrix_lines: list[str] = []  # a label task's confusion matrix, drawn

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("", id="eval-title")
            yield Static("", id="eval-warning")
            yield Static("", id="eval-verdict")
            yield DataTable(id="eval-metrics", cursor_type="none", zebra_stripes=True)
            yield Label("", id="eval-list")
            yield DataTable(id="eval-failures", cursor_type="row")
            with VerticalScroll(id="eval-matrix-box"):
                yield Static("", id="eval-matrix")
            yield Static("", id="eval-detail")
            yield Static("", id="eval-progress")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#eval-metrics", DataTable).add_columns(
            "metric", "base", "adapter", "change"
        )
        self.query_one("#eval-failures", DataTable).add_columns("#", "input", "teacher", "adapter")
        # The checkpoint the picker shows, not just its run: a run's latest
        # evaluation may be of another of its checkpoints.
        cp = self.checkpoint
        self.show(evals.latest(self.ws.store, cp.run_id, cp.name) if cp else None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run":
            return self.checkpoint is not None and not self.running or None
        if action == "to_curator":
            ok = any(i.row_id for i in self.shown_items())
            return (ok and not self.running) or None
        if action == "view":
            if self.result is None or self.running:
                return None
            if parameters and parameters[0] == MATRIX:
                return bool(self._matrix_lines) or None
            return self.result.parent is not None or None
        if action == "similar":
            ok = self.result is not None and bool(self.result.failures())
            return (ok and not self.running and not self.asking) or None
        if action == "judge":
            ok = self.result is not None and self.result.rows > 0
            return (ok and not self.running and not self.asking) or None
        return True

    # -- showing a result -----------------------------------------------------------
    def show(self, result: evals.EvalResult | None) -> None:
        self.result = result
        title = self.query_one("#eval-title", Label)
        metrics = self.query_one("#eval-metrics", DataTable)
        metrics.clear()
        self._show_warnings(result)
        self._show_verdict(result)
        self._matrix_lines = self._matrix(result) if result is not None else []
        self.query_one("#eval-matrix", Static).update(Text("\n".join(self._matrix_lines)))
        if result is None:
            what = self.checkpoint.label if self.checkpoint else "no run"
            title.update(Text(f"Evaluation of {what}: none yet (r runs it on the valid split)"))
            self.view = WRONG
            self._fill_list()
            return
        wrong = result.failures()
        note = " (stopped early)" if result.stopped else ""
        if result.judge is not None:
            self.query_one("#eval-progress", Static).update(Text(result.judge.note()))
        title.update(
            Text(
                f"{result.run_id}:{result.checkpoint} on {result.split}: "
                f"{result.rows} rows, adapter wrong on {len(wrong)}{note}"
            )
        )
        # One column per model that answered: base, sft (a preference run's
        # start), adapter; the pair accuracy on held-out pairs where they exist.
        headers, rows = evals.comparison(result)
        metrics.clear(columns=True)
        metrics.add_columns(*headers)
        for row in rows:
            metrics.add_row(*row)
        flips_gone = self.view in (REGRESSED, FIXED) and result.parent is None
        if flips_gone or (self.view == MATRIX and not self._matrix_lines):
            self.view = WRONG
        self._fill_list()

    def shown_items(self) -> list[evals.EvalItem]:
        """The rows the list shows (and `c` sends to the curator)."""
        if self.result is None:
            return []
        if self.view in (REGRESSED, FIXED):
            return self.result.flipped(self.view)
        return self.result.failures()

    def _fill_list(self) -> None:
        failures = self.query_one("#eval-failures", DataTable)
        failures.clear()
        self.set_class(self.view == MATRIX, "matrix")
        items = self.shown_items()
        for item in items:
            failures.add_row(
                str(item.index + 1),
                _short(item.input, 22),
                _short(item.reference, 20),
                _short(item.answers.get(evals.ADAPTER, ""), 20),
                key=str(item.index),
            )
        parent = self.result.parent if self.result else None
        against = PARENT_NAMES.get(parent or "", "its parent")
        # The keys are named here, not in the footer: it has no room at 80 columns.
        keys = [
            k
            for k, ok in (
                ("b broke", parent),
                ("f fixed", parent),
                ("m matrix", self._matrix_lines),
            )
            if ok
        ]
        caption = {
            WRONG: f"{len(items)} rows the adapter got wrong"
            + (f" · {', '.join(keys)}" if keys else ""),
            REGRESSED: f"{len(items)} rows it broke: right for {against}, wrong now (b: back)",
            FIXED: f"{len(items)} rows it fixed: wrong for {against}, right now (f: back)",
            MATRIX: "confusion matrix of the adapter's answers (m: back)",
        }[self.view]
        self.query_one("#eval-list", Label).update(Text(caption if self.result else ""))
        self.refresh_bindings()

    def _show_verdict(self, result: evals.EvalResult | None) -> None:
        """One line above the table: the run against its parent, with the noise."""
        box = self.query_one("#eval-verdict", Static)
        v = result.verdict() if result is not None else None
        box.set_class(v is not None and v.verdict == "worse", "worse")
        if result is None:
            box.update("")
        elif v is None:
            box.update(Text("no verdict: its parent (the base or SFT start) did not answer"))
        else:
            box.update(Text(v.line()))

    @staticmethod
    def _matrix(result: evals.EvalResult) -> list[str]:
        lines: list[str] = []
        whole = result.confusion()
        if whole is not None:
            lines += confusion.render(whole, 78)
        for name, m in result.field_confusions().items():
            lines += ["", f"field {name}:", *confusion.render(m, 78)]
        return lines

    def action_view(self, view: str) -> None:
        """Show only one kind of row (or the matrix); the same key goes back."""
        self.view = WRONG if self.view == view else view
        self._fill_list()

    def _show_warnings(self, result: evals.EvalResult | None) -> None:
        """The result's header says when its rows were the run's training rows,
        and when the run's general perplexity rose past the threshold."""
        found = split_overlap.of_result(self.ws.root, result) if result else None
        said = [f"⚠ {found.message()}: scores measure recall"] if found else []
        forgot = result.general_warning() if result else None
        said += [f"⚠ {forgot}"] if forgot else []
        warning = self.query_one("#eval-warning", Static)
        warning.update(Text("\n".join(said)))
        warning.set_class(bool(said), "shown")

    @on(DataTable.RowHighlighted, "#eval-failures")
    def _show_detail(self, event: DataTable.RowHighlighted) -> None:
        if self.result is None or event.row_key.value is None:
            return
        item = self.result.items[
            [i.index for i in self.result.items].index(int(event.row_key.value))
        ]
        text = Text()
        for name, value in (
            ("input:   ", item.input),
            ("teacher: ", item.reference),
            ("adapter: ", item.answers.get(evals.ADAPTER, "")),
            *((("sft:     ", item.answers[evals.SFT]),) if evals.SFT in item.answers else ()),
            ("base:    ", item.answers.get(evals.BASE, "")),
            *((("judge:   ", item.judge),) if item.judge else ()),
        ):
            text.append(name, style="bold")
            text.append_text(safe_text(" ".join(value.split()) + "\n"))
        self.query_one("#eval-detail", Static).update(text)

    # -- actions --------------------------------------------------------------------
    def action_run(self, allow_overlap: bool = False) -> None:
        if self.checkpoint is None or self.running:
            return
        self.running = True
        self._stop.clear()
        self.query_one("#eval-progress", Static).update(Text("evaluating…"))
        self.app.jobs.started(JOB, stop=self._stop)  # type: ignore[attr-defined]
        self._evaluate(self.checkpoint, allow_overlap)

    @work(thread=True, group="chat-eval", exclusive=True, exit_on_error=False, name=JOB)
    def _evaluate(self, checkpoint: Checkpoint, allow_overlap: bool) -> None:
        def progress(done: int, total: int, _who: str) -> None:
            self.post_message(EvalProgressed(done, total))

        try:
            split_overlap.check(
                self.ws.root, self.ws.settings, checkpoint.run_id, allow=allow_overlap
            )
        except split_overlap.SplitOverlap as e:
            self.post_message(EvalRefused(str(e), e.overlap))
            return
        result = evaluate(self.ws, self.host, checkpoint, progress=progress, stop=self._stop)
        self.post_message(EvalFinished(result))

    def on_eval_refused(self, event: EvalRefused) -> None:
        self._done(False, f"evaluation not started: {event.reason}")

        def answered(answer: str | None) -> None:
            if answer == "anyway":
                self.action_run(allow_overlap=True)

        self.app.push_screen(
            ConfirmDialog(
                f"{event.overlap.message()}: its scores would measure recall. Evaluate anyway?",
                {"e": ("anyway", "evaluate anyway (the result says how many)")},
                cancel="do not evaluate",
            ),
            answered,
        )

    def on_eval_progressed(self, event: EvalProgressed) -> None:
        self.query_one("#eval-progress", Static).update(
            Text(f"evaluating… {event.done}/{event.total} answers (esc stops)")
        )

    def on_eval_finished(self, event: EvalFinished) -> None:
        self._done(True, f"evaluation finished: {event.result.rows} rows")
        self.show(event.result)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        # The reason on the progress line (no API key, teacher down, no split)
        # and once in a toast.
        reason = failure_reason(event.worker.error)
        if event.worker.group == "chat-eval":
            self._done(False, f"evaluation failed: {reason}")
        elif event.worker.group == "chat-feedback":
            what = "similar inputs" if event.worker.name == "similar" else "judging"
            self._asked(f"{what} failed: {reason}")
            say(self, reason, title=f"{what} failed", severity="error", timeout=10)

    def _done(self, ok: bool, message: str) -> None:
        self.running = False
        self.query_one("#eval-progress", Static).update(Text(message))
        self.app.jobs.finished(JOB, ok, message)  # type: ignore[attr-defined]

    def action_to_curator(self) -> None:
        if self.result is None:
            return
        ids = [i.row_id for i in self.shown_items() if i.row_id is not None]
        try:
            n = feedback.send_to_curator(self.ws.store, ids)
        except UserError as e:
            self.app.report_error(e, "send to curator")  # type: ignore[attr-defined]
            return
        kind = {REGRESSED: "broken", FIXED: "fixed"}.get(self.view, "failing")
        say(self, f"{n} {kind} row(s) are unreviewed again in the curator (3)")

    def action_similar(self) -> None:
        if self.result is None or self.asking:
            return
        failing = [i.input for i in self.result.failures()]
        if not failing:
            return
        n = default_count(len(failing))
        self._asking(f"asking the teacher for {n} inputs like the {len(failing)} failing rows…")
        self._similar(failing, n)

    @work(thread=True, group="chat-feedback", exclusive=True, exit_on_error=False, name="similar")
    def _similar(self, failing: list[str], n: int) -> None:
        self.post_message(SimilarAdded(add_similar(self.ws, failing, n)))

    def on_similar_added(self, event: SimilarAdded) -> None:
        r = event.result
        kept = r.report.describe() if r.report else f"wrote {len(r.inputs)}/{r.asked}"
        self._asked(f"{r.added} new input(s) in the queue (2); {kept}")
        say(self, r.summary(), timeout=8)

    def action_judge(self) -> None:
        if self.result is None or self.asking:
            return
        cap = DEFAULT_MAX_COST_USD
        self._asking(f"the teacher judges {self.result.rows} answers (cap ${cap:.2f})…")
        # A copy: the worker fills in verdicts while the view still shows this one.
        self._judge(copy.deepcopy(self.result), cap)

    @work(thread=True, group="chat-feedback", exclusive=True, exit_on_error=False, name="judge")
    def _judge(self, result: evals.EvalResult, cap: float) -> None:
        judge(self.ws, result, max_cost_usd=cap, stop=self._stop)
        evals.update(self.ws.store, result)
        self.post_message(JudgeFinished(result))

    def on_judge_finished(self, event: JudgeFinished) -> None:
        self.asking = False
        self.show(event.result)  # the metrics gain a judge row; the note says how far
        summary = event.result.judge
        say(self, summary.note() if summary else "judged")

    def _asking(self, message: str) -> None:
        self.asking = True
        self._stop.clear()
        self.query_one("#eval-progress", Static).update(Text(message))

    def _asked(self, message: str) -> None:
        self.asking = False
        self.query_one("#eval-progress", Static).update(Text(message))

    def action_close(self) -> None:
        if self.running or self.asking:
            self._stop.set()  # the judge stops after the verdict in flight
            return
        self.dismiss(None)
