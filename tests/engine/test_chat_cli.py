"""`distill-tui chat`: one streamed reply on stdout, stats on stderr."""

from __future__ import annotations

from support.adapter_helpers import make_run

from distill_tui.cli import main


def test_chat_prints_one_reply_and_base_differs(workspace, tiny_model, capsys):
    make_run(workspace, tiny_model)
    d = str(workspace.root)
    args = ["chat", d, "--run", "run-1", "--checkpoint", "latest", "--max-tokens", "8"]
    assert main([*args, "--prompt", "I was charged twice"]) == 0
    adapter = capsys.readouterr()
    assert adapter.out.strip()
    assert "[run-1:latest]" in adapter.err and "tok/s" in adapter.err
    assert main([*args, "--prompt", "I was charged twice", "--base"]) == 0
    base = capsys.readouterr()
    assert "[base]" in base.err and base.out != adapter.out


def test_chat_errors_are_one_line(workspace, tiny_model, capsys):
    d = str(workspace.root)
    assert main(["chat", d, "--prompt", "hi"]) == 2
    assert "no training runs" in capsys.readouterr().err
    make_run(workspace, tiny_model, best=False)
    assert main(["chat", d, "--run", "run-1", "--checkpoint", "best", "--prompt", "hi"]) == 2
    err = capsys.readouterr().err
    assert "has no 'best' checkpoint" in err and "Traceback" not in err


def test_one_token_reply_shows_no_rate(workspace, tiny_model, capsys):
    """A one-token reply has no interval to measure a speed over: no
    "1 tokens, 15332.5 tok/s", only the count and the time to first token."""
    make_run(workspace, tiny_model)
    d = str(workspace.root)
    args = ["chat", d, "--run", "run-1", "--checkpoint", "latest", "--prompt", "I was charged"]
    assert main([*args, "--max-tokens", "1"]) == 0
    err = capsys.readouterr().err
    assert "1 tokens," in err and "tok/s" not in err and "first token" in err
    assert main([*args, "--max-tokens", "6"]) == 0
    err = capsys.readouterr().err
    assert "6 tokens," in err and "tok/s" in err


def test_chat_base_needs_no_training_run(workspace, tiny_model, capsys):
    """The base model is the project's student: `chat --base` answers before
    any run exists (it refused with "no training runs" before)."""
    workspace.settings.student.model = str(tiny_model)
    workspace.save_settings()
    d = str(workspace.root)
    assert main(["chat", d, "--base", "--max-tokens", "4", "--prompt", "I was charged"]) == 0
    out = capsys.readouterr()
    assert "[base]" in out.err and "no training runs" not in out.err
    # Asking for a run's checkpoint still needs a run.
    assert main(["chat", d, "--base", "--checkpoint", "best", "--prompt", "hi"]) == 2
    assert "no training runs" in capsys.readouterr().err
