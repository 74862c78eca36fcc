"""What the Chat screen keeps between sessions, per project, in
`.distill/chat/`: its settings (`settings.json`: sampling, max tokens, the
system prompt if changed, compare on or off) and the conversation with each
model picked (one file per model, named by a hash of its picker key).

A file is written whole to a temporary name and renamed, so a crash leaves
the previous one. Each conversation keeps its last `MAX_EXCHANGES` exchanges
per pane and at most `MAX_CHARS` characters in all (older exchanges go
first). A file that cannot be read, or that is JSON this version cannot
read as a conversation, is set aside as `*.bad` and the chat starts empty,
with a notice that says so: never a crash, and never overwritten by the next
reply. The settings are checked as `distill.toml` is (`core/schema.py`): a
value out of range, NaN or infinite keeps its default, and the notice names
the key; the settings dialog holds to the same bounds (`check_settings`)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from distill_tui.core.display import shown
from distill_tui.core.schema import Invalid, Range, Section, check

MAX_EXCHANGES = 100
MAX_CHARS = 1_000_000
Exchange = tuple[str, str]  # (what the user sent, the model's reply)


class ChatState(Section):
    """The Chat screen's settings; each value is checked when set."""

    temperature: Annotated[float, Range(ge=0, le=2)] = 0.0
    top_p: Annotated[float, Range(gt=0, le=1)] = 1.0
    max_tokens: Annotated[int, Range(ge=1, le=1_000_000)] = 512
    seed: Annotated[int, Range(ge=0, le=2**32 - 1)] = 0  # what mlx.random.seed takes
    system_prompt: str | None = None  # None: the task's training prompt
    compare: bool = False


def check_settings(**values: Any) -> list[tuple[str, str]]:
    """What is wrong with sampling settings (temperature, top_p, max_tokens,
    seed): (key, what) each, in the words `distill.toml` uses. The settings
    dialog and `distill-tui chat` check through here."""
    types = ChatState.field_types()
    problems = []
    for name, value in values.items():
        try:
            check(types[name], value, (name,))
        except Invalid as e:
            problems += [(p.where, p.msg) for p in e.problems]
    return problems


@dataclass
class Conversation:
    panes: dict[str, list[Exchange]]  # pane name -> exchanges, oldest first
    versus: str | None = None  # the compare pane's model (picker key)


def chat_dir(root: Path) -> Path:
    return root / ".distill" / "chat"


def conversation_path(root: Path, target: str) -> Path:
    digest = hashlib.sha256(target.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return chat_dir(root) / f"conversation-{digest}.json"


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _set_aside(path: Path, why: str) -> str:
    """Move a file this version cannot use to `*.bad`, so the next write does
    not destroy it; the notice that says so."""
    bad = path.with_name(path.name + ".bad")
    try:
        os.replace(path, bad)
    except OSError:
        bad = path
    return f"{shown(path)}: unreadable ({why}); kept as {bad.name}, starting empty"


def _read(path: Path) -> tuple[object, str]:
    """The file's JSON (None when there is no file) and a notice when it was
    unreadable and set aside."""
    try:
        return json.loads(path.read_text(encoding="utf-8")), ""
    except FileNotFoundError:
        return None, ""
    except (OSError, ValueError, RecursionError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else "not valid JSON"
        return None, _set_aside(path, why)


def load_state(root: Path) -> tuple[ChatState, str]:
    """The saved settings, checked as `distill.toml` is: a value of the
    wrong type, out of range, NaN or infinite keeps its default, and the
    notice names it. Keys this version does not know are left out."""
    path = chat_dir(root) / "settings.json"
    data, notice = _read(path)
    state = ChatState()
    if data is None:
        return state, notice
    if not isinstance(data, dict):
        return state, _set_aside(path, "not a settings object")
    wrong = []
    for name in ChatState.field_names():
        if name not in data:
            continue
        try:
            setattr(state, name, data[name])
        except Invalid as e:
            default = getattr(state, name)
            wrong.append(f"{e.first.where}: {e.first.msg} (using {default!r})")
    if wrong:
        notice = f"{shown(path)}: " + "; ".join(wrong)
    return state, notice


def save_state(root: Path, state: ChatState) -> None:
    _write(chat_dir(root) / "settings.json", state.to_dict())


def load_conversation(root: Path, target: str) -> tuple[Conversation, str]:
    path = conversation_path(root, target)
    data, notice = _read(path)
    empty = Conversation({})
    if data is None:
        return empty, notice
    try:
        if not isinstance(data, dict) or data.get("target") != target:
            raise ValueError("not this model's conversation")
        panes = {
            str(name): [(str(u), str(r)) for u, r in exchanges]
            for name, exchanges in data["panes"].items()
        }
        versus = data.get("versus")
        return Conversation(panes, versus if isinstance(versus, str) else None), ""
    except (KeyError, TypeError, ValueError, AttributeError):
        # Valid JSON, but not a conversation this version can read: kept
        # aside as a damaged file is, or the next reply would overwrite it.
        return empty, _set_aside(path, "not a conversation this version can read")


def bounded(panes: dict[str, list[Exchange]]) -> dict[str, list[Exchange]]:
    """The last MAX_EXCHANGES per pane, then the oldest dropped until the
    whole fits MAX_CHARS."""
    kept = {name: list(ex[-MAX_EXCHANGES:]) for name, ex in panes.items()}

    def size() -> int:
        return sum(len(u) + len(r) for ex in kept.values() for u, r in ex)

    while size() > MAX_CHARS:
        longest = max(kept, key=lambda n: len(kept[n]))
        if not kept[longest]:
            break
        kept[longest].pop(0)
    return kept


def save_conversation(root: Path, target: str, conversation: Conversation) -> None:
    """Keep the conversation with `target`; an empty one removes its file."""
    path = conversation_path(root, target)
    panes = bounded({n: ex for n, ex in conversation.panes.items() if ex})
    if not panes:
        path.unlink(missing_ok=True)
        return
    data = {"target": target, "versus": conversation.versus, "panes": panes}
    _write(path, data)
