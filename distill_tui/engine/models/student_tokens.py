"""Count tokens the way training will: the student's tokenizer and chat
template, applied to the same messages the export writes.

Loading goes through the MLX thread (it imports mlx_lm); counting itself is
plain tokenizer work and runs on the caller's thread.
"""

from __future__ import annotations

from distill_tui.core.curate.checks import TokenCounter
from distill_tui.core.errors import UserError
from distill_tui.engine.mlx_thread import MLXThread, mlx_thread


def _load(model: str):  # noqa: ANN202 - a transformers tokenizer wrapper
    from mlx_lm.utils import load_tokenizer

    from distill_tui.engine.models.gguf import mlx_path

    return load_tokenizer(mlx_path(model))


def not_here(e: BaseException) -> bool:
    """A Hub id that is not in the cache, with no way to fetch it (offline,
    or no network): huggingface_hub's long message says no more than that."""
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    return isinstance(e, LocalEntryNotFoundError | OfflineModeIsEnabled)


def load_token_counter(model: str, thread: MLXThread | None = None) -> TokenCounter:
    """A `TokenCounter` for the student `model` (a path or a Hub id; fetches
    only the tokenizer files if the model is not downloaded yet)."""
    try:
        tok = (thread or mlx_thread()).call(_load, model)
    except Exception as e:  # noqa: BLE001 - offline, missing repo, bad files
        if not_here(e):
            raise UserError(
                f"the student's tokenizer ({model}) is not on this machine and the Hub could"
                f" not be reached; online, this fetches it (its tokenizer files only), or"
                f" `hf download {model}` fetches the whole model"
            ) from None
        raise UserError(f"cannot load the student's tokenizer {model!r}: {e}") from None

    def count(messages: list[dict]) -> int:
        if getattr(tok, "chat_template", None):
            return len(tok.apply_chat_template(messages, return_dict=False))
        # No chat template: mlx-lm would fail to train on chat data anyway;
        # count the plain text so the length check still means something.
        return len(tok.encode("\n".join(m["content"] for m in messages)))

    return count
