"""The Train screen's monitor as a component: one run's train and validation
loss chart, speed and memory, ETA, the guide's warning signs in words, and
why the run failed (or why it never started) in the error colour. It owns
which run it shows (opened, training here, else the newest) and reads it
from the store when polled, so a run started headless in another terminal
shows the same way."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from distill_tui.core.project import Workspace
from distill_tui.core.train import losscurve, objectives
from distill_tui.core.train import runs as runs_db
from distill_tui.ui.text import data_text
from distill_tui.ui.widgets.losschart import LossChart


def _clock(s: float | None) -> str:
    if s is None or s < 0:
        return "--:--"
    s = int(s)
    h, rem = divmod(s, 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"


class TrainMonitor(Vertical):
    DEFAULT_CSS = """
    TrainMonitor > #train-head { height: 1; color: $primary; text-style: bold; }
    TrainMonitor > #train-error { height: auto; max-height: 4; color: $error; display: none; }
    TrainMonitor > #train-error.-shown { display: block; }
    TrainMonitor > #train-metrics { height: 2; }
    TrainMonitor > #train-signs { height: auto; max-height: 3; color: $warning; }
    TrainMonitor > #train-pref-chart { min-height: 6; display: none; }
    TrainMonitor > #train-pref { height: auto; max-height: 2; display: none; }
    TrainMonitor > #train-pref-chart.-pref, TrainMonitor > #train-pref.-pref { display: block; }
    """

    def __init__(self, ws: Workspace, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._ws = ws
        self.shown_run: str | None = None  # the run drawn now
        self.opened: str | None = None  # a run the user opened from the list
        self.training: str | None = None  # the run training in this screen
        # Why the last ctrl+r did not start; or None. While set, or while a
        # run is starting, the monitor says that instead of drawing a run.
        self.refusal: str | None = None
        self.starting = False
        self._seen: tuple[object, ...] = ()
        # What the run training here does now, and since when (a live clock).
        self._phase: str | None = None
        self._phase_t0 = 0.0
        self._started = 0.0
        self._head = ""
        self._drawn: tuple[runs_db.Run, list[runs_db.Metric], int] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="train-head")
        yield Static("", id="train-error")
        yield LossChart(id="train-chart")
        # A preference run's task score on held-out rows and its pair accuracy,
        # both shares on one 0-1 axis (the margin, in nats, is in words).
        yield LossChart(("task score", "pair accuracy"), id="train-pref-chart")
        yield Static("", id="train-pref")
        yield Static("", id="train-metrics")
        yield Static("", id="train-signs")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def set_phase(self, phase: str | None) -> None:
        """What the run training here does now (None: nothing runs here)."""
        now = time.monotonic()
        if phase is not None and self._phase is None:
            self._started = now
        self._phase, self._phase_t0 = phase, now
        self._tick()

    def _tick(self) -> None:
        """Once a second while a run trains here: the phase and live clocks in
        the head, the elapsed time in the metrics, between the reports."""
        if self._phase is None:
            return
        now = time.monotonic()
        since = _clock(now - self._phase_t0)
        total = _clock(now - self._started)
        text = f"{self._phase}... {since}" if self._phase != "training" else ""
        base = self._head if not self.starting else ""
        head = "  ".join(x for x in (base, text, f"elapsed {total}") if x)
        self.query_one("#train-head", Static).update(Text(head))
        if self._drawn is not None and not self.starting:
            run, train, at = self._drawn
            self.query_one("#train-metrics", Static).update(
                self._metrics_text(run, train, at, time.time())
            )

    # -- which run, read from the store ------------------------------------------------
    def open(self, run_id: str | None) -> None:
        """Draw this run from now on (opened from the list, or one that failed)."""
        self.refusal, self.opened = None, run_id
        self.redraw()

    def forget(self, run_id: str) -> None:
        """A run was deleted: stop drawing it."""
        if run_id in (self.shown_run, self.opened):
            self.shown_run = self.opened = None
            self._seen = ()

    def redraw(self) -> None:
        self._seen = ()
        self.poll()

    def poll(self) -> None:
        """Draw the current run if the store holds anything new about it."""
        if self.refusal is not None or self.starting:
            return  # the head says why ctrl+r did not start, or that it is starting
        store = self._ws.store
        run = self._current_run()
        if run is None:
            self.clear("No runs yet: ctrl+r trains")
            return
        train = runs_db.metrics(store, run.id, "train")
        val = runs_db.history(store, run.id, "val")
        prefs = runs_db.pref_metrics(store, run.id)
        key = (run.id, run.status, len(train), len(val), len(prefs), run.error)
        if key == self._seen:
            return
        self.shown_run, self._seen = run.id, key
        self.show(run, train, val, prefs)

    def _current_run(self) -> runs_db.Run | None:
        """The run the user opened, else the one training here, else the newest."""
        store = self._ws.store
        for run_id in (self.opened, self.training):
            run = runs_db.get_run(store, run_id) if run_id else None
            if run is not None:
                return run
        return runs_db.latest_run(store)

    # -- drawing -------------------------------------------------------------------------
    def head(self, text: str) -> None:
        self._head = text
        self.query_one("#train-head", Static).update(Text(text))
        if self._phase is not None:
            self._tick()

    def failure(self, reason: str | None) -> None:
        """Why the shown run failed or a start was refused; None clears it."""
        box = self.query_one("#train-error", Static)
        box.update(data_text(f"✗ {reason}" if reason else ""))
        box.set_class(bool(reason), "-shown")

    def show(
        self,
        run: runs_db.Run,
        train: list[runs_db.Metric],
        val: list,
        prefs: list[runs_db.PrefMetric] | None = None,
    ) -> None:
        t_hist = [(m.iter, float("nan") if m.loss is None else m.loss) for m in train]
        at = self._iteration(run, train, val)
        # A running run's axis spans its length; a stopped one ends where it stopped.
        x_max = (run.iters_total or at) if run.status == "running" else at
        self.query_one("#train-chart", LossChart).set_data(t_hist, val, x_max)
        pref_signs = self._show_prefs(run, prefs or [], x_max)
        best = (
            f"  best val {run.best_val_loss:.3f} @ {run.best_iter}"
            if run.best_iter is not None and run.best_val_loss is not None
            else ""
        )
        status = run.status.replace("_", " ")
        if run.status == "failed":
            status += f" at iteration {run.iter}"
        self.head(f"Run {run.id}  {status}{best}")
        self.failure(run.error if run.status in ("failed", "collapsed") else None)
        self._drawn = (run, train, at) if run.status == "running" else None
        self.query_one("#train-metrics", Static).update(self._metrics_text(run, train, at))
        signs = pref_signs + losscurve.warning_signs(t_hist, val)
        self.query_one("#train-signs", Static).update(
            Text("\n".join(f"⚠ {s.message}" for s in signs[:2]))
        )

    def _show_prefs(
        self, run: runs_db.Run, prefs: list[runs_db.PrefMetric], x_max: int
    ) -> list[losscurve.Sign]:
        """Pair accuracy and reward margin plotted, the log-probabilities in
        words, and the warning when the chosen one falls steadily."""
        objective = run.config.get("train", {}).get("objective", "sft")
        shown = objective != "sft"
        chart = self.query_one("#train-pref-chart", LossChart)
        line = self.query_one("#train-pref", Static)
        for w in (chart, line):
            w.set_class(shown, "-pref")
        if not shown:
            return []

        def series(name: str) -> list[tuple[int, float]]:
            return [(m.iter, v) for m in prefs if (v := getattr(m, name)) is not None]

        enough = [m for m in prefs if (m.pairs or 0) >= objectives.MIN_PAIRS]
        accuracy = [(m.iter, m.pair_accuracy) for m in enough if m.pair_accuracy is not None]
        chart.set_data(series("task_score"), accuracy, x_max)
        if not prefs:
            line.update(Text(f"{objective}: measuring the SFT start..."))
            return []
        m = prefs[-1]
        start = prefs[0].task_score if prefs[0].iter <= 1 and m.iter > 1 else None
        parts = objectives.evaluation_parts(
            task_score=m.task_score,
            start_score=start,
            pair_accuracy=m.pair_accuracy,
            pairs=m.pairs,
            reward_margin=m.reward_margin,
            chosen_drift=m.chosen_drift,
        )
        line.update(Text("  ".join([f"{objective} @ {m.iter}:", *parts])))
        sign = losscurve.chosen_falling(series("chosen_logp"))
        return [sign] if sign else []

    def clear(self, head: str) -> None:
        self.head(head)
        self.query_one("#train-chart", LossChart).set_data([], [])
        for w in self.query("#train-pref-chart, #train-pref"):
            w.set_class(False, "-pref")
        self.query_one("#train-metrics", Static).update("")
        self.query_one("#train-signs", Static).update("")

    @staticmethod
    def _iteration(
        run: runs_db.Run, train: list[runs_db.Metric], val: list[tuple[int, float]]
    ) -> int:
        """Where the run is: its stored iteration, moved on by any report
        since (a validation comes before the first train report)."""
        return max([run.iter or 0, *(m.iter for m in train[-1:]), *(i for i, _ in val[-1:])])

    @staticmethod
    def _metrics_text(
        run: runs_db.Run, train: list[runs_db.Metric], at: int, now: float | None = None
    ) -> Text:
        """`now`: the wall clock for a live elapsed time (a run training here);
        else the elapsed time at the last report."""
        total = run.iters_total or 0
        if not train:
            live = f"  elapsed {_clock(now - run.created_at)}" if now is not None else ""
            return Text(f"iter {at}/{total}{live}")
        m = train[-1]
        ips = m.it_per_sec or 0.0
        eta = (total - at) / ips if ips > 0 and run.status == "running" else None
        loss = f"{m.loss:.4f}" if m.loss is not None else "NaN"
        return Text(
            f"iter {at}/{total}  loss {loss}  {ips:.2f} it/s  "
            f"{m.tokens_per_sec or 0:.0f} tok/s  {m.trained_tokens or 0} tokens\n"
            f"lr {m.learning_rate or 0:.1e}  peak {m.peak_memory_gb or 0:.2f} GB  "
            f"elapsed {_clock((now or m.at) - run.created_at)}  ETA {_clock(eta)}"
        )
