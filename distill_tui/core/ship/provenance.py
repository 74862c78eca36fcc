"""Where a student came from: the teachers that wrote its data (provider,
model, endpoint, rows, dates), what the curator did, the split it trained on,
its settings, its evaluation, and the student's own licence and base model,
read from what is on disk and never guessed.

`gather` collects the facts for a run's checkpoint; `core.model_card` writes
them as the fused model's README.md, and fuse writes them as JSON to
`runs/<id>/provenance.json` and beside the fused model.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from distill_tui.core import gguf_header, gguf_origin, paths
from distill_tui.core.config import Project
from distill_tui.core.dataset import dataset_hash
from distill_tui.core.evaluate import evals, lineage
from distill_tui.core.project import Workspace
from distill_tui.core.ship import terms
from distill_tui.core.store import Store

UNKNOWN = "unknown"
NO_TEACHER = "none (the output came with the input)"
DEFAULT_HOSTS = {"anthropic": "api.anthropic.com", "openai": "api.openai.com"}
# A GGUF file name's quantization suffix: SmolLM2-135M-Instruct.Q4_1.gguf
_QUANT_SUFFIX = re.compile(r"[.-](?:[iI]?[QqFf]\d[\w]*|BF16|bf16|f32|F32)$")


@dataclass
class TeacherUse:
    teacher: str  # as stored with each answer: "anthropic:claude-sonnet-4-6"
    provider: str
    model: str
    endpoint: str  # a host, "in-process", "recorded for this project" or "not recorded"
    rows: int  # rows whose kept answer is this teacher's
    exported: int  # of those, rows in the exported split
    first: str | None  # date of its first and last answer (UTC)
    last: str | None
    terms: str  # teacher_terms_line


@dataclass
class Provenance:
    task: str
    instructions: str
    student: str
    student_license: str
    license_source: str
    base_model: str | None
    base_model_source: str
    teachers: list[TeacherUse]
    curation: dict[str, int]  # accepted, edited, rejected, synthesized
    split: dict[str, int]  # rows per exported split
    dataset_hash: str | None
    split_is_runs: bool  # the current export is the one the run trained on
    run_id: str | None = None
    checkpoint: str | None = None
    training: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] | None = None
    passes_on: str | None = None  # a licence a teacher's terms pass on

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def endpoint_of(teacher: str, settings: Project) -> str:
    """Where the answers came from. Only the configured teacher's endpoint is
    known; answers from an earlier teacher setting say so."""
    provider = teacher.split(":", 1)[0]
    if provider == "recorded":
        return "recorded for this project"
    current = f"{settings.teacher.provider}:{settings.teacher.model}"
    if teacher != current:
        return "not recorded"
    if provider == "mlx":
        return "in-process"
    url = settings.teacher.base_url
    host = urlparse(url).hostname if url else DEFAULT_HOSTS.get(provider)
    return host or "not recorded"


def _day(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat()


def teacher_uses(store: Store, settings: Project, exported: set[int]) -> list[TeacherUse]:
    """Each teacher's share of the kept answers; rows in `exported` counted
    apart, so the teachers' `exported` add up to the exported rows."""
    found: dict[str, dict[str, Any]] = {}
    rows = store.conn.execute(
        "SELECT r.id, g.teacher, g.created_at FROM rows r"
        " LEFT JOIN generations g ON g.id = r.generation_id"
        " WHERE r.status = 'done' AND r.output IS NOT NULL"
    )
    for row_id, teacher, at in rows:
        name = teacher or NO_TEACHER
        f = found.setdefault(name, {"rows": 0, "exported": 0, "first": None, "last": None})
        f["rows"] += 1
        f["exported"] += row_id in exported
        if at is not None:
            f["first"] = at if f["first"] is None else min(f["first"], at)
            f["last"] = at if f["last"] is None else max(f["last"], at)
    out = []
    for name, f in sorted(found.items(), key=lambda kv: -kv[1]["rows"]):
        provider, _, model = name.partition(":") if name != NO_TEACHER else ("", "", "")
        if provider == "recorded":
            line = "answers recorded for this project; no teacher was asked"
        elif name == NO_TEACHER:
            line = "no teacher wrote these outputs"
        else:
            base_url = settings.teacher.base_url if provider == settings.teacher.provider else None
            line = terms.teacher_terms_line(provider, model, base_url)
        out.append(
            TeacherUse(
                name,
                provider,
                model,
                endpoint_of(name, settings) if name != NO_TEACHER else "-",
                f["rows"],
                f["exported"],
                # A recorded answer's date is when the project was made, not
                # when anyone answered: no date is given for it.
                None if provider == "recorded" else _day(f["first"]),
                None if provider == "recorded" else _day(f["last"]),
                line,
            )
        )
    return out


def curation_counts(store: Store) -> dict[str, int]:
    """The current decisions, and the history behind them: a row rejected,
    regenerated and then accepted is one accepted row now, and one rejection
    and one regeneration in its history (undone actions do not count)."""
    rejections = regenerations = reject_regenerate_accept = 0
    state: dict[int, tuple[bool, bool]] = {}  # row -> (rejected, then regenerated)
    for row_id, kind, after in store.conn.execute(
        "SELECT row_id, kind, after FROM events"
        " WHERE kind IN ('decision', 'regenerate') ORDER BY id"
    ):
        rejected, regenerated = state.get(row_id, (False, False))
        if kind == "regenerate":
            regenerations += 1
            state[row_id] = (rejected, rejected)
            continue
        try:
            decision = json.loads(after).get("decision")
        except (ValueError, AttributeError):
            continue
        if decision == "rejected":
            rejections += 1
            state[row_id] = (True, False)
        elif decision == "accepted":
            reject_regenerate_accept += regenerated
            state[row_id] = (False, False)
    counts = _current_decisions(store)
    return counts | {
        "rejections": rejections,
        "regenerations": regenerations,
        "reject_regenerate_accept": reject_regenerate_accept,
    }


def _current_decisions(store: Store) -> dict[str, int]:
    row = store.conn.execute(
        "SELECT"
        " COALESCE(SUM(decision = 'accepted'), 0),"
        " COALESCE(SUM(decision = 'accepted' AND edited = 1), 0),"
        " COALESCE(SUM(decision = 'rejected'), 0),"
        " COALESCE(SUM(origin = 'synth'), 0)"
        " FROM rows"
    ).fetchone()
    return {"accepted": row[0], "edited": row[1], "rejected": row[2], "synthesized": row[3]}


def front_matter(readme: Path) -> dict[str, Any]:
    """The YAML front matter of a model card, or {} when there is none."""
    import yaml

    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    try:
        data = yaml.safe_load(text[3:end]) if end > 0 else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _gguf_general(path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        for key, value in gguf_header.items(path):
            if key.startswith("general."):
                out[key] = value
            elif out and not key.startswith("general."):
                break  # general.* come first
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return out


def _gguf_facts(licence: Any, org: Any, file_name: str) -> tuple[str, str, str | None, str]:
    stem = _QUANT_SUFFIX.sub("", Path(file_name).stem)
    base = f"{org}/{stem}" if isinstance(org, str) and org else None
    return (
        licence if isinstance(licence, str) and licence else UNKNOWN,
        "the GGUF's general.license" if licence else "the GGUF says nothing",
        base,
        "the GGUF's general.organization and file name" if base else "not on disk",
    )


def student_facts(root: Path, model: str) -> tuple[str, str, str | None, str]:
    """(licence, where it was read, base model or None, where that was read).
    A GGUF's converted folder answers for its file: from the file when it is
    still here, else from what its `source.json` kept."""
    gguf = gguf_origin.origin_gguf(root, model)
    if gguf is not None:
        general = _gguf_general(gguf)
        return _gguf_facts(
            general.get("general.license"), general.get("general.organization"), gguf.name
        )
    resolved = Path(paths.resolve_model(root, model))
    info = gguf_origin.converted_source(resolved) if resolved.is_dir() else None
    if info is not None:
        return _gguf_facts(info.get("license"), info.get("organization"), info["gguf"])
    folder = paths.local_model_dir(str(resolved) if resolved.exists() else model)
    card = front_matter(folder / "README.md") if folder is not None else {}
    licence = card.get("license")
    base = card.get("base_model")
    if isinstance(base, list):
        base = base[0] if base else None
    hub_id = model if "/" in model and not Path(model).expanduser().exists() else None
    if not isinstance(base, str) or not base:
        base, base_source = hub_id, "the student's hub id" if hub_id else "not on disk"
    else:
        base_source = "the student's model card (base_model)"
    return (
        licence if isinstance(licence, str) and licence else UNKNOWN,
        "the student's model card" if licence else "no model card on this machine",
        base,
        base_source,
    )


def _split_manifest(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((paths.data_dir(root) / "split.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _run_dataset_hash(root: Path, run_id: str) -> str | None:
    try:
        return (paths.run_dir(root, run_id) / "dataset.sha256").read_text().strip() or None
    except OSError:
        return None


def _current_dataset_hash(root: Path) -> str:
    return dataset_hash.of_folder(paths.data_dir(root))


def run_student(ws: Workspace, run_id: str) -> str:
    """The model a run trained on, as its record says (the runs table, else
    the run folder's adapter_config.json); the project's student setting
    only when neither does. Said as the setting says it when it is the
    same model, and relative to the project when inside it."""
    from distill_tui.core.train import runs as runs_db

    current = ws.settings.student.model
    run = runs_db.get_run(ws.store, run_id)
    model = run.config.get("model") if run is not None else None
    if not isinstance(model, str) or not model:
        try:
            config = json.loads(
                (paths.run_dir(ws.root, run_id) / "adapter_config.json").read_text("utf-8")
            )
            model = config.get("model") if isinstance(config, dict) else None
        except (OSError, ValueError):
            model = None
    if not isinstance(model, str) or not model:
        return current
    if model in (current, paths.resolve_model(ws.root, current)):
        return current
    try:
        return Path(model).relative_to(ws.root.resolve()).as_posix()
    except ValueError:
        return model


def _pairs_by_source(root: Path, run_hash: str | None, objective: str) -> dict[str, int] | None:
    """A preference run's pairs by where they came from (edit, regen,
    student), from data/pref/pref.json when that export is still the run's
    (its hash is the run's `dataset.sha256`); None when it is not, or unread."""
    from distill_tui.core.curate.preferences import MANIFEST

    if run_hash is not None and run_hash != lineage.current_data_hash(root, objective):
        return None
    try:
        data = json.loads((paths.pref_dir(root) / MANIFEST).read_text(encoding="utf-8"))
        by_source = data["by_source"]
        return {str(k): int(v) for k, v in by_source.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _run_config(ws: Workspace, run_id: str) -> dict[str, Any]:
    from distill_tui.core.train import runs as runs_db

    run = runs_db.get_run(ws.store, run_id)
    return run.config if run is not None else {}


def gather(ws: Workspace, run_id: str | None = None, checkpoint: str | None = None) -> Provenance:
    """The facts for a run's checkpoint (or for the project, without one)."""
    s = ws.settings
    manifest = _split_manifest(ws.root)
    row_ids = manifest.get("row_ids") if isinstance(manifest.get("row_ids"), dict) else {}
    exported = {int(i) for ids in (row_ids or {}).values() for i in ids}
    split = {k: len(v) for k, v in (row_ids or {}).items() if v}
    run_hash = _run_dataset_hash(ws.root, run_id) if run_id else None
    split_is_runs = run_hash is None or run_hash == _current_dataset_hash(ws.root)
    if run_id and not split_is_runs:
        # A preference run hashed data/pref/, not data/.
        lin = lineage.of_config(_run_config(ws, run_id))
        split_is_runs = run_hash == lineage.current_data_hash(ws.root, lin.objective)
    student = run_student(ws, run_id) if run_id else s.student.model
    licence, licence_source, base, base_source = student_facts(ws.root, student)
    teachers = teacher_uses(ws.store, s, exported)
    passes = [
        t.passes_on
        for u in teachers
        if (t := terms.terms_for(u.provider, u.model)) is not None and t.passes_on
    ]
    training: dict[str, Any] = {}
    evaluation = None
    if run_id is not None:
        from distill_tui.core.train import runs as runs_db

        run = runs_db.get_run(ws.store, run_id)
        if run is not None:
            train = run.config.get("train") or {}
            training = {
                k: train.get(k)
                for k in (
                    "fine_tune_type",
                    "iters",
                    "batch_size",
                    "learning_rate",
                    "num_layers",
                    "lora_rank",
                    "max_seq_length",
                    "mask_prompt",
                )
                if k in train
            }
            training |= {"iterations_done": run.iter, "best_val_loss": run.best_val_loss}
            lin = lineage.of_config(run.config)
            training |= {"objective": lin.objective, "parent_run": lin.parent or "base model"}
            if lin.teacher:
                training["teacher"] = lin.teacher  # an on-policy run's, by name
            if lin.preference:
                training |= {"beta": lin.beta, "sft_weight": lin.sft_weight}
                training["pairs_by_source"] = _pairs_by_source(ws.root, run_hash, lin.objective)
        result = evals.latest(ws.store, run_id, checkpoint)
        if result is not None:
            evaluation = result.to_json(items=False)
    return Provenance(
        task=s.task.name,
        instructions=s.task.instructions,
        student=student,
        student_license=licence,
        license_source=licence_source,
        base_model=base,
        base_model_source=base_source,
        teachers=teachers,
        curation=curation_counts(ws.store),
        split=split,
        dataset_hash=run_hash or manifest.get("dataset_hash"),
        split_is_runs=split_is_runs,
        run_id=run_id,
        checkpoint=checkpoint,
        training=training,
        evaluation=evaluation,
        passes_on=passes[0] if passes else None,
    )


def read_json(folder: Path) -> Provenance | None:
    """The provenance.json fuse wrote beside a fused model, or None."""
    try:
        data = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
        data["teachers"] = [TeacherUse(**t) for t in data["teachers"]]
        return Provenance(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def write_json(prov: Provenance, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(prov.to_json(), indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)


@dataclass
class TermsSummary:
    """What `status`, the fuse dialog and the Ship dialog say before a model
    leaves: the student's licence and each teacher's terms line."""

    student_license: str
    license_source: str
    teachers: dict[str, str]  # "provider:model" -> teacher_terms_line


def terms_summary(ws: Workspace) -> TermsSummary:
    """Every teacher that answered a row, and the one set now."""
    licence, licence_source, _, _ = student_facts(ws.root, ws.settings.student.model)
    lines = {u.teacher: u.terms for u in teacher_uses(ws.store, ws.settings, set())}
    t = ws.settings.teacher
    current = f"{t.provider}:{t.model}"
    if current not in lines:
        lines[current] = terms.teacher_terms_line(t.provider, t.model, t.base_url)
    return TermsSummary(licence, licence_source, lines)
