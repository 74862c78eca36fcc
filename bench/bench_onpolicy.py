"""On-policy distillation against SFT on the demo, judged by held-out exact
match over seeds (issue 32's acceptance; STYLE.md, "Quality is measured on
the task"). Every step is the headless command a user types.

    uv run python bench/bench_onpolicy.py [--seeds 0 1 2] [--teacher-iters N]

- The teacher: the demo's student SFT-trained on the tickets (`train
  --iters N`), fused (`fuse`): a task teacher that shares the student's
  tokenizer exactly, since the package ships one pretrained model.
- (a) SFT from the base student on the teacher-written answers of data/ (R
  rows: R answers the teacher wrote), at the demo's defaults.
- (b) `train --objective onpolicy --teacher-model TEACHER` from the base
  student with a fresh adapter, for ceil(R / batch size) steps: the teacher
  scores R student samples, as many teacher passes over an answer as (a)'s
  teacher wrote answers.

Prints each seed's exact match on the 32 validation tickets, then both sides
with their spread, and the on-policy runs' time split.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
import time
from pathlib import Path

from bench_pref_quality import ROWS, _eval, _exact, _run_id, _spread
from demo_project import cli, cli_env

from distill_tui.core.project import Workspace
from distill_tui.demo import create_demo


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--teacher-iters", type=int, default=None, help="default: the demo's")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-onpolicy-"))
    env = cli_env(tmp)
    try:
        root = tmp / "demo"
        create_demo(root, student="smollm2").store.close()
        cli("curate", str(root), "--accept-all", env=env)
        cli("export", str(root), env=env)
        ws = Workspace.open(root)
        rows = sum(1 for line in (root / "data" / "train.jsonl").open() if line.strip())
        batch = ws.settings.train.batch_size
        ws.store.close()
        steps = math.ceil(rows / batch)

        t0 = time.perf_counter()
        more = ["--iters", str(args.teacher_iters)] if args.teacher_iters else []
        strong = _run_id(cli("train", str(root), "--seed", "100", *more, env=env))
        teacher = tmp / "teacher"
        cli("fuse", str(root), "--run", strong, "--out", str(teacher), "--force", env=env)
        print(
            f"teacher: SFT run {strong}, exact match {_exact(_eval(root, strong, env))}/{ROWS}"
            f" ({time.perf_counter() - t0:.0f} s); {rows} training rows, batch {batch}:"
            f" on-policy runs {steps} steps"
        )
        sft_got, onp_got = [], []
        for seed in args.seeds:
            s = str(seed)
            t0 = time.perf_counter()
            sft = _run_id(cli("train", str(root), "--seed", s, env=env))
            sft_got.append(_exact(_eval(root, sft, env)))
            t1 = time.perf_counter()
            out = cli(
                "train", str(root), "--objective", "onpolicy", "--teacher-model", str(teacher),
                "--seed", s, "--iters", str(steps), env=env,
            )  # fmt: skip
            run = _run_id(out)
            onp_got.append(_exact(_eval(root, run, env)))
            record = (root / "runs" / run / "onpolicy.jsonl").read_text().splitlines()
            last = json.loads(record[-1])
            print(
                f"seed {seed}: (a) SFT {sft_got[-1]}/{ROWS} ({t1 - t0:.0f} s);"
                f" (b) on-policy {onp_got[-1]}/{ROWS} ({time.perf_counter() - t1:.0f} s:"
                f" sampling {last['sampling_s']:.0f} s, teacher {last['teacher_s']:.0f} s,"
                f" update {last['update_s']:.0f} s; held-out KL {last['kl_per_token']:.3f},"
                f" agreement {last['agreement']:.2f})"
            )
        print(f"(a) SFT on the teacher's answers: {_spread(sft_got)}")
        print(f"(b) on-policy distillation:       {_spread(onp_got)}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
