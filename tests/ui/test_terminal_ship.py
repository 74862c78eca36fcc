"""Shipping honestly, in a real 80x24 terminal: the Task screen says what the
chosen teacher's terms say as its model id changes; the fuse dialog shows the
teachers' terms and the student's licence; the Chat screen's Ship dialog
(ctrl+n) refuses before anything is fused, then writes the mlx_lm.server
command, a link where LM Studio looks and an Ollama Modelfile, and says which
route works when the student cannot be written as GGUF."""

from __future__ import annotations

import re

from support.adapter_helpers import make_run

from distill_tui.core.curate import curation
from distill_tui.core.dataset.export import export_dataset
from distill_tui.core.project import Workspace


def _exported_run(root) -> None:  # noqa: ANN001
    """run-1 of the tiny student, every row accepted and split."""
    ws = Workspace.open(root)
    make_run(ws, root / "models" / "student")
    ids = [r[0] for r in ws.store.conn.execute("SELECT id FROM rows WHERE status = 'done'")]
    curation.decide(ws.store, ids, "accepted")
    export_dataset(ws.root, ws.store, ws.settings)
    ws.store.close()


def _squeezed(t) -> str:  # noqa: ANN001
    """The screen without whitespace: a long line wraps anywhere at 80 columns."""
    return re.sub(r"\s", "", t.flat())


def test_task_screen_shows_the_terms_of_the_teacher_chosen(terminal, demo_project):
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)
    t.press("tab", binding="task-tab")  # Name
    t.press(*["tab"] * 7)  # input, output, format, instructions, examples, provider, model
    # The demo's teacher is Anthropic's; the form scrolled to its model field.
    t.wait_until(
        lambda: "theservicesmaynotbeusedtobuildacompeting" in _squeezed(t), "Anthropic's terms"
    )
    assert "thetermsyouacceptedsay" in _squeezed(t)
    t.press("ctrl+u")
    t.type("meta-llama/Llama-3.3-70B-Instruct")
    t.wait_until(lambda: '"BuiltwithLlama"' in _squeezed(t), "Llama's terms")
    assert "CommunityLicense" in _squeezed(t) and "competing" not in t.flat()
    assert t.quit() == 0


def test_fuse_dialog_terms_and_every_ship_key(terminal, demo_project, tmp_path):
    _exported_run(demo_project)
    env = {"LMSTUDIO_MODELS_DIR": str(tmp_path / "lms")}
    t = terminal(str(demo_project), env=env)
    t.wait_for("support-tickets", timeout=60)
    t.press("5", binding="goto-chat")
    t.wait_for("message the student")
    t.wait_for("run-1 best")

    # Nothing fused yet: one line says what to press.
    t.press("ctrl+n", binding="chat-ship")
    t.wait_for("No fused model yet: press ctrl+f")
    assert not t.has("Traceback")

    # The fuse dialog: the teacher's terms and the student's licence first.
    t.press("ctrl+f", binding="chat-fuse")
    t.wait_for("Fuse run-1")
    t.wait_for("student licence: unknown")
    assert "thetermsyouacceptedsay" in _squeezed(t) and "notlegaladvice" in _squeezed(t)
    t.press("ctrl+s", binding="chat-fuse-start")
    t.wait_for("fused run-1", timeout=180)

    # Ship: the server command, at once (no check asked for).
    t.press("ctrl+n")
    t.wait_for("Ship run-1-best")
    t.wait_for("student licence: unknown")
    t.press("ctrl+s", binding="chat-ship-start")
    t.wait_for("mlx_lm.server --model", timeout=60)
    assert "server:" in t.text()
    # Issue 31 item 5: the fused model on the first 16 held-out rows, beside the adapter.
    # The line wraps where the output folder's length puts it (longer under
    # xdist): read with the wraps squeezed out, in one screen.
    t.wait_until(
        lambda: (
            "onthetask,first16held-out" in (q := _squeezed(t))
            and "theadapter" in q
            and "right)" in q
        ),
        "the task line with the adapter's score",
    )

    # LM Studio: a link to the fused folder.
    t.press("enter", "down", "enter")  # the target list: server -> lmstudio
    t.press("ctrl+s")
    t.wait_for("MLX engine (Apple Silicon only)", timeout=60)  # below the task line
    link = tmp_path / "lms" / "distill-tui" / "run-1-best"
    assert link.is_symlink() and link.resolve() == (demo_project / "fused" / "run-1-best")

    # Ollama, not installed here: the Modelfile and the command to run.
    t.press("enter", "down", "enter")
    t.press("ctrl+s")
    t.wait_for("Ollama is not installed here", "ollama: ", timeout=60)
    assert (demo_project / "fused" / "run-1-best" / "Modelfile").is_file()

    # GGUF of a student that is not a GGUF file: refused, the route that works named.
    t.press("enter", "down", "enter")
    t.wait_for("quant")
    t.press("ctrl+s")
    t.wait_for("not shipped:", timeout=60)
    assert "convert_hf_to_gguf.py" in _squeezed(t) and not t.has("Traceback")
    t.press("escape", binding="chat-ship-close")
    t.wait_gone("Ship run-1-best")
    assert t.quit() == 0
