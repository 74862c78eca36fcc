"""Provenance read from what is on disk: the demo's real GGUF student says its
own licence and base model; a folder student's model card is read; nothing
on disk means 'unknown', never a guess."""

from __future__ import annotations

from distill_tui.core.ship.provenance import UNKNOWN, student_facts, terms_summary
from distill_tui.demo import packaged_gguf


def test_the_smollm2_gguf_names_its_licence_and_base_model(tmp_path):
    licence, source, base, base_source = student_facts(tmp_path, str(packaged_gguf()))
    assert (licence, base) == ("apache-2.0", "HuggingFaceTB/SmolLM2-135M-Instruct")
    assert "general.license" in source and "file name" in base_source


def test_a_folder_students_card_is_read_and_a_missing_one_is_unknown(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "README.md").write_text(
        "---\nlicense: apache-2.0\nbase_model: Qwen/Qwen2.5-1.5B-Instruct\n---\n# card\n"
    )
    assert student_facts(tmp_path, str(folder))[::2] == ("apache-2.0", "Qwen/Qwen2.5-1.5B-Instruct")
    bare = tmp_path / "bare"
    bare.mkdir()
    licence, source, base, _ = student_facts(tmp_path, str(bare))
    assert (licence, base) == (UNKNOWN, None) and "no model card" in source


def test_terms_summary_names_each_teacher_once_and_the_student_licence(workspace):
    """The lines `status`, the fuse dialog and the Ship dialog share: a
    teacher that answered rows and the one set now."""
    workspace.store.add_inputs([("hi", None)])
    with workspace.store.tx() as c:
        c.execute(
            "INSERT INTO generations (row_id, output, teacher, prompt_hash, input_tokens,"
            " output_tokens, cost_usd, created_at) VALUES"
            " (1, 'x', 'openai:gemma-3-27b-it', 'h', 1, 1, 0, 0)"
        )
        c.execute("UPDATE rows SET status='done', output='x', generation_id=1 WHERE id=1")
    workspace.settings.teacher.provider = "anthropic"
    workspace.settings.teacher.model = "claude-sonnet-4-6"
    summary = terms_summary(workspace)
    assert summary.student_license == UNKNOWN
    assert list(summary.teachers) == ["openai:gemma-3-27b-it", "anthropic:claude-sonnet-4-6"]
    assert "Model Derivative" in summary.teachers["openai:gemma-3-27b-it"]
    assert "compete with Anthropic" in summary.teachers["anthropic:claude-sonnet-4-6"]
