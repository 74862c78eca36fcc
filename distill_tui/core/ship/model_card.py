"""The fused model's README.md: Hugging Face model-card front matter
(`huggingface_hub.ModelCard.load` parses it) and a body that says what the
student was distilled from, by whom, on what data, and how it scored."""

from __future__ import annotations

from typing import Any

import yaml

from distill_tui.core.ship.provenance import UNKNOWN, Provenance
from distill_tui.core.ship.terms import NOT_ADVICE


def front_matter(prov: Provenance) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if prov.base_model:
        meta["base_model"] = prov.base_model
        meta["base_model_relation"] = "finetune"
    meta["library_name"] = "mlx"
    if prov.passes_on:
        # A teacher's terms pass on to the student: its licence is not only the base's.
        meta["license"] = "other"
        meta["license_name"] = prov.passes_on
    elif prov.student_license != UNKNOWN:
        meta["license"] = prov.student_license
    meta["pipeline_tag"] = "text-generation"
    meta["tags"] = ["mlx", "distillation", "distill-tui"]
    return meta


def _table(rows: list[list[str]]) -> list[str]:
    head, *body = rows
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += [
        "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in r) + " |" for r in body
    ]
    return out


def render(prov: Provenance, name: str) -> str:
    """The whole README.md for a fused model folder called `name`."""
    lines = ["---", yaml.safe_dump(front_matter(prov), sort_keys=False).rstrip(), "---", ""]
    lines += [f"# {name}", ""]
    lines += [
        f"A student distilled with distill-tui for the task **{prov.task}**, fused from "
        f"run `{prov.run_id}` ({prov.checkpoint}) into `{prov.base_model or prov.student}`.",
        "",
        "## Task",
        "",
        "```text",
        prov.instructions.strip() or "(no instructions)",
        "```",
        "",
        "## Student",
        "",
        f"- model: `{prov.student}`",
        f"- base model: `{prov.base_model or 'unknown'}` (from {prov.base_model_source})",
        f"- licence: {prov.student_license} (from {prov.license_source})",
        "",
        "## Teachers",
        "",
    ]
    exported = sum(prov.split.values())
    lines += _table(
        [["teacher", "endpoint", "rows answered", "rows exported", "dates"]]
        + [
            [
                t.teacher,
                t.endpoint,
                str(t.rows),
                str(t.exported),
                f"{t.first} to {t.last}" if t.first else "-",
            ]
            for t in prov.teachers
        ]
    )
    lines += ["", f"The teachers' exported rows add up to the {exported} exported rows.", ""]
    lines += ["### What the teachers' terms say", "", f"_{NOT_ADVICE}._", ""]
    lines += [f"- {t.teacher}: {t.terms}" for t in prov.teachers] or ["- no teacher"]
    c = prov.curation
    lines += [
        "",
        "## Data",
        "",
        f"- curated by hand: {c['accepted']} accepted ({c['edited']} of them edited), "
        f"{c['rejected']} rejected; {c['synthesized']} inputs synthesized by the teacher",
        "- split: " + (", ".join(f"{k} {v}" for k, v in prov.split.items()) or "not exported"),
        f"- dataset sha256: `{prov.dataset_hash or 'unknown'}`"
        + ("" if prov.split_is_runs else " (the current export is not the run's)"),
        "",
        "## Training",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in prov.training.items()] or ["- not recorded"]
    lines += ["", "## Evaluation", ""]
    ev = prov.evaluation
    if ev:
        lines.append(f"On {ev['rows']} held-out rows of the {ev['split']} split:")
        lines.append("")
        names = sorted(set(ev.get("base", {})) | set(ev.get("adapter", {})))
        lines += _table(
            [["metric", "base", "distilled"]]
            + [
                [
                    m,
                    f"{ev.get('base', {}).get(m, float('nan')):.3f}",
                    f"{ev.get('adapter', {}).get(m, float('nan')):.3f}",
                ]
                for m in names
            ]
        )
    else:
        lines.append("Not evaluated before fusing.")
    return "\n".join(lines) + "\n"
