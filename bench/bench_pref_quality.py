"""Held-out answers, not losses: the demo's SFT and preference recipes judged
by exact match on the 32 validation tickets, over seeds, with the spread
(issue 30's acceptance; STYLE.md, "Quality is measured on the task").
Every step is the headless command a user types, at the defaults a newcomer
keeps unless the mode says otherwise.

    uv run python bench/bench_pref_quality.py seeds    [--seeds 0 1 2] [-- train flags]
    uv run python bench/bench_pref_quality.py flow     [--seeds 0 1 2]
    uv run python bench/bench_pref_quality.py mistakes [--seeds 0 1 2] [--early 4] [--pairs-limit N]
    uv run python bench/bench_pref_quality.py collapse [--seeds 0]

- seeds: the demo's SFT run (`train --seed N`), exact match per seed.
- flow: the demo at defaults: SFT, `pairs --from SFT`, `train --objective
  dpo`, `eval --run DPO`: the DPO run beside its SFT start on the same rows,
  and how many of its answers run on (hit the token budget).
- mistakes: an SFT run stopped early (`--iters E`, so it makes mistakes),
  then (a) the same SFT run continued on the accepted rows for as many steps
  as the DPO run takes (the fair baseline) and (b) DPO on its mistake pairs.
- collapse: `train --objective dpo --learning-rate 5e-4 --sft-weight 0
  --iters 30` from the demo's SFT run (the old defaults): the guard's line
  and the kept checkpoint's exact match.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from demo_project import cli, cli_env

from distill_tui.demo import create_demo

ROWS = 32


def _demo(tmp: Path, env: dict[str, str]) -> Path:
    root = tmp / "demo"
    create_demo(root, student="smollm2", preferences=True).store.close()
    cli("curate", str(root), "--accept-all", env=env)
    cli("export", str(root), "--preferences", env=env)
    return root


def _run_id(out: str) -> str:
    for line in out.splitlines():
        if line.startswith("run "):
            return line.split()[1].rstrip(":")
    raise SystemExit(f"no run id in:\n{out}")


def _eval(root: Path, run: str, env: dict[str, str]) -> dict:
    out = cli("eval", str(root), "--run", run, "--no-base", "--json", "--items", env=env)
    return json.loads(out)


def _exact(result: dict, who: str = "adapter") -> int:
    return round(result[who]["exact_match"] * result["rows"])


def _run_on(result: dict, who: str = "adapter") -> int:
    """Answers that ran to the budget: longer than any label by far."""
    items = result.get("items") or []
    return sum(1 for i in items if len((i.get("answers") or {}).get(who, "")) > 24)


def _spread(xs: list[int]) -> str:
    if len(xs) < 2:
        return f"{xs}"
    return f"{xs} mean {statistics.mean(xs):.1f}/{ROWS}, max - min {max(xs) - min(xs)} rows"


def seeds(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> None:
    root = _demo(tmp, env)
    got = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        run = _run_id(cli("train", str(root), "--seed", str(seed), *args.train, env=env))
        n = _exact(_eval(root, run, env))
        got.append(n)
        print(f"seed {seed}: SFT exact match {n}/{ROWS} ({time.perf_counter() - t0:.0f} s)")
    print(f"SFT at {' '.join(args.train) or 'the demo defaults'}: {_spread(got)}")


def flow(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> None:
    base = _demo(tmp, env)
    sft_got, dpo_got = [], []
    for seed in args.seeds:
        s = str(seed)
        root = tmp / f"seed{seed}"  # each seed its own project: its own mistakes only
        shutil.copytree(base, root)
        sft = _run_id(cli("train", str(root), "--seed", s, env=env))
        print(cli("pairs", str(root), "--from", sft, env=env).strip().splitlines()[-2])
        out = cli("train", str(root), "--objective", "dpo", "--from", sft, "--seed", s, env=env)
        dpo = _run_id(out)
        res = _eval(root, dpo, env)
        a, b = _exact(res, "sft"), _exact(res, "adapter")
        sft_got.append(a)
        dpo_got.append(b)
        print(
            f"seed {seed}: SFT {a}/{ROWS} -> DPO {b}/{ROWS} ({b - a:+d} rows),"
            f" {_run_on(res)} DPO answers run on; verdict {res.get('verdict')}"
        )
    print(f"SFT {_spread(sft_got)}")
    print(f"DPO {_spread(dpo_got)}")


def mistakes(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> None:
    base = _demo(tmp, env)
    early, cont, dpo = [], [], []
    for seed in args.seeds:
        s = str(seed)
        root = tmp / f"seed{seed}"
        shutil.copytree(base, root)
        sft = _run_id(cli("train", str(root), "--seed", s, "--iters", str(args.early), env=env))
        early.append(_exact(_eval(root, sft, env)))
        limit = ["--limit", str(args.pairs_limit)] if args.pairs_limit else []
        print(cli("pairs", str(root), "--from", sft, *limit, env=env).strip().splitlines()[-2])
        out = cli("train", str(root), "--objective", "dpo", "--from", sft, "--seed", s, env=env)
        run = _run_id(out)
        rec = json.loads((root / "runs" / run / "config.json").read_text())
        k = int(rec["train"]["iters"])
        dpo.append(_exact(_eval(root, run, env)))
        # The fair baseline: the same SFT run, k more steps on the accepted rows.
        fair = tmp / f"seed{seed}-fair"
        shutil.copytree(root, fair)
        cli("train", str(fair), "--resume", sft, "--iters", str(args.early + k), env=env)
        cont.append(_exact(_eval(fair, sft, env)))
        print(
            f"seed {seed}: SFT {args.early} steps {early[-1]}/{ROWS};"
            f" +{k} SFT steps {cont[-1]}/{ROWS}; +{k} DPO steps on its mistakes {dpo[-1]}/{ROWS}"
        )
    print(f"SFT stopped at {args.early}: {_spread(early)}")
    print(f"SFT continued (fair baseline): {_spread(cont)}")
    print(f"SFT + DPO on the mistake pairs: {_spread(dpo)}")


def collapse(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> None:
    root = _demo(tmp, env)
    for seed in args.seeds:
        s = str(seed)
        sft = _run_id(cli("train", str(root), "--seed", s, env=env))
        out = cli(
            "train", str(root), "--objective", "dpo", "--from", sft, "--seed", s,
            "--learning-rate", "5e-4", "--sft-weight", "0", "--iters", "30", env=env,
        )  # fmt: skip
        line = next((ln for ln in out.splitlines() if "collapse" in ln), "no collapse line")
        res = _eval(root, _run_id(out), env)
        print(f"seed {seed}: {line}")
        print(
            f"seed {seed}: kept checkpoint {_exact(res)}/{ROWS}, its SFT start"
            f" {_exact(res, 'sft')}/{ROWS}, {_run_on(res)} answers run on"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["seeds", "flow", "mistakes", "collapse"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--early", type=int, default=4, help="mistakes: SFT steps before the pairs")
    p.add_argument(
        "--pairs-limit",
        type=int,
        default=96,
        help="mistakes: training inputs the early student answers (0: all)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.add_argument("train", nargs="*", help="seeds: extra `train` flags (after --)")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pref-quality-"))
    env = cli_env(tmp)
    try:
        {"seeds": seeds, "flow": flow, "mistakes": mistakes, "collapse": collapse}[args.mode](
            args, tmp, env
        )
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
