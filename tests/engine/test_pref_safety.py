"""Safe preference training (issue 30) on the tiny model: a preference run
uses its own defaults, not SFT's; the collapse guard stops a run at the old
defaults (SFT's learning rate, no SFT term) and keeps the weights from before
the fall; best/ follows the task, never the start; KTO validates with its
own loss; a SIGTERM during the reference pass is acted on between batches;
a max_seq_length that cuts every answer off is refused before step 1."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support.trainutil import FAST_FLAGS, fast, make_project
from test_pref_train import write_pairs

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.train import runs as runs_db
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.train import trainer as tr

# A preference run as it was started before this issue: SFT's learning rate
# and iterations, and no SFT term.
OLD_DEFAULTS = dict(objective="dpo", learning_rate=1e-3, sft_weight=0.0)
OLD_EXPLICIT = {"iters", "learning_rate"}


@pytest.fixture
def ws(workspace, tiny_model):
    ws = make_project(workspace, tiny_model)
    write_pairs(ws)
    tr.train_run(ws, fast(30))
    return ws


def _config(run_dir: Path) -> dict:
    return json.loads((run_dir / "config.json").read_text())["train"]


def test_a_preference_run_uses_its_own_learning_rate_length_and_sft_term(ws):
    done = tr.train_run(ws, fast(20, objective="dpo"))
    t = _config(done.run_dir)
    # 2e-5, not SFT's 1e-3; 2 epochs over 16 pairs of 4 = 8 steps, not SFT's 20.
    assert (t["learning_rate"], t["iters"], t["sft_weight"]) == (2e-5, 8, 1.0)
    assert done.status == "finished" and done.iter == 8
    # Flags given for one run win over the preference defaults.
    mine = tr.train_run(
        ws, fast(12, objective="dpo", learning_rate=1e-4), explicit={"iters", "learning_rate"}
    )
    assert (_config(mine.run_dir)["learning_rate"], mine.iter) == (1e-4, 12)


def test_the_command_says_which_preference_settings_it_uses(ws):
    exe = str(Path(sys.executable).parent / "distill-tui")
    flags = [f for f in FAST_FLAGS if f not in ("--learning-rate", "1e-3")]
    out = subprocess.run(
        [exe, "train", str(ws.root), "--objective", "dpo", *flags],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "dpo: learning rate 2e-05, 8 iterations (2.0 epochs), SFT term 1" in out
    assert "too few pairs to measure" in out  # 8 held-out pairs: no accuracy printed
    assert "task exact_match" in out


def test_the_guard_stops_a_collapse_at_the_old_defaults_and_keeps_the_weights_before_it(ws):
    events: list[object] = []
    done = tr.train_run(ws, fast(20, **OLD_DEFAULTS), explicit=OLD_EXPLICIT, listener=events.append)
    assert done.status == "collapsed" and done.iter < 20
    assert done.note is not None and done.note.startswith("collapse at iteration")
    assert "kept the weights of iteration 1" in done.note and "\n" not in done.note
    run = runs_db.get_run(ws.store, done.run_id)
    assert run is not None and run.status == "collapsed" and "collapse" in (run.error or "")
    reads = [e for e in events if isinstance(e, tr.PrefReported)]
    assert reads[-1].chosen_drift is not None and reads[-1].chosen_drift < -1.0

    # The adapter it left is the one from before the fall: its chosen answers
    # are as likely as at the start, where the collapsed weights' are not.
    config = json.loads((done.run_dir / "config.json").read_text())
    sft_dir = paths.run_dir(ws.root, config["from_run"])

    def drift_of_saved() -> float:
        from types import SimpleNamespace

        from mlx_lm.utils import load

        from distill_tui.engine.train import pref_data
        from distill_tui.engine.train.loop import _setup_model
        from distill_tui.engine.train.pref_loop import chosen_drift

        model, tok = load(config["model"])
        _setup_model(model, SimpleNamespace(train=fast(30)))
        data = pref_data.load(paths.pref_dir(ws.root) / "train.jsonl", tok, "pairs")
        model.load_weights(str(sft_dir / "adapters.safetensors"), strict=False)
        pref_data.fill_reference(model, data, 4, 2048)
        model.load_weights(str(done.run_dir / "adapters.safetensors"), strict=False)
        return chosen_drift(model, data, 4, 2048)

    assert abs(mlx_thread().call(drift_of_saved)) < 1e-3

    # Asked to let it run, the same run goes to the end, collapsed.
    free = tr.train_run(ws, fast(20, **OLD_DEFAULTS, stop_on_collapse=False), explicit=OLD_EXPLICIT)
    assert free.status == "finished" and free.iter == 20 and free.note is None


def test_best_is_a_trained_checkpoint_chosen_by_the_task(ws):
    events: list[object] = []
    done = tr.train_run(ws, fast(20, objective="dpo"), listener=events.append)
    best = json.loads((done.run_dir / "best" / "best.json").read_text())
    assert best["iter"] > 1  # never the untouched SFT start
    assert best["task_metric"] == "exact_match" and best["task_score"] is not None
    reads = [e for e in events if isinstance(e, tr.PrefReported)]
    assert [e.iter for e in reads if e.best][-1] == best["iter"] == done.best_iter
    assert reads[0].start_score == reads[0].task_score and not reads[0].best


def test_kto_validates_with_its_own_loss(ws):
    done = tr.train_run(ws, fast(10, objective="kto"), explicit={"iters"})
    val = runs_db.history(ws.store, done.run_id, "val")
    # KTO at the start (policy == reference, z = 0): each row 1 - sigmoid(0) =
    # 0.5; the DPO pair loss it reported before is ln 2.
    assert abs(val[0][1] - 0.5) < 1e-4 and abs(val[0][1] - math.log(2)) > 0.1


def test_a_stop_during_the_reference_pass_is_acted_on_between_batches(ws, tiny_model):
    def computed_after_stop() -> int:
        from mlx_lm.utils import load

        from distill_tui.engine.train import pref_data, pref_loss

        model, tok = load(str(tiny_model))
        data = pref_data.load(paths.pref_dir(ws.root) / "train.jsonl", tok, "pairs")
        stop = threading.Event()
        calls = []
        real = pref_loss.sequence_logps

        def counting(*a, **k):
            calls.append(1)
            if len(calls) == 1:
                stop.set()  # the SIGTERM arrives during the first batch
            return real(*a, **k)

        pref_loss.sequence_logps = counting
        try:
            pref_data.fill_reference(model, data, 4, 2048, stop)
        finally:
            pref_loss.sequence_logps = real
        return len(calls)

    assert mlx_thread().call(computed_after_stop) == 1  # of 4 batches


def test_a_max_seq_length_that_cuts_every_answer_is_refused_before_step_1(ws):
    with pytest.raises(UserError, match="max_seq_length 16 cuts off every completion"):
        tr.train_run(ws, fast(5, objective="dpo", max_seq_length=16))
    latest = runs_db.latest_run(ws.store)
    assert latest is not None and latest.status == "failed" and latest.iter == 0


def test_a_stale_preference_export_is_refused_or_exported_first(tmp_path):
    """After an edit, `train --objective dpo` trained on the old data/pref/
    silently (the check ran only for SFT)."""
    from distill_tui.core.curate import curation
    from distill_tui.core.curate import query as cq
    from distill_tui.core.curate.preferences import export_preferences
    from distill_tui.core.dataset.export import export_dataset
    from distill_tui.demo import create_demo

    ws = create_demo(tmp_path / "demo", student="tiny", preferences=True)
    curation.accept(ws.store, cq.ids(ws.store, cq.Filter(decision="unreviewed")))
    export_dataset(ws.root, ws.store, ws.settings)
    export_preferences(ws.root, ws.store, ws.settings)
    tr.train_run(ws, fast(4, fine_tune_type="full"))
    curation.edit(ws.store, 5, output="a better answer")  # a new edit pair
    exe = str(Path(sys.executable).parent / "distill-tui")
    base = [exe, "train", str(ws.root), "--objective", "dpo", "--no-preflight"]
    out = subprocess.run(base, capture_output=True, text=True, check=False)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "1 curated pair is not in data/pref/" in out.stderr
    assert "distill-tui export" in out.stderr and "--preferences" in out.stderr
    out = subprocess.run([*base, "--export"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "--export: exporting first" in out.stdout and "to data/pref/" in out.stdout
    pairs = (paths.pref_dir(ws.root) / "train.jsonl").read_text() + (
        paths.pref_dir(ws.root) / "valid.jsonl"
    ).read_text()
    assert "a better answer" in pairs


def test_an_evaluation_with_one_held_out_pair_shows_no_pair_accuracy():
    from distill_tui.commands.eval import format_table
    from distill_tui.core.evaluate import evals

    item = evals.EvalItem(0, None, "in", "bug")
    item.scores = {evals.SFT: {"exact_match": 1.0}, evals.ADAPTER: {"exact_match": 1.0}}
    one = evals.EvalResult(
        "r", "best", "valid", "text", [item], pairs={"adapter": 1.0}, pair_rows=1
    )
    table = "\n".join(format_table(one))
    assert "1.000" not in table.split("pair acc", 1)[1].splitlines()[0]
    assert "too few" in table and "1 held-out preference pair(s): too few pairs" in table


def test_a_preference_flag_out_of_range_names_the_flag_typed(ws):
    exe = str(Path(sys.executable).parent / "distill-tui")
    out = subprocess.run(
        [exe, "train", str(ws.root), "--objective", "dpo", "--epochs", "-1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert out.stderr.startswith("distill-tui: --epochs: ") and "greater than 0" in out.stderr
