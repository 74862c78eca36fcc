"""The headless CLI, run as a user would run it: in a subprocess."""

import json
import subprocess
import sys

import pytest

COUNT_KEYS = [
    "inputs",
    "pending",
    "running",
    "done",
    "failed",
    "accepted",
    "rejected",
    "unreviewed",
    "input_tokens",
    "output_tokens",
]


def cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_init_import_status_json(tmp_path):
    proj = tmp_path / "proj"
    r = cli("init", proj)
    assert r.returncode == 0, r.stderr
    assert (proj / "distill.toml").is_file() and (proj / "distill.db").is_file()
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"prompt": "a"}\n{"prompt": "b"}\nbroken\n')
    r = cli("import", proj, corpus)
    assert r.returncode == 0
    assert "2 new input(s)" in r.stdout
    assert f"{corpus}:3: malformed JSON" in r.stderr
    r = cli("status", proj, "--json")
    data = json.loads(r.stdout)
    for key in COUNT_KEYS:
        assert isinstance(data[key], int), key
    assert isinstance(data["cost_usd"], float)
    assert data["inputs"] == 2 and data["pending"] == 2


def test_init_twice_is_refused_and_keeps_the_file(tmp_path):
    proj = tmp_path / "proj"
    cli("init", proj, "--name", "tickets")
    before = (proj / "distill.toml").read_text()
    r = cli("init", proj)
    assert r.returncode == 2
    assert "already a project" in r.stderr
    assert (proj / "distill.toml").read_text() == before
    assert 'name = "tickets"' in before


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[train]\nbatch_size = 0\n", "distill.toml:2: train.batch_size"),
        ("[train\n", "not valid TOML"),
    ],
)
def test_bad_project_file_is_one_line_no_traceback(tmp_path, toml, message):
    proj = tmp_path / "proj"
    cli("init", proj)
    (proj / "distill.toml").write_text(toml)
    r = cli("status", proj)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_status_outside_a_project(tmp_path):
    r = cli("status", tmp_path)
    assert r.returncode == 2
    assert "not a distill-tui project" in r.stderr
    assert "Traceback" not in r.stderr


def test_status_cost_includes_teacher_requests_that_answer_no_row(tmp_path):
    from distill_tui.core.generate import side_costs
    from distill_tui.core.generate.pricing import Usage
    from distill_tui.core.project import Workspace

    proj = tmp_path / "proj"
    cli("init", proj)
    ws = Workspace.open(proj)
    side_costs.record(ws.store, side_costs.JUDGE, Usage(input_tokens=100, output_tokens=5), 0.25)
    side_costs.record(ws.store, side_costs.SYNTH, Usage(input_tokens=900, output_tokens=50), 0.5)
    data = json.loads(cli("status", proj, "--json").stdout)
    assert data["cost_usd"] == 0.75 and data["side_cost_usd"] == 0.75
    assert data["side_costs_usd"] == {"judge": 0.25, "synth": 0.5}
    # Each purpose under its own name: synthesis is not "similar inputs and judging".
    out = cli("status", proj).stdout
    assert "(of it $0.5000 for synthesis, $0.2500 for judging)" in out


def test_the_app_without_a_terminal_says_so_and_exits(tmp_path):
    """`distill-tui DIR < /dev/null > out` must not start a UI that waits forever
    for keys; `demo` still builds the project first."""
    import subprocess
    import sys
    from pathlib import Path

    cmd = str(Path(sys.executable).parent / "distill-tui")
    for args in ([str(tmp_path / "proj")], ["demo", str(tmp_path / "demo")]):
        r = subprocess.run(
            [cmd, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 2, r.stderr
        assert "the app needs a terminal" in r.stderr
        assert "distill-tui status" in r.stderr
        assert "Traceback" not in r.stderr
    assert (tmp_path / "demo" / "distill.toml").is_file()
