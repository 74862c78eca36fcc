"""Prepare a training run before any MLX work: find the exported split, hash
it, pick or reopen the run folder, and write the run's record (config.json,
dataset.sha256) and its settings for mlx_lm.lora (lora.yaml, command.txt).
Only rank 0 writes; other distributed ranks only read."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill_tui.core import config as cfg
from distill_tui.core import paths
from distill_tui.core.dataset import jsonl
from distill_tui.core.dataset.export import verify_split
from distill_tui.core.errors import UserError
from distill_tui.core.evaluate import split_overlap
from distill_tui.core.project import Workspace
from distill_tui.core.train import loraconfig, objectives
from distill_tui.core.train import runs as runs_db
from distill_tui.engine.train import checkpoint as ckpt


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    run_dir: Path
    model: str
    data_dir: Path
    train: cfg.Train
    dataset_hash: str
    resume_from: Path | None  # checkpoint folder
    rank: int
    world_size: int
    from_run: Path | None = None  # a preference run: the SFT run it starts from

    @property
    def adapter_config(self) -> dict[str, Any]:
        return loraconfig.lora_settings(
            self.train, self.model, str(self.data_dir), str(self.run_dir)
        )

    @property
    def checkpoint_every(self) -> int:
        """steps_per_save rounded up to whole report windows, so a resumed
        run's loss averages cover the same steps as an uninterrupted run's."""
        r = self.train.steps_per_report
        return max(r, -(-self.train.steps_per_save // r) * r)


def data_files(objective: str) -> tuple[str, ...]:
    """The files a run of this objective reads from its data folder."""
    if objective == "kto":
        return ("kto_train.jsonl", "valid.jsonl")  # validated on the held-out pairs
    return ("train.jsonl", "valid.jsonl")


def pref_rows(data_dir: Path, objective: str) -> int:
    """Training pairs (dpo) or labelled rows (kto) in the preference export."""
    path = data_dir / data_files(objective)[0]
    if not path.is_file():
        return 0
    return sum(1 for _, line in jsonl.split(jsonl.read(path)) if line.strip())


def run_data_dir(ws: Workspace, objective: str) -> Path:
    return (
        paths.data_dir(ws.root)
        if objectives.reads_sft_split(objective)
        else paths.pref_dir(ws.root)
    )


def dataset_hash(data_dir: Path, objective: str = "sft") -> str:
    h = hashlib.sha256()
    for name in data_files(objective):
        p = data_dir / name
        h.update(name.encode())
        h.update(p.read_bytes() if p.is_file() else b"")
    return h.hexdigest()


def resolve_model(ws: Workspace) -> str:
    """A path relative to the project folder, or a Hugging Face repo id."""
    return paths.resolve_model(ws.root, ws.settings.student.model)


def plan_run(
    ws: Workspace,
    train: cfg.Train | None = None,
    *,
    resume: str | None = None,
    rank: int = 0,
    world_size: int = 1,
    from_run: str | None = None,
    explicit: Iterable[str] = (),
) -> RunPlan:
    """`explicit`: the [train] fields set for this run alone (command-line
    flags), which a preference run's own defaults do not replace."""
    if resume:
        return _plan_resume(ws, train, resume, rank, world_size)
    train = train or ws.settings.train
    data_dir = _check_data(ws, train.objective)
    digest = dataset_hash(data_dir, train.objective)
    model, from_dir = resolve_model(ws), None
    if objectives.is_preference(train.objective):
        from_dir, model, train = _from_sft(ws, train, from_run)
        rows = pref_rows(data_dir, train.objective)
        train = objectives.effective(train, rows, explicit)
    elif train.objective == objectives.ONPOLICY:
        from_dir, model, train = onpolicy_start(ws, train, from_run)
    run_id = runs_db.new_run_id()
    run_dir = paths.run_dir(ws.root, run_id)
    plan = RunPlan(
        run_id, run_dir, model, data_dir, train, digest, None, rank, world_size, from_dir
    )
    if rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
        _write_run_files(plan)
        runs_db.create_run(ws.store, run_id, _config(plan), digest, train.iters)
    return plan


def _check_data(ws: Workspace, objective: str) -> Path:
    data_dir = run_data_dir(ws, objective)
    if not objectives.reads_sft_split(objective):
        name = data_files(objective)[0]
        rows = (
            (data_dir / name).read_text(encoding="utf-8").strip()
            if (data_dir / name).is_file()
            else ""
        )
        if not rows:
            raise UserError(
                f"{data_dir / name}: no preference data exported; edit, or reject and"
                " regenerate, rows on the Curate screen, then `distill-tui export DIR"
                " --preferences`"
            )
        return data_dir
    if not (data_dir / "train.jsonl").is_file():
        raise UserError(
            f"{data_dir / 'train.jsonl'}: no exported training split; accept rows and "
            "export the split first (Curate screen, or `distill-tui export`)"
        )
    verify_split(data_dir)
    return data_dir


# LoRA settings a preference run takes from its SFT run: the adapter's shape.
_ADAPTER_SHAPE = ("fine_tune_type", "num_layers", "lora_rank", "lora_scale", "lora_dropout")


def newest_sft_run(ws: Workspace, what: str) -> str:
    """The newest finished (or stopped) SFT run with an adapter; `what` names
    the action that needs one in the refusal."""
    found = [
        r
        for r in runs_db.list_runs(ws.store)
        if r.config.get("train", {}).get("objective", "sft") == "sft"
        and (paths.run_dir(ws.root, r.id) / ckpt.ADAPTER_FILE).is_file()
        and r.status in ("finished", "early_stopped", "stopped")
    ]
    if not found:
        raise UserError(
            f"{what}: no finished SFT run with an adapter here; train one first"
            " (`distill-tui train DIR`, or ctrl+r on the Train screen)"
        )
    return found[0].id


def _from_sft(ws: Workspace, train: cfg.Train, from_run: str | None) -> tuple[Path, str, cfg.Train]:
    """The SFT run a preference run starts from (the newest finished one when
    none is named): its folder, its student and its adapter's shape."""
    if from_run in (None, "latest"):
        from_run = newest_sft_run(ws, f"--objective {train.objective}")
    run = runs_db.get_run(ws.store, from_run)
    folder = paths.run_dir(ws.root, from_run)
    if run is None or not (folder / ckpt.ADAPTER_FILE).is_file():
        raise UserError(f"--from {from_run}: no run with an adapter in {paths.runs_dir(ws.root)}")
    sft = run.config.get("train", {})
    if sft.get("objective", "sft") != "sft":
        raise UserError(f"--from {from_run}: a {sft['objective']} run, not an SFT run")
    shape = {k: sft[k] for k in _ADAPTER_SHAPE if k in sft}
    return folder, str(run.config.get("model", resolve_model(ws))), train.replace(**shape)


def onpolicy_teacher(ws: Workspace, given: str) -> str:
    """The local MLX teacher an on-policy run scores with: `given` (the
    [train] onpolicy_teacher or --teacher-model), else the project's teacher
    when its provider is "mlx"; a hosted teacher gives no log-probabilities."""
    if given:
        return paths.resolve_model(ws.root, given)
    teacher = ws.settings.teacher
    if teacher.provider == "mlx":
        return paths.resolve_model(ws.root, teacher.model)
    if teacher.provider == "anthropic":
        raise UserError(
            "--objective onpolicy needs the teacher's log-probabilities, which the Anthropic"
            " API does not give: pass --teacher-model PATH (a local MLX model sharing the"
            " student's vocabulary), or use `distill-tui pairs --from RUN` (the student's"
            " mistakes as preference pairs, the on-policy route any teacher can take)"
        )
    raise UserError(
        f"--objective onpolicy scores with a local MLX teacher, not the {teacher.provider}"
        ' server: pass --teacher-model PATH, or set [teacher] provider = "mlx" and its model'
        " in distill.toml"
    )


def onpolicy_start(
    ws: Workspace, train: cfg.Train, from_run: str | None
) -> tuple[Path | None, str, cfg.Train]:
    """An on-policy run starts from an SFT run's adapter (`from_run`) or, with
    none, from the base student with a fresh adapter; its teacher is resolved
    now and recorded in the run's settings, so a resume scores with the same."""
    from_dir, model = None, resolve_model(ws)
    if from_run:
        from_dir, model, train = _from_sft(ws, train, from_run)
    return (
        from_dir,
        model,
        train.replace(onpolicy_teacher=onpolicy_teacher(ws, train.onpolicy_teacher)),
    )


def _config(plan: RunPlan) -> dict[str, Any]:
    return {
        "from_run": plan.from_run.name if plan.from_run else None,
        "model": plan.model,
        "data": str(plan.data_dir),
        "dataset_hash": plan.dataset_hash,
        "world_size": plan.world_size,
        "train": plan.train.to_dict(),
    }


def write_lora_yaml(plan: RunPlan, model: str | None = None) -> None:
    """`model`: what mlx_lm.lora should load instead of `plan.model` (the
    converted folder of a GGUF student, which mlx-lm cannot read itself)."""
    d = plan.run_dir
    rerun = loraconfig.rerun_settings(plan.train, model or plan.model, str(plan.data_dir), str(d))
    (d / "lora.yaml").write_text(loraconfig.to_yaml(rerun), encoding="utf-8")


def _write_run_files(plan: RunPlan) -> None:
    d = plan.run_dir
    (d / "config.json").write_text(json.dumps(_config(plan), indent=2), encoding="utf-8")
    write_lora_yaml(plan)
    (d / "command.txt").write_text(
        loraconfig.command(str(d / "lora.yaml")) + "\n", encoding="utf-8"
    )
    (d / "dataset.sha256").write_text(plan.dataset_hash + "\n", encoding="utf-8")
    # The hash says the split changed; these say which rows it trained on.
    split_overlap.record_training_inputs(d, plan.data_dir)


def _plan_resume(
    ws: Workspace,
    train: cfg.Train | None,
    resume: str,
    rank: int,
    world_size: int,
) -> RunPlan:
    if resume == "latest":
        latest = runs_db.latest_run(ws.store)
        if latest is None:
            raise UserError("no run to resume yet")
        resume = latest.id
    run = runs_db.get_run(ws.store, resume)
    run_dir = paths.run_dir(ws.root, resume)
    if run is None or not (run_dir / "config.json").is_file():
        raise UserError(f"no run {resume!r} in {paths.runs_dir(ws.root)}")
    if run.status == "running":
        raise UserError(f"run {resume} is still running (process {run.pid})")
    saved = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    objective = saved["train"].get("objective", "sft")
    data_dir = _check_data(ws, objective)
    digest = dataset_hash(data_dir, objective)
    if saved.get("dataset_hash") != digest:
        raise UserError(
            f"the exported split changed since run {resume} started; resuming would "
            "train on different data (start a new run instead)"
        )
    settings = cfg.Train.parse(saved["train"])
    if train is not None and train.iters != settings.iters:
        # Only the length may change: anything else would not be the same run.
        settings = settings.replace(iters=train.iters)
    found = ckpt.latest_checkpoint(run_dir)
    start = int(found.name) if found else 0
    if start >= settings.iters:
        raise UserError(
            f"run {resume} already reached iteration {start} of {settings.iters}; "
            "pass --iters with a larger number to train it further"
        )
    sft = saved.get("from_run")
    from_dir = paths.run_dir(ws.root, sft) if sft else None
    plan = RunPlan(
        resume,
        run_dir,
        saved["model"],
        data_dir,
        settings,
        digest,
        found,
        rank,
        world_size,
        from_dir,
    )
    if rank == 0:
        _write_run_files(plan)
        runs_db.forget_after(ws.store, resume, start)
        runs_db.update_run(
            ws.store,
            resume,
            status="running",
            error=None,
            pid=os.getpid(),
            iters_total=settings.iters,
        )
    return plan
