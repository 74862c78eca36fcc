"""What the Chat screen keeps between sessions, per project, in
`.distill/chat/`: its settings (`settings.json`: sampling, max tokens, the
system prompt if changed, compare on or off) and the conversation with each
model picked (one file per model, named by a hash of its picker key).

A file is written whole to a temporary name and renamed, so a crash leaves
the previous one. Each conversation keeps its last `MAX_EXCHANGES` exchanges
per pane and at most `MAX_CHARS` characters in all (older exchanges go
first). A file that cannot be read is set aside as `*.bad` and the chat
starts empty, with a notice that says so: never a crash."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from distill_tui.core.display import shown

MAX_EXCHANGES = 100
MAX_CHARS = 1_000_000
Exchange = tuple[str, str]  # (what the user sent, the model's reply)


@dataclass
class ChatState:
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int = 0
    system_prompt: str | None = None  # None: the task's training prompt
    compare: bool = False


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


def _read(path: Path) -> tuple[object, str]:
    """The file's JSON (None when there is no file) and a notice when it was
    unreadable and set aside."""
    try:
        return json.loads(path.read_text(encoding="utf-8")), ""
    except FileNotFoundError:
        return None, ""
    except (OSError, ValueError) as e:
        bad = path.with_name(path.name + ".bad")
        try:
            os.replace(path, bad)
        except OSError:
            bad = path
        why = e.strerror if isinstance(e, OSError) and e.strerror else "not valid JSON"
        return None, f"{shown(path)}: unreadable ({why}); kept as {bad.name}, starting empty"


def load_state(root: Path) -> tuple[ChatState, str]:
    """The saved settings; a value of the wrong type keeps its default."""
    data, notice = _read(chat_dir(root) / "settings.json")
    state = ChatState()
    if not isinstance(data, dict):
        return state, notice
    number = (int, float)
    for name, kind in (
        ("temperature", number),
        ("top_p", number),
        ("max_tokens", int),
        ("seed", int),
    ):
        value = data.get(name)
        if isinstance(value, kind) and not isinstance(value, bool):
            setattr(state, name, type(getattr(state, name))(value))
    if isinstance(data.get("compare"), bool):
        state.compare = data["compare"]
    if isinstance(data.get("system_prompt"), str):
        state.system_prompt = data["system_prompt"]
    return state, notice


def save_state(root: Path, state: ChatState) -> None:
    _write(chat_dir(root) / "settings.json", asdict(state))


def load_conversation(root: Path, target: str) -> tuple[Conversation, str]:
    data, notice = _read(conversation_path(root, target))
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
        path = conversation_path(root, target)
        return empty, f"{shown(path)}: not a conversation this version wrote; starting empty"


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
