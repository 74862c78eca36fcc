"""The README's demo flow, literally, in a real 80x24 terminal: curate, export,
train to the end and stop a second run, chat, compare, evaluate, fuse. After
every step the app is alive and printed no traceback; ctrl+q exits 0."""

from __future__ import annotations

from support.store_reads import runs as _runs


def test_readme_demo_flow(terminal, demo_project):
    t = terminal(str(demo_project))
    t.wait_for("support-tickets", timeout=60)

    # Curate: v cycles the view, b a accepts every row shown, x exports.
    t.press("3", binding="goto-curate")
    t.wait_for("rows 1-100 of 320")
    t.press("v", binding="curate-view")
    t.wait_for("unreviewed")
    t.press("b", binding="curate-bulk")
    t.wait_for("Apply to all 320 rows")
    t.press("a")
    t.wait_for("Accepted 320 rows")
    t.press("x", binding="curate-export")
    t.wait_for("Exported", timeout=60)
    assert (demo_project / "data" / "train.jsonl").is_file()

    # Train to the end, then start a second run and stop it.
    t.press("4", binding="goto-train")
    t.press("ctrl+r", binding="train-start")
    t.wait_until(
        lambda: any(r.status == "finished" for r in _runs(demo_project)), "a finished run", 180
    )
    t.wait_for("finished", timeout=30)
    t.press("ctrl+r")
    t.wait_until(lambda: len(_runs(demo_project)) == 2, "a second run", 60)
    t.press("ctrl+x", binding="train-stop")
    t.wait_until(
        lambda: any(r.status == "stopped" for r in _runs(demo_project)),
        "the second run stopped",
        120,
    )
    t.wait_for("stopped", timeout=30)

    # Chat with the adapter, compare with the base model.
    t.press("5", binding="goto-chat")
    # Not "Chat": the tab bar always shows it; the message box shows the screen is up.
    t.wait_for("message the student", timeout=60)
    t.type("my invoice is wrong")
    t.press("enter")
    t.wait_for("TTFT", timeout=60)  # the reply's line (a one-token reply shows no rate)
    t.press("ctrl+b", binding="chat-compare")
    t.settle(1)

    # Evaluate (the evaluation view, r runs it), then close it and fuse.
    t.press("ctrl+r", binding="chat-eval")
    t.wait_for("r runs it")
    t.press("r", binding="eval-run")
    t.wait_for("exact", timeout=120)
    t.press("escape", binding="eval-close")
    t.press("ctrl+f", binding="chat-fuse")
    t.wait_for("into its base")  # the dialog ("Fuse" is always in the footer)
    t.press("ctrl+s", binding="chat-fuse-start")
    # The model on disk and the fuse's report (a toast: "...; probes agree 4/4",
    # wrapped where the output folder's length puts it), not the word "fused":
    # the dialog's output folder says that before anything runs.
    fused = demo_project / "fused"
    t.wait_until(
        lambda: any(d.glob("*.safetensors") for d in fused.iterdir()) if fused.is_dir() else False,
        "the fused model on disk",
        180,
    )
    t.wait_for("agree", timeout=120)
    (model,) = fused.iterdir()
    assert (model / "config.json").is_file()

    assert t.quit() == 0
