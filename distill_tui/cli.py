"""Command-line entry point: `distill-tui [DIR]` opens the app, and each
subcommand runs the same engine code headless, for scripts.

Subcommands live in `distill_tui/commands/<name>.py`, each with
`add_parser(subparsers)` and `run(args) -> int`; they are imported only when
used so `distill-tui status` does not pay for importing mlx or textual.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

# pydantic (the API clients' models; distill.toml no longer uses it) scans
# every installed package for plugins when its first model is built, about
# 90 ms; distill-tui uses none. A value the user set wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from distill_tui.commands import stopping  # noqa: E402
from distill_tui.core import disk  # noqa: E402
from distill_tui.core.display import shown  # noqa: E402
from distill_tui.core.errors import UserError  # noqa: E402

# name -> module under distill_tui.commands
COMMANDS: dict[str, str] = {
    "init": "init",
    "import": "import_",
    "status": "status",
    "generate": "generate",
    "train": "train",
    "pairs": "pairs",
    "curate": "curate",
    "rows": "rows",
    "export": "export",
    "import-rows": "import_rows",
    "demo": "demo",
    "chat": "chat",
    "eval": "eval",
    "fuse": "fuse",
    "synth": "synth",
    "ship": "ship",
}

HELP: dict[str, str] = {
    "init": "create a project folder",
    "import": "import inputs from files, folders or JSONL",
    "status": "print the project's counts",
    "generate": "run the teacher over pending rows (--limit N, --dry-run, --batch)",
    "train": "fine-tune the student on the exported split (headless)",
    "pairs": "turn a trained student's wrong answers into preference pairs",
    "curate": "accept, reject, edit or check rows from scripts",
    "rows": "list rows with their ids (filters like the Curate screen's)",
    "export": "write the train/valid/test split of accepted rows for mlx-lm",
    "import-rows": "add rows with their history from an `export --rows` file",
    "demo": "create an offline demo project and open it",
    "chat": "print one reply from the student (or the base model)",
    "eval": "score the adapter against the base model on the valid/test split",
    "fuse": "fuse a run's adapter into the base model",
    "synth": "have the teacher write inputs for a topic tree (--topics N, --per-topic N)",
    "ship": "run the fused student elsewhere: mlx_lm.server, LM Studio, Ollama, GGUF",
}


def _build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="distill-tui",
        description="Distil a large teacher model into a small local MLX student.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = argv[0] if argv else None
    for name, module in COMMANDS.items():
        if wanted in COMMANDS and name != wanted:
            sub.add_parser(name, help=HELP.get(name))
            continue
        mod = importlib.import_module(f"distill_tui.commands.{module}")
        mod.add_parser(sub)
    return parser


def app_parser() -> argparse.ArgumentParser:
    """`distill-tui [DIR]`: open the app."""
    parser = argparse.ArgumentParser(
        prog="distill-tui",
        description="Open the distill-tui app on a project folder, or run a COMMAND.",
        epilog="commands: " + ", ".join(COMMANDS) + " (distill-tui COMMAND -h for help)",
    )
    parser.add_argument("dir", nargs="?", default=".", help="project folder (default: .)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in COMMANDS:
        parser = _build_parser(args_list)
        args = parser.parse_args(args_list)
        mod = importlib.import_module(f"distill_tui.commands.{COMMANDS[args.command]}")
        runner = mod.run
    else:
        args = app_parser().parse_args(args_list)
        runner = app_run
    try:
        if runner is app_run:
            code = int(runner(args) or 0)  # the app takes SIGTERM itself
        else:
            with stopping.sigterm_handled():
                code = int(runner(args) or 0)
                if stopping.terminated():
                    code = stopping.EXIT_TERMINATED
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except stopping.Terminated:
        print("distill-tui: terminated", file=sys.stderr)
        return stopping.EXIT_TERMINATED
    except UserError as e:
        # Messages quote file names and teacher text: never let them drive
        # the terminal.
        print(f"distill-tui: {shown(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("distill-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `distill-tui status | head -1`: the reader has gone; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except sqlite3.Error as e:
        # A store damaged or locked mid-command: one line, never a traceback.
        why = disk.explain_sqlite(e, _folder(args))
        print(f"distill-tui: database error: {shown(why or str(e))}", file=sys.stderr)
        return 2
    except OSError as e:
        # A file or folder in the way (a folder where a file should be, a full
        # disk, no permission): the message names the path.
        print(f"distill-tui: {_os_error(e, _folder(args))}", file=sys.stderr)
        return 2


def app_run(args: argparse.Namespace) -> int:
    from distill_tui.commands import app as app_cmd

    return app_cmd.run(args)


def _folder(args: argparse.Namespace) -> Path:
    return Path(str(getattr(args, "dir", None) or ".")).expanduser()


def _os_error(e: OSError, folder: Path) -> str:
    what = e.strerror or str(e)
    names = [shown(n) for n in (e.filename, e.filename2) if n is not None]
    where = Path(str(e.filename)).parent if e.filename is not None else folder
    what = disk.explain_os(e, where) or what
    return f"{' -> '.join(names)}: {what}" if names else what


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
