"""The topic tree by hand, headless (the synthesis dialog's a, r and delete):
`synth DIR --add-topic NAME [--under NAME]`, `--rename-topic OLD NEW`,
`--delete-topic NAME`, and `--topics-only` to print the tree. Each edits the
tree through `core.synth.topics`, as the dialog does, prints the tree and
asks the teacher nothing, so a teacher that cannot produce a list of topics
still leaves a way to synthesize."""

from __future__ import annotations

import argparse
import json

from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.synth import topics


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the topic tree by hand (the teacher is not asked)")
    g.add_argument("--add-topic", metavar="NAME", help="add a root topic (or one --under NAME)")
    g.add_argument("--under", metavar="NAME", help="with --add-topic: the root topic it goes under")
    g.add_argument("--rename-topic", nargs=2, metavar=("OLD", "NEW"), help="rename a topic")
    g.add_argument(
        "--delete-topic", metavar="NAME", help="delete a topic and its subtopics (rows stay)"
    )
    g.add_argument("--topics-only", action="store_true", help="print the topic tree and exit")


def wanted(args: argparse.Namespace) -> bool:
    """Whether the command edits or prints the tree instead of synthesizing."""
    if args.under is not None and args.add_topic is None:
        raise UserError("--under goes with --add-topic")
    edits = [args.add_topic, args.rename_topic, args.delete_topic]
    if sum(e is not None for e in edits) > 1:
        raise UserError("one of --add-topic, --rename-topic and --delete-topic at a time")
    return args.topics_only or any(e is not None for e in edits)


def run(args: argparse.Namespace) -> int:
    ws = Workspace.open(args.dir)
    store = ws.store
    done = ""
    if args.add_topic is not None:
        parent = topics.find(store, args.under) if args.under is not None else None
        topics.add(store, args.add_topic, parent.id if parent else None)
        done = f"added {topics.clean_name(args.add_topic)!r}" + (
            f" under {parent.path!r}" if parent else ""
        )
    elif args.rename_topic is not None:
        old, new = args.rename_topic
        t = topics.find(store, old)
        topics.rename(store, t.id, new)
        done = f"renamed {t.path!r} to {topics.clean_name(new)!r}"
    elif args.delete_topic is not None:
        t = topics.find(store, args.delete_topic)
        n = topics.delete(store, t.id)
        subs = n - 1
        done = f"deleted {t.path!r}" + (
            f" and its {subs} subtopic{'s' if subs != 1 else ''}" if subs else ""
        )
    tree = topics.tree(store)
    if args.json:
        out = [
            {"path": t.path, "leaf": t.is_leaf, "kept": t.kept, "written": t.written} for t in tree
        ]
        print(json.dumps({"done": done, "topics": out}))
        return 0
    if done:
        print(shown(done))
    if not tree:
        print("the topic tree is empty: --add-topic NAME adds one, or `synth` asks the teacher")
    for t in tree:
        indent = "    " if t.parent_id is not None else "  "
        kept = f"  ({t.kept} input{'s' if t.kept != 1 else ''})" if t.is_leaf else ""
        print(shown(f"{indent}{t.name}{kept}"))
    return 0
