"""Chat with the student: one base model in memory, adapters swapped in place.

`ModelHost` loads a base model once on the MLX thread. Choosing a checkpoint
wraps the model's layers in mlx-lm's LoRA/DoRA layers and loads the adapter
weights; choosing the base model unwraps them again (the wrapped layers keep
the original ones, so nothing is read from disk). A full fine-tune replaces
weights, so the base weights are kept by reference and restored.

Replies stream through `on_chunk` (called on the MLX thread; front ends batch
before touching widgets) and stop cooperatively when `stop` is set.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.train.checkpoints import Checkpoint
from distill_tui.engine.mlx_thread import MLXThread, mlx_thread
from distill_tui.engine.models.end_tokens import EndCut, end_texts, end_token_ids

Message = dict[str, str]
T = TypeVar("T")
ChunkFn = Callable[[str], None]


@dataclass
class GenSettings:
    """Sampling settings; the same seed and settings give the same reply."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int = 0
    system_prompt: str = ""


@dataclass
class Reply:
    target: str  # "base" or a checkpoint label
    text: str
    tokens: int
    # Decoding speed after the first token; None for a reply of fewer than two
    # tokens, where there is no interval to measure (mlx-lm's own figure for
    # one token is its count over a few microseconds: "15332.5 tok/s").
    tokens_per_sec: float | None
    ttft_s: float | None  # time to first token, prompt processing included
    finish_reason: str  # "stop" (end token), "length" or "stopped" (by the user)
    prompt_tokens: int = 0


@dataclass(frozen=True)
class Target:
    """What answers: a base model, with or without one checkpoint's adapter."""

    model: str
    checkpoint: Checkpoint | None = None

    @property
    def label(self) -> str:
        return self.checkpoint.label if self.checkpoint else "base"

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> Target:
        return cls(checkpoint.base_model, checkpoint)

    def base(self) -> Target:
        return Target(self.model, None)


def build_messages(system: str, history: Sequence[tuple[str, str]], user: str) -> list[Message]:
    """A chat in the shape training used: optional system, turns, new user turn."""
    msgs: list[Message] = []
    if system.strip():
        msgs.append({"role": "system", "content": system})
    for q, a in history:
        msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    msgs.append({"role": "user", "content": user})
    return msgs


def student_model(ws: Workspace) -> str:
    """The project's student as the engine loads it, for chatting with the base
    model before any training run."""
    model = ws.settings.student.model.strip()
    if not model:
        raise UserError("no student model set (choose one on the Task screen, 1)")
    return paths.resolve_model(ws.root, model)


def training_system_prompt(ws: Workspace) -> str:
    """The system prompt training saw: the exported train split's own system
    message if there is one, else the task's instructions for chat-format data."""
    train = paths.data_dir(ws.root) / "train.jsonl"
    try:
        with open(train, encoding="utf-8") as f:
            first = json.loads(f.readline() or "null")
    except (OSError, json.JSONDecodeError):
        first = None
    if isinstance(first, dict):
        if "messages" in first:
            sys_msgs = [m for m in first["messages"] if m.get("role") == "system"]
            return str(sys_msgs[0]["content"]) if sys_msgs else ""
        if "prompt" in first:
            return ""  # completions format: mlx-lm trains without a system turn
    return ws.settings.task.instructions if ws.settings.split.format == "chat" else ""


def injected_system_prompt(tokenizer: Any) -> str | None:
    """The default system prompt a chat template adds when a chat has none
    (Qwen2.5's "You are Qwen, created by Alibaba Cloud..."), or None."""
    user_mark, sys_mark = "\x00USER\x00", "\x00SYSTEM\x00"
    try:
        bare = tokenizer.apply_chat_template(
            [{"role": "user", "content": user_mark}], tokenize=False
        )
        with_sys = tokenizer.apply_chat_template(
            [{"role": "system", "content": sys_mark}, {"role": "user", "content": user_mark}],
            tokenize=False,
        )
    except Exception:  # noqa: BLE001 - templates without system support: nothing injected
        return None
    bare_prefix = bare.split(user_mark, 1)[0]
    if sys_mark not in with_sys:
        return None
    header, rest = with_sys.split(sys_mark, 1)
    closer = rest.split(user_mark, 1)[0]  # end of system turn + start of user turn
    # Templates that fold the system prompt into the user turn have a header
    # that is just BOS or "[INST] ": whatever follows it in `bare` is empty.
    if not header.strip() or header not in bare_prefix:
        return None
    injected = bare_prefix.split(header, 1)[1]
    if closer and closer in injected:
        injected = injected.split(closer, 1)[0]
    return injected.strip() or None


# Indirection so tests can count how often a base model is read from disk.
def _load_model(path: str) -> tuple[Any, Any]:
    from mlx_lm import load

    from distill_tui.engine.models.gguf import mlx_path

    model, tokenizer = load(mlx_path(path))[:2]
    return model, tokenizer


@dataclass
class _Loaded:
    path: str
    model: Any
    tokenizer: Any
    base_params: list[tuple[str, Any]]
    default_system: str | None
    adapter: Checkpoint | None = None
    full_applied: bool = False


class ModelHost:
    """Holds one base model on the MLX thread and answers with any adapter."""

    def __init__(self, mlx: MLXThread | None = None) -> None:
        self.mlx = mlx or mlx_thread()
        self._loaded: _Loaded | None = None
        self.loads = 0  # base models read from disk, for the UI and tests

    # -- state (safe to read from any thread) -------------------------------
    @property
    def model_path(self) -> str | None:
        return self._loaded.path if self._loaded else None

    @property
    def adapter(self) -> Checkpoint | None:
        return self._loaded.adapter if self._loaded else None

    @property
    def default_system_prompt(self) -> str | None:
        return self._loaded.default_system if self._loaded else None

    def system_warning(self, system_prompt: str) -> str | None:
        """A warning when the template will add a system prompt of its own."""
        injected = self.default_system_prompt
        if injected and not system_prompt.strip():
            short = injected if len(injected) <= 80 else injected[:77] + "..."
            return (
                f"the chat template adds its own system prompt ({short!r}) when none is "
                "given; training used the task's system prompt, so set one"
            )
        return None

    # -- public API: each call runs on the MLX thread ------------------------
    def reply(
        self,
        target: Target,
        messages: list[Message],
        settings: GenSettings,
        on_chunk: ChunkFn | None = None,
        stop: threading.Event | None = None,
    ) -> Reply:
        """Answer with `target`, holding the "chat" lease so training cannot
        start half-way through."""
        with self.mlx.lease("chat"):
            return self.answer(target, messages, settings, on_chunk, stop)

    def answer(
        self,
        target: Target,
        messages: list[Message],
        settings: GenSettings,
        on_chunk: ChunkFn | None = None,
        stop: threading.Event | None = None,
    ) -> Reply:
        """`reply` for callers that already hold a lease (evaluation)."""
        return self.mlx.call(self._answer, target, messages, settings, on_chunk, stop)

    def answer_all(
        self,
        target: Target,
        prompts: Sequence[list[Message]],
        max_tokens: Sequence[int],
        on_answer: Callable[[int, str, str], None],
        stop: threading.Event | None = None,
    ) -> bool:
        """Greedy answers to many prompts, decoded together (see
        `engine.batch_answers`), for callers that hold a lease. False when
        `stop` cut it short."""
        from distill_tui.engine.chat.batch_answers import batch_answers

        def run() -> bool:
            loaded = self._select(target)
            return batch_answers(
                loaded.model, loaded.tokenizer, prompts, max_tokens, on_answer, stop
            )

        return self.mlx.call(run)

    def pair_accuracy(self, target: Target, pairs: Path, max_seq_length: int) -> tuple[int, int]:
        """(pairs whose chosen answer `target` finds likelier than the rejected
        one, pairs) over a preference file, log-probabilities over the answer
        tokens as training counts them. For callers that hold a lease."""
        from distill_tui.engine.train import pref_data

        def run() -> tuple[int, int]:
            loaded = self._select(target)
            data = pref_data.load(pairs, loaded.tokenizer, "pairs")
            if not len(data):
                return 0, 0
            try:
                pref_data.fill_reference(loaded.model, data, 4, max_seq_length)
            finally:
                loaded.model.eval()  # it leaves the model in training mode
            return sum(1 for chosen, rejected in data.reference if chosen > rejected), len(data)

        return self.mlx.call(run)

    def measure(self, target: Target, fn: Callable[[Any, Any], T]) -> T:
        """`fn(model, tokenizer)` with `target` in place, on the MLX thread
        (a perplexity, say). For callers that hold a lease."""

        def run() -> T:
            loaded = self._select(target)
            return fn(loaded.model, loaded.tokenizer)

        return self.mlx.call(run)

    def select(self, target: Target) -> None:
        """Load the base (once) and put `target`'s adapter in place."""
        self.mlx.call(self._select, target)

    # -- on the MLX thread -----------------------------------------------------
    def _ensure_base(self, path: str) -> _Loaded:
        if self._loaded is not None and self._loaded.path == path:
            return self._loaded
        from mlx.utils import tree_flatten

        self._loaded = None  # free the previous model before loading the next
        try:
            model, tokenizer = _load_model(path)
        except Exception as e:  # noqa: BLE001 - missing files, offline hub, bad config
            raise UserError(f"cannot load model {path}: {e}") from None
        self.loads += 1
        self._loaded = _Loaded(
            path=path,
            model=model,
            tokenizer=tokenizer,
            # References, not copies: loading adapter weights swaps arrays in
            # the module tree and leaves these intact.
            base_params=list(tree_flatten(model.parameters())),  # type: ignore[arg-type]
            default_system=injected_system_prompt(tokenizer),
        )
        return self._loaded

    def _select(self, target: Target) -> _Loaded:
        loaded = self._ensure_base(target.model)
        if loaded.adapter == target.checkpoint:
            return loaded
        if loaded.adapter is not None:
            _strip_adapter(loaded)
        if target.checkpoint is not None:
            _apply_adapter(loaded, target.checkpoint)
        return loaded

    def _answer(
        self,
        target: Target,
        messages: list[Message],
        settings: GenSettings,
        on_chunk: ChunkFn | None,
        stop: threading.Event | None,
    ) -> Reply:
        loaded = self._select(target)
        return stream_reply(
            loaded.model, loaded.tokenizer, messages, settings, target.label, on_chunk, stop
        )


def stream_reply(
    model: Any,
    tokenizer: Any,
    messages: list[Message],
    settings: GenSettings,
    label: str = "model",
    on_chunk: ChunkFn | None = None,
    stop: threading.Event | None = None,
) -> Reply:
    """Generate one reply with mlx-lm (on the MLX thread), chunk by chunk. It
    ends on every end token the model declares (see `engine.end_tokens`), and
    no end token's text reaches `on_chunk` or the reply."""
    import mlx.core as mx
    from mlx_lm import stream_generate
    from mlx_lm.sample_utils import make_sampler
    from mlx_lm.tokenizer_utils import TokenizerWrapper

    if not isinstance(tokenizer, TokenizerWrapper):
        tokenizer = TokenizerWrapper(tokenizer)
    ends = end_token_ids(tokenizer)
    tokenizer.eos_token_ids = ends
    cut = EndCut(end_texts(tokenizer, ends))
    # The template training used, so the end-of-turn token stops generation.
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True)
    mx.random.seed(settings.seed)
    sampler = make_sampler(temp=settings.temperature, top_p=settings.top_p)
    parts: list[str] = []
    ttft: float | None = None
    finish = "stop"
    n = 0
    t0 = time.perf_counter()
    t_first = t_last = t0
    gen = stream_generate(model, tokenizer, prompt, max_tokens=settings.max_tokens, sampler=sampler)

    def emit(text: str) -> None:
        if text:
            parts.append(text)
            if on_chunk is not None:
                on_chunk(text)

    try:
        for resp in gen:
            t_last = time.perf_counter()
            if ttft is None:
                ttft = t_last - t0
                t_first = t_last
            n = resp.generation_tokens
            if resp.finish_reason:
                finish = resp.finish_reason
            emit(cut.feed(resp.text))
            if cut.ended:
                finish = "stop"
                break
            if stop is not None and stop.is_set():
                finish = "stopped"
                break
        emit(cut.flush())
    finally:
        gen.close()
    return Reply(
        label, "".join(parts), n, decode_rate(n, t_last - t_first), ttft, finish, len(prompt)
    )


def decode_rate(tokens: int, seconds_after_first: float) -> float | None:
    """Tokens a second after the first token (whose time is prompt
    processing, shown as time to first token); None when fewer than two tokens
    leave no interval to measure."""
    if tokens < 2 or seconds_after_first <= 0:
        return None
    return (tokens - 1) / seconds_after_first


def strip_adapter(model: Any) -> None:
    """Unwrap LoRA/DoRA layers back to the layers they wrapped (on the MLX thread)."""
    from mlx.utils import tree_unflatten
    from mlx_lm.tuner.dora import DoRAEmbedding, DoRALinear
    from mlx_lm.tuner.lora import LoRAEmbedding, LoRALinear, LoRASwitchLinear

    restore = []
    for name, module in model.named_modules():
        if isinstance(module, LoRALinear | DoRALinear | LoRASwitchLinear):
            restore.append((name, module.linear))
        elif isinstance(module, LoRAEmbedding | DoRAEmbedding):
            restore.append((name, module.embedding))
    if restore:
        model.update_modules(tree_unflatten(restore))


def apply_adapter(model: Any, cp: Checkpoint, model_name: str = "the model") -> str:
    """Wrap `model`'s layers as the checkpoint's config says and load its
    weights (on the MLX thread). Returns the fine-tune type; a checkpoint that
    does not fit leaves the model as it was and raises `UserError`."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.utils import linear_to_lora_layers

    try:
        config = cp.config()
        weights: dict[str, Any] = mx.load(str(cp.weights))  # type: ignore[assignment]
    except (OSError, ValueError, RuntimeError) as e:  # mx.load raises RuntimeError
        raise UserError(f"cannot read checkpoint {cp.label}: {e}") from None
    kind = str(config.get("fine_tune_type", "lora"))
    if kind != "full":
        linear_to_lora_layers(
            model, config["num_layers"], config["lora_parameters"], use_dora=kind == "dora"
        )
    params = dict(tree_flatten(model.parameters()))
    bad = [k for k, w in weights.items() if k not in params or params[k].shape != w.shape]
    if bad:
        strip_adapter(model)
        raise UserError(
            f"checkpoint {cp.label} does not fit {model_name} "
            f"({len(bad)} tensors differ, e.g. {bad[0]})"
        )
    model.load_weights(list(weights.items()), strict=False)
    model.eval()
    return kind


def _strip_adapter(loaded: _Loaded) -> None:
    strip_adapter(loaded.model)
    if loaded.full_applied:
        loaded.model.load_weights(loaded.base_params, strict=False)
        loaded.full_applied = False
    loaded.adapter = None


def _apply_adapter(loaded: _Loaded, cp: Checkpoint) -> None:
    kind = apply_adapter(loaded.model, cp, loaded.path)
    loaded.full_applied = kind == "full"
    loaded.adapter = cp
