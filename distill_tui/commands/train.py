"""`distill-tui train DIR [overrides] [--resume RUN]`: fine-tune the student
headless, printing one clean line per report and per evaluation.

Works under `mlx.launch` for data-parallel training: every rank trains on its
share of each batch; rank 0 prints, writes the adapter and the store. Ctrl-C
or SIGTERM stops cleanly (the adapter is saved and the run is marked stopped;
SIGTERM then exits 143); a second Ctrl-C aborts.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from distill_tui.commands.stopping import stoppable
from distill_tui.core import config as cfg
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.numbers import finite_float
from distill_tui.core.project import Workspace
from distill_tui.core.train import loraconfig, objectives
from distill_tui.core.train.checkpoints import BEST_DIR

# flag -> [train] field
_OVERRIDES = {
    "iters": int,
    "batch_size": int,
    "lora_rank": int,
    "learning_rate": finite_float,
    "num_layers": int,
    "max_seq_length": int,
    "steps_per_report": int,
    "steps_per_eval": int,
    "steps_per_save": int,
    "val_batches": int,
    "early_stopping_patience": int,
    "seed": int,
    "beta": finite_float,
    "sft_weight": finite_float,
    "pref_learning_rate": finite_float,
    "onpolicy_temperature": finite_float,
    "onpolicy_beta": finite_float,
    "onpolicy_sft_weight": finite_float,
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="fine-tune the student on the exported split",
        description="Fine-tune the student on DIR/data/{train,valid}.jsonl with mlx-lm. "
        "Flags override [train] in distill.toml for this run only.",
    )
    p.add_argument("dir", nargs="?", default=".", help="project folder (default: .)")
    p.add_argument("--preset", choices=sorted(loraconfig.PRESETS), help="start from a preset")
    for name, typ in _OVERRIDES.items():
        flag = "--patience" if name == "early_stopping_patience" else "--" + name.replace("_", "-")
        p.add_argument(flag, dest=name, type=typ, metavar="N" if typ is int else "X")
    p.add_argument(
        "--epochs",
        type=finite_float,
        help="iterations = epochs x train rows / batch size (dpo/kto: x pairs or labelled rows)",
    )
    p.add_argument(
        "--stop-on-collapse",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="dpo/kto: stop when the chosen answers' likelihood collapses and keep the"
        " checkpoint before the fall (on by default; --no-stop-on-collapse lets it run)",
    )
    p.add_argument("--fine-tune-type", choices=["lora", "dora", "full"])
    p.add_argument("--mask-prompt", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--grad-checkpoint", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument(
        "--group-by-length",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="batches of rows of similar length: less padding (off by default)",
    )
    p.add_argument(
        "--objective",
        choices=["sft", "dpo", "kto", "onpolicy"],
        help="sft on data/ (default), dpo / kto on data/pref/ from an SFT run's adapter, or"
        " onpolicy: the student's own answers to data/'s inputs scored by a local teacher",
    )
    p.add_argument(
        "--from",
        dest="from_run",
        metavar="RUN",
        help="with --objective dpo|kto: the SFT run to start from (default: the newest);"
        " with onpolicy: an SFT run to start from (default: the base student)",
    )
    p.add_argument(
        "--teacher-model",
        dest="onpolicy_teacher",
        metavar="PATH",
        help="with --objective onpolicy: the local MLX teacher, sharing the student's"
        ' vocabulary (default: [teacher] model when provider = "mlx")',
    )
    p.add_argument("--resume", metavar="RUN", help="continue a run from its last checkpoint")
    p.add_argument("--no-preflight", action="store_true", help="skip the preflight checks")
    stale = p.add_mutually_exclusive_group()
    stale.add_argument(
        "--export",
        action="store_true",
        help="export the accepted rows first when data/ is older than the store",
    )
    stale.add_argument(
        "--old-export",
        action="store_true",
        help="train on data/ as it is even when rows were accepted or edited since",
    )


def _settings(ws: Workspace, args: argparse.Namespace) -> tuple[Any, set[str]]:
    """The run's settings and the fields set for this run alone (flags), which
    a preference run's own defaults do not replace (core/train/objectives.py)."""
    from distill_tui.core import paths
    from distill_tui.core.dataset import jsonl

    train = ws.settings.train
    if args.preset:
        train = loraconfig.apply_preset(train, args.preset)
    update = {k: getattr(args, k) for k in _OVERRIDES if getattr(args, k) is not None}
    for k in (
        "fine_tune_type",
        "mask_prompt",
        "grad_checkpoint",
        "group_by_length",
        "objective",
        "stop_on_collapse",
        "onpolicy_teacher",
    ):
        if getattr(args, k) is not None:
            update[k] = getattr(args, k)
    pref = objectives.is_preference(update.get("objective", train.objective))
    if args.epochs is not None and pref:
        update["pref_epochs"] = args.epochs  # over the pairs, counted when the run starts
    elif args.epochs is not None:
        data = paths.data_dir(ws.root) / "train.jsonl"
        text = jsonl.read(data) if data.is_file() else ""
        rows = sum(1 for _, line in jsonl.split(text) if line.strip())
        bs = update.get("batch_size", train.batch_size)
        update["iters"] = loraconfig.iters_for_epochs(args.epochs, rows, bs)
    try:
        return train.replace(**update), set(update)
    except cfg.Invalid as e:
        name = str(e.first.loc[0])
        # The flag the user typed: --epochs sets a preference run's pref_epochs.
        flag = "epochs" if name == "pref_epochs" and args.epochs is not None else name
        raise UserError(f"--{flag.replace('_', '-')}: {e.first.msg}") from None


def _clock(s: float | None) -> str:
    if s is None:
        return "--:--"
    s = int(s)
    h, rem = divmod(s, 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"


def pref_line(e: Any) -> str:
    """One line per evaluation of a preference run: the task score on the
    held-out rows first, then the pairs and the guard's reading."""
    best = "  (best so far, saved to best/)" if e.best else ""
    ends = "" if e.run_on is None else f", {e.run_on:.0%} did not end"
    parts = objectives.evaluation_parts(
        task_score=e.task_score,
        start_score=e.start_score if e.iter > 1 else None,
        pair_accuracy=e.pair_accuracy,
        pairs=e.pairs,
        reward_margin=e.reward_margin,
        chosen_drift=e.chosen_drift,
        metric=e.metric,
        rows=f" on {e.task_rows} rows{ends}{best}",
    )
    return "  ".join([f"iter {e.iter:>6}", *parts])


def onpolicy_line(e: Any) -> str:
    """One line per evaluation of an on-policy run: the task score on the
    held-out rows, the held-out KL and agreement, and where the time went."""
    parts = [f"iter {e.iter:>6}"]
    if e.task_score is not None:
        best = "  (best so far, saved to best/)" if e.best else ""
        start = "" if e.start_score is None or e.iter <= 1 else f" (start {e.start_score:.3f})"
        parts.append(f"task {e.metric} {e.task_score:.3f}{start} on {e.task_rows} rows{best}")
    parts.append(f"held-out KL {e.kl:.4f} nats/token, agreement {e.agreement:.2f}")
    parts.append(
        f"time: sampling {e.sampling_s:.1f} s, teacher {e.teacher_s:.1f} s,"
        f" update {e.update_s:.1f} s"
    )
    return "  ".join(parts)


def _say_onpolicy(ws: Workspace, train: Any, from_run: str | None) -> None:
    """The teacher an on-policy run scores with and the weights it loads; the
    run's own check refuses (the vocabulary, the memory) before any work."""
    from distill_tui.engine.mlx_thread import mlx_thread
    from distill_tui.engine.train.onpolicy_batch import check_teacher
    from distill_tui.engine.train.runplan import onpolicy_start

    start, model, t = onpolicy_start(ws, train, from_run)
    check = mlx_thread().call(check_teacher, model, t.onpolicy_teacher)
    print(f"onpolicy: {check.line()}", flush=True)
    print(
        f"onpolicy: from {f'run {start.name}' if start else 'the base student, a fresh adapter'},"
        f" temperature {t.onpolicy_temperature:g}, beta {t.onpolicy_beta:g}"
        f" ({'reverse KL' if t.onpolicy_beta >= 1 else 'generalised JSD'}),"
        f" SFT term {t.onpolicy_sft_weight:g}, learning rate {t.learning_rate:g},"
        f" {t.iters} iterations",
        flush=True,
    )


class Printer:
    """Turns trainer events into one line each (rank 0 only)."""

    def __init__(self) -> None:
        self.rank = 0
        self.seen_signs: set[str] = set()

    def __call__(self, e: object) -> None:
        from distill_tui.engine.train import trainer as tr

        if isinstance(e, tr.RunStarted):
            self.rank = e.rank
            if e.rank == 0:
                how = f"resuming at iteration {e.start_iter}" if e.start_iter else "starting"
                procs = f" on {e.world_size} processes" if e.world_size > 1 else ""
                print(
                    f"run {e.run_id}: {how}, {e.iters_total} iterations{procs} ({shown(e.run_dir)})"
                )
        elif self.rank != 0:
            return
        elif isinstance(e, tr.PhaseReported):
            if e.phase not in ("training", "evaluating"):  # those print their own lines
                print(f"{e.phase}...", flush=True)
        elif isinstance(e, tr.TrainReported):
            print(
                f"iter {e.iter:>6}/{e.iters_total}  train loss {e.loss:7.4f}"
                f"  lr {e.learning_rate:.1e}  {e.it_per_sec:6.2f} it/s"
                f"  {e.tokens_per_sec:8.0f} tok/s  {e.trained_tokens} tokens"
                f"  peak {e.peak_memory_gb:.2f} GB  {_clock(e.elapsed_s)} elapsed"
                f"  eta {_clock(e.eta_s)}",
                flush=True,
            )
            self._signs(e.signs)
        elif isinstance(e, tr.ValReported):
            mark = "  (best so far, saved to best/)" if e.improved else ""
            best = f"  best {e.best_loss:.4f} at {e.best_iter}" if e.best_loss is not None else ""
            print(f"iter {e.iter:>6}  val loss {e.loss:7.4f}{best}{mark}", flush=True)
            self._signs(e.signs)
        elif isinstance(e, tr.PrefReported):
            print(pref_line(e), flush=True)
            self._signs(e.signs)
        elif isinstance(e, tr.OnPolicyReported):
            print(onpolicy_line(e), flush=True)

    def _signs(self, signs: Any) -> None:
        for s in signs:
            if s.kind not in self.seen_signs:
                self.seen_signs.add(s.kind)
                print(f"warning: {s.message}", flush=True)


def _fresh_export(ws: Workspace, args: argparse.Namespace, world_size: int, objective: str) -> None:
    """Refuse, export or warn when the export a run of `objective` reads
    (data/, or data/pref/) is older than the store: the check and the
    choices the Train screen's ctrl+r makes (export_stale.compare_for)."""
    from distill_tui.core.dataset import export_stale

    stale = export_stale.compare_for(ws.root, ws.store, objective)
    if stale is None:
        return
    where = "data/pref/" if stale.pairs else "data/"
    if args.old_export:
        print(f"warning: {stale.message(f'training on {where} as it is: --old-export')}")
        return
    if not args.export:
        cmd = f"distill-tui export {shown(args.dir)}" + (" --preferences" if stale.pairs else "")
        raise UserError(
            "not started: "
            + stale.message(
                f"`{cmd}` exports them; --export exports first, --old-export trains on"
                f" {where} as it is"
            )
        )
    if world_size > 1:
        raise UserError("--export under mlx.launch: export first, then launch the run")
    from distill_tui.core.curate.preferences import export_for_run

    print(stale.message("--export: exporting first"))
    said = export_for_run(ws.root, ws.store, ws.settings, objective)
    print(f"exported {said}", flush=True)


def _say_pairs(ws: Workspace, train: Any, explicit: set[str]) -> None:
    """What the preference stage will train on, from the last export, and
    with which of its own settings."""
    import json

    from distill_tui.core import paths
    from distill_tui.engine.train.runplan import pref_rows

    objective = train.objective
    manifest = paths.pref_dir(ws.root) / "pref.json"
    try:
        m = json.loads(manifest.read_text(encoding="utf-8"))
        c, src = m["counts"], m["by_source"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # train_run names the missing export
    if objective == "dpo":
        kinds = ", ".join(f"{n} {k}" for k, n in src.items() if n)
        print(
            f"{objective}: {c['train']} training pairs ({kinds or 'none'} in all),"
            f" {c['valid']} validation pairs"
        )
    else:
        print(f"kto: {c['kto_train']} labelled training rows, {c['valid']} validation pairs")
    rows = pref_rows(paths.pref_dir(ws.root), objective)
    t = objectives.effective(train, rows, explicit)
    print(
        f"{objective}: learning rate {t.learning_rate:g}, {t.iters} iterations"
        f" ({t.iters * t.batch_size / max(rows, 1):.1f} epochs), SFT term {t.sft_weight:g},"
        f" beta {t.beta:g}, evaluation every {t.steps_per_eval} steps, collapse guard"
        f" {'on' if t.stop_on_collapse else 'off'}"
    )


def run(args: argparse.Namespace) -> int:
    ws = Workspace.open(args.dir)
    if args.resume and args.export:
        raise UserError("--export with --resume: a resumed run keeps the split it started on")
    from distill_tui.engine.mlx_thread import mlx_thread
    from distill_tui.engine.train import trainer as tr

    rank, size = mlx_thread().call(tr._world)
    train, explicit = _settings(ws, args)
    sft = train.objective == "sft"
    if args.from_run and (sft or args.resume):
        raise UserError("--from goes with --objective dpo or kto (or onpolicy) on a new run")
    onpolicy = train.objective == objectives.ONPOLICY
    if args.onpolicy_teacher and (not onpolicy or args.resume):
        raise UserError("--teacher-model goes with --objective onpolicy on a new run")
    if rank == 0 and not args.resume:
        _fresh_export(ws, args, size, train.objective)
    if onpolicy and not args.resume and rank == 0:
        _say_onpolicy(ws, train, args.from_run)
    elif not sft and not args.resume:
        _say_pairs(ws, train, explicit)
    if rank == 0 and not args.no_preflight and not args.resume and sft:
        from distill_tui.engine.train.measure import preflight

        pf = preflight(ws, train)
        print(
            f"preflight: {pf.rows} training rows, longest {pf.longest} tokens;"
            f" estimated peak memory {pf.estimate_gb:.2f} GB of {pf.machine_gb:.0f} GB"
        )
        for e in pf.errors:
            print(f"error: {e}")
        for p in pf.problems:
            print(f"warning: {p}")
        for s in pf.suggestions:
            print(f"  suggestion: {s}")
        if pf.errors:
            more = f" (and {len(pf.errors) - 1} more above)" if len(pf.errors) > 1 else ""
            raise UserError(
                f"not started: {pf.errors[0]}{more}; training would fail at the start"
                " (--no-preflight skips this check)"
            )
    stop = threading.Event()
    with stoppable(stop, "stopping after this step (Ctrl-C again to abort)"):
        done = tr.train_run(
            ws,
            train,
            resume=args.resume,
            stop=stop,
            listener=Printer(),
            from_run=args.from_run,
            explicit=explicit,
        )
    if done.world_size > 1:
        rows = done.rows_trained
        print(
            f"rank {done.rank}/{done.world_size}: trained on {len(rows)} rows:"
            f" {','.join(map(str, rows))}",
            flush=True,
        )
    if done.rank == 0:
        # A preference (or on-policy) run's best/ follows the task score.
        from distill_tui.core.train import runs as runs_db

        record = runs_db.get_run(ws.store, done.run_id)
        objective = (record.config if record else {}).get("train", {}).get("objective", "sft")
        by = "best on the task" if objective != "sft" else "best val loss"
        value = "" if objective != "sft" else f" {done.best_val_loss:.4f}"
        best = (
            f"; {by}{value} at iteration {done.best_iter} in {done.run_dir / BEST_DIR}"
            if done.best_val_loss is not None and done.best_iter is not None
            else ""
        )
        status = done.status.replace("_", " ")
        print(f"{status} at iteration {done.iter}: adapter in {shown(done.run_dir)}{shown(best)}")
        if done.note:
            print(shown(done.note), flush=True)
    return 0
