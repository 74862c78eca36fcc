"""The fused model's README.md: Hugging Face model-card front matter
(`huggingface_hub.ModelCard.load` parses it) and a body that says what the
student was distilled from, by whom, on what data, and how it scored."""

from __future__ import annotations

from typing import Any

import yaml

from distill_tui.core.curate.preferences import sources_text
from distill_tui.core.dataset import dataset_hash
from distill_tui.core.evaluate import general
from distill_tui.core.evaluate.compare import PARENT_NAMES, WORSE
from distill_tui.core.ship.provenance import UNKNOWN, Provenance, TeacherUse
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


_SHOWN = {"base": "base", "sft": "SFT start", "adapter": "distilled"}


def _evaluation(ev: dict[str, Any] | None) -> list[str]:
    """Every model compared (base, the SFT start of a preference run, this
    one) with 95% intervals, the verdict against the parent, the flips, and
    in words when this model is worse than where it started."""
    if not ev:
        return ["Not evaluated before fusing."]
    models = [w for w in _SHOWN if ev.get(w)]
    ci = ev.get("ci") or {}
    lines = [f"On {ev['rows']} held-out rows of the {ev['split']} split ({ev['checkpoint']}):", ""]

    def cell(who: str, metric: str) -> str:
        value = ev[who].get(metric)
        if value is None:
            return "-"
        lo_hi = ci.get(who, {}).get(metric)
        return f"{value:.3f} ({lo_hi[0]:.2f}-{lo_hi[1]:.2f})" if lo_hi else f"{value:.3f}"

    names = list(dict.fromkeys(m for w in models for m in ev[w]))
    lines += _table(
        [["metric", *(_SHOWN[w] for w in models)]]
        + [[m, *(cell(w, m) for w in models)] for m in names]
    )
    if ci:
        lines += ["", f"In brackets: the {ev.get('ci_method', '95% interval')}."]
    paired, flips = ev.get("paired"), ev.get("flips")
    if paired and flips:
        lines += ["", f"**Verdict: {paired['line']}.**", ""]
        lines.append(
            f"Rows against {PARENT_NAMES.get(flips['vs'], flips['vs'])}: fixed {flips['fixed']},"
            f" regressed {flips['regressed']}, kept {flips['kept']},"
            f" still wrong {flips['still_wrong']}."
        )
        if paired["verdict"] == WORSE:
            lines += [
                "",
                f"**This model is worse than {PARENT_NAMES.get(flips['vs'], flips['vs'])}**:"
                " it answers fewer held-out rows right than the model it was trained from,"
                " by more than the noise of this many rows.",
            ]
    else:
        lines += ["", "No verdict: the model it was trained from was not evaluated beside it."]
    return lines + _forgetting(ev)


def _forgetting(ev: dict[str, Any]) -> list[str]:
    """The general perplexity of the base and this model (lower is better),
    and in words when it rose beyond `general.WARN_RISE`."""
    ppl = ev.get("general_perplexity") or {}
    said = general.line(ppl, int(ev.get("general_tokens") or 0))
    if said is None:
        return []
    lines = ["", f"Forgetting check: {said} (lower is better)."]
    if warning := general.warning(ppl):
        lines += ["", f"**Warning: {warning}.**"]
    return lines


def _dates(t: TeacherUse) -> str:
    if t.provider == "recorded":
        return "recorded"  # answers that came with the project, not asked for
    return f"{t.first} to {t.last}" if t.first else "-"


def _curation(c: dict[str, int]) -> str:
    line = (
        f"- curated by hand: {c['accepted']} accepted ({c['edited']} of them edited), "
        f"{c['rejected']} rejected"
    )
    if "rejections" in c:  # cards of older provenance files have no history
        line += (
            f"; in the history, {c['rejections']} rejection(s) and {c['regenerations']}"
            f" regeneration(s), {c['reject_regenerate_accept']} row(s) rejected,"
            " regenerated and then accepted"
        )
    return line + f"; {c['synthesized']} inputs synthesized by the teacher"


def _training_line(key: str, value: Any) -> str:
    if key != "pairs_by_source":
        return f"- {key}: {value}"
    if value is None:
        return (
            "- preference pairs by source: unknown (the current data/pref/ export is not the run's)"
        )
    total = sum(value.values())
    return f"- preference pairs by source: {total} ({sources_text(value)})"


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
                _dates(t),
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
        _curation(c),
        "- split: " + (", ".join(f"{k} {v}" for k, v in prov.split.items()) or "not exported"),
        f"- dataset_hash: `{prov.dataset_hash or 'unknown'}` ({dataset_hash.DEFINITION})"
        + ("" if prov.split_is_runs else "; the current export is not the run's"),
        "",
        "## Training",
        "",
    ]
    lines += [_training_line(k, v) for k, v in prov.training.items()] or ["- not recorded"]
    lines += ["", "## Evaluation", ""]
    lines += _evaluation(prov.evaluation)
    return "\n".join(lines) + "\n"
