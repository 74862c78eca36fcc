"""Build a tiny random-weight Qwen2 model with a byte-level BPE tokenizer.

The tests and the offline demo use it: it loads with ``mlx_lm.load`` like any
Hugging Face MLX model, trains in seconds on a CPU, and needs no download.
Call it on the MLX thread (it creates MLX arrays).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def _train_tokenizer(texts: Iterable[str], vocab_size: int, out: Path) -> int:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    tok.save(str(out / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "model_max_length": 4096,
        "chat_template": CHATML_TEMPLATE,
        "clean_up_tokenization_spaces": False,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    (out / "special_tokens_map.json").write_text(
        json.dumps({"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"})
    )
    return tok.get_vocab_size()


DEFAULT_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Classify the support ticket as billing, bug, feature or account.",
    "I was charged twice for my subscription this month.",
    "The app crashes when I open the settings page.",
    "Please add a dark mode to the dashboard.",
    "I cannot log in to my account after resetting my password.",
    "Summarise the note in one sentence.",
    "billing bug feature account positive negative neutral yes no",
    '{"label": "billing", "confidence": 0.9}',
]


def build_tiny_model(
    path: str | Path,
    texts: Iterable[str] | None = None,
    *,
    vocab_size: int = 512,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    intermediate_size: int = 128,
    seed: int = 0,
) -> Path:
    """Write a loadable random-weight Qwen2 model folder at ``path``."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models import qwen2

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    corpus = list(texts) if texts is not None else []
    corpus += DEFAULT_TEXTS
    real_vocab = _train_tokenizer(corpus, vocab_size, out)
    ids = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
    config = {
        "model_type": "qwen2",
        "architectures": ["Qwen2ForCausalLM"],
        "hidden_size": hidden_size,
        "num_hidden_layers": num_layers,
        "intermediate_size": intermediate_size,
        "num_attention_heads": num_heads,
        "num_key_value_heads": num_kv_heads,
        "rms_norm_eps": 1e-6,
        "vocab_size": real_vocab,
        "max_position_embeddings": 4096,
        "rope_theta": 10000.0,
        "tie_word_embeddings": True,
        "eos_token_id": ids["<|im_end|>"],
        "bos_token_id": None,
        "torch_dtype": "float32",
    }
    mx.random.seed(seed)
    args = qwen2.ModelArgs.from_dict(config)
    model = qwen2.Model(args)
    weights = dict(tree_flatten(model.parameters()))
    mx.save_safetensors(str(out / "model.safetensors"), weights, metadata={"format": "mlx"})
    (out / "config.json").write_text(json.dumps(config, indent=2))
    return out
