import io

from distill_tui.core.notify import job_finished_sequence, notify_terminal, osc9


def test_osc9_strips_control_characters_that_could_inject_sequences():
    seq = osc9("done\x07\x1b]0;evil\x1b\\ 12 rows")
    assert seq.startswith("\x1b]9;") and seq.endswith("\x07")
    body = seq[len("\x1b]9;") : -1]
    assert "\x1b" not in body and "\x07" not in body
    assert "12 rows" in body


def test_finish_rings_the_bell_then_notifies():
    assert job_finished_sequence("training finished").startswith("\a\x1b]9;training finished")


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_notify_only_writes_to_a_terminal():
    pipe = io.StringIO()
    assert notify_terminal(pipe, "x") is False and pipe.getvalue() == ""
    tty = FakeTTY()
    assert notify_terminal(tty, "generation finished") is True
    assert "\x1b]9;generation finished\x07" in tty.getvalue()
