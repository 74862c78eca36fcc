"""Provenance read from what is on disk: the demo's real GGUF student says its
own licence and base model; a folder student's model card is read; nothing
on disk means 'unknown', never a guess."""

from __future__ import annotations

from distill_tui.core.ship.provenance import UNKNOWN, student_facts
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
