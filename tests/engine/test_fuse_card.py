"""Fuse writes our model card and provenance: the README parses with
huggingface_hub's ModelCard, names the base model, the relation and the
licence, and the teachers' exported rows add up to the exported split."""

from __future__ import annotations

import json
import shutil

from huggingface_hub import ModelCard
from support.adapter_helpers import make_run

from distill_tui.cli import main
from distill_tui.core.curate import curation
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.generate import queue
from distill_tui.core.generate.pricing import Usage


def _answered(ws, teacher: str, inputs: list[str]) -> list[int]:
    ws.store.add_inputs([(i, None) for i in inputs])
    claimed = queue.claim(ws.store, len(inputs))
    for c in claimed:
        record = queue.GenerationRecord(
            f"label for {c.input}", teacher, "h", Usage(10, 2), 0.0, 0.1, "end_turn"
        )
        queue.complete(ws.store, c.id, record)
    return [c.id for c in claimed]


def test_fused_folder_has_a_model_card_and_provenance(workspace, tiny_model, tmp_path, capsys):
    ws = workspace
    # The card is read from the model the run trained on (issue 34, item 3).
    student = shutil.copytree(tiny_model, tmp_path / "student")
    (student / "README.md").write_text(
        "---\nlicense: apache-2.0\nbase_model: HuggingFaceTB/SmolLM2-135M-Instruct\n---\n"
    )
    ws.settings.student.model = str(student)
    ws.settings.split.valid_fraction = 0.25
    ws.settings.train.batch_size = 1
    ws.save_settings()
    claude = _answered(ws, "anthropic:claude-haiku-4-5", [f"ticket {i}" for i in range(6)])
    local = _answered(ws, "openai:llama3.3:70b", [f"mail {i}" for i in range(4)])
    curation.decide(ws.store, claude + local[:3], "accepted")
    curation.decide(ws.store, local[3:], "rejected", "wrong label")
    curation.edit(ws.store, claude[0], output="billing")
    exported = export_dataset(ws.root, ws.store, ws.settings)
    make_run(ws, student)

    out = ws.root / "fused-out"
    assert main(["fuse", str(ws.root), "--run", "run-1", "--out", str(out), "--json"]) == 0
    err = capsys.readouterr().err
    assert "compete with Anthropic" in err and "Built with Llama" in err

    card = ModelCard.load(out / "README.md")
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert card.data.base_model_relation == "finetune"
    assert card.data.library_name == "mlx"
    # A Llama teacher's terms pass on to the student: the licence says so.
    assert card.data.license == "other" and card.data.license_name == "llama3"
    assert "9 accepted (1 of them edited), 1 rejected" in card.text

    prov = json.loads((out / "provenance.json").read_text())
    assert prov == json.loads((ws.root / "runs" / "run-1" / "provenance.json").read_text())
    by_teacher = {t["teacher"]: t for t in prov["teachers"]}
    assert by_teacher["anthropic:claude-haiku-4-5"]["rows"] == 6
    assert by_teacher["openai:llama3.3:70b"]["rows"] == 4
    assert sum(t["exported"] for t in prov["teachers"]) == sum(exported.counts.values()) == 9
    assert prov["curation"] == {
        "accepted": 9,
        "edited": 1,
        "rejected": 1,
        "synthesized": 0,
        "rejections": 1,
        "regenerations": 0,
        "reject_regenerate_accept": 0,
    }


def test_an_apache_student_with_a_claude_teacher_keeps_its_licence(workspace, tiny_model, tmp_path):
    ws = workspace
    student = shutil.copytree(tiny_model, tmp_path / "student")
    (student / "README.md").write_text("---\nlicense: apache-2.0\n---\n")
    ws.settings.student.model = str(student)
    ws.save_settings()
    make_run(ws, student)
    out = ws.root / "fused-out"
    assert main(["fuse", str(ws.root), "--run", "run-1", "--out", str(out), "--json"]) == 0
    card = ModelCard.load(out / "README.md")
    assert card.data.license == "apache-2.0"
    # No base model on disk for this folder student: none is invented.
    assert card.data.base_model is None and "base_model_relation" not in card.content
