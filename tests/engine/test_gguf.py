"""The GGUF converter on small files the tests write (a random Llama laid out
as llama.cpp writes it: its tensor names, its q/k row order, F16 matrices,
the tokenizer in metadata), and the one-line errors for files it refuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.gguf_helpers import write_gguf
from support.tiny_task import write_split

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.train.preflight import model_layers
from distill_tui.demo.tiny import CHATML_TEMPLATE, DEFAULT_TEXTS
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.models import gguf


def test_a_llama_cpp_layout_converts_to_the_same_model(tmp_path):
    import mlx.core as mx
    from mlx_lm import load

    src = tmp_path / "test-model.F16.gguf"
    ref = write_gguf(src)
    folder = mlx_thread().call(gguf.convert, src, cache=tmp_path / "cache")
    assert folder.parent == tmp_path / "cache"
    model, tok = mlx_thread().call(load, str(folder))
    close = lambda: mx.allclose(model(ref["ids"]), ref["logits"], atol=1e-4).item()  # noqa: E731
    assert mlx_thread().call(close)
    config = json.loads((folder / "config.json").read_text())
    assert not config["tie_word_embeddings"] and config["eos_token_id"] == 2
    text = "Please add a dark mode to the dashboard."
    assert tok.encode(text) == ref["tokenizer"].encode(text).ids
    assert tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False
    ).endswith("<|im_start|>assistant\n")
    assert tok.eos_token_ids == {2}
    # The Train screen's layer check reads the header, without converting.
    assert model_layers(str(src)) == 2
    # A second call finds the cached folder; a renamed copy of the file too.
    src.rename(tmp_path / "renamed.gguf")
    again = mlx_thread().call(gguf.convert, tmp_path / "renamed.gguf", cache=tmp_path / "cache")
    assert again == folder


def test_mlx_path_converts_gguf_files_only(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    src = tmp_path / "m.gguf"
    write_gguf(src)
    folder = Path(mlx_thread().call(gguf.mlx_path, str(src)))
    assert folder.parent == paths.gguf_cache_dir() == tmp_path / "xdg" / "distill-tui" / "gguf"
    assert gguf.mlx_path("mlx-community/Qwen2.5-1.5B-Instruct-4bit").startswith("mlx-community")
    assert paths.resolve_model(tmp_path, "m.gguf") == str(src)  # core leaves it a file


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"general.architecture": "qwen2"}, "architecture 'qwen2' is not supported"),
        ({"tokenizer.ggml.model": "bert"}, "tokenizer model 'bert' is not supported"),
        ({"tokenizer.ggml.pre": "deepseek-coder"}, "pre-tokenizer 'deepseek-coder'"),
        ({"llama.block_count": None}, "metadata 'llama.block_count' is missing"),
    ],
)
def test_unsupported_models_are_refused_by_name(tmp_path, overrides, message):
    src = tmp_path / "odd.gguf"
    write_gguf(src, **overrides)
    with pytest.raises(UserError, match=message):
        mlx_thread().call(gguf.convert, src, cache=tmp_path / "cache")
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name != "stamps"]


def test_bad_files_give_one_clear_line(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_text("<html>not found</html>")
    with pytest.raises(UserError, match="not a GGUF file"):
        mlx_thread().call(gguf.mlx_path, str(fake))
    assert model_layers(str(fake)) is None
    with pytest.raises(UserError, match="no such GGUF file"):
        gguf.mlx_path(str(tmp_path / "missing.gguf"))
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 8)
    with pytest.raises(UserError, match="cut short or damaged"):
        mlx_thread().call(gguf.mlx_path, str(truncated))


def test_cli_names_the_bad_student_file_in_one_line(workspace, tmp_path):
    (workspace.root / "broken.gguf").write_text("not a model")
    workspace.settings.student.model = "broken.gguf"
    workspace.save_settings()
    write_split(workspace.root / "data")
    r = subprocess.run(
        [sys.executable, "-m", "distill_tui.cli", "train", str(workspace.root), "--iters", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "not a GGUF file" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_sentencepiece_vocabulary_tokenizes_as_sentencepiece_does(tmp_path):
    """Llama 2 / Mistral GGUFs carry SentencePiece pieces, scores and types;
    the rebuilt tokenizer must split text exactly as SentencePiece would."""
    import mlx.core as mx
    import sentencepiece as spm
    from mlx_lm.utils import load_tokenizer

    from distill_tui.engine.models.gguf_tokenizer import write_tokenizer

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(DEFAULT_TEXTS * 3) + "\nnaïve café 東京\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(tmp_path / "sp"), vocab_size=400,
        model_type="bpe", byte_fallback=True, character_coverage=1.0,
        bos_id=1, eos_id=2, unk_id=0, pad_id=-1,
        # As Llama's own model: no normalization, spaces kept.
        normalization_rule_name="identity", remove_extra_whitespaces=False,
    )  # fmt: skip
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "sp.model"))
    # llama.cpp's converter: piece, score and type of every id.
    types = [
        2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i) else 1
        for i in range(sp.get_piece_size())
    ]
    meta = {
        "general.architecture": "llama",
        "tokenizer.ggml.model": "llama",
        "tokenizer.ggml.tokens": [sp.id_to_piece(i) for i in range(sp.get_piece_size())],
        "tokenizer.ggml.scores": mx.array([sp.get_score(i) for i in range(sp.get_piece_size())]),
        "tokenizer.ggml.token_type": mx.array(types),
        "tokenizer.ggml.bos_token_id": mx.array(1),
        "tokenizer.ggml.eos_token_id": mx.array(2),
        "tokenizer.ggml.unknown_token_id": mx.array(0),
        "tokenizer.chat_template": CHATML_TEMPLATE,
    }
    out = tmp_path / "tok"
    out.mkdir()
    assert write_tokenizer(meta, out, "sp.gguf") == {"bos_token_id": 1, "eos_token_id": 2}
    tok = load_tokenizer(out)
    for text in ["The app crashes when I open the settings page.", "naïve café 東京 ∑ 🙂", "a  b"]:
        ids = tok.encode(text)
        assert ids[0] == 1 and ids[1:] == sp.encode(text)  # BOS first, as llama.cpp adds it
        assert tok.decode(ids, skip_special_tokens=True) == text


def test_a_local_teacher_may_be_a_gguf_file(workspace, tmp_path):
    from distill_tui.core.generate import queue as q
    from distill_tui.engine.generate.queue import run_queue

    src = tmp_path / "teacher.gguf"
    write_gguf(src)
    t = workspace.settings.teacher
    t.provider, t.model, t.max_tokens = "mlx", str(src), 4
    workspace.store.add_inputs([("The app crashes", None), ("I was charged twice", None)])
    result = run_queue(workspace)
    assert result.reason == "finished" and result.progress.done == 2
    assert q.history(workspace.store, 1)[0]["teacher"] == f"mlx:{src}"


def test_a_gguf_student_is_counted_with_its_own_tokenizer_and_listed(
    workspace, tmp_path, monkeypatch
):
    from distill_tui.core import sysinfo
    from distill_tui.engine.generate.estimate import estimate

    # A cache of its own: other tests convert GGUF files with the same bytes.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    models = workspace.root / "models"
    models.mkdir()
    write_gguf(models / "student.F16.gguf")
    ws = workspace
    ws.settings.student.model = "models/student.F16.gguf"
    ws.settings.teacher.provider = "openai"
    ws.store.add_inputs([("The app crashes when I open the settings page.", None)])
    assert "(GGUF student not converted yet)" in estimate(ws).describe()
    folder = Path(mlx_thread().call(gguf.mlx_path, str(models / "student.F16.gguf")))
    assert "inputs with the student's tokenizer" in estimate(ws).describe()
    # Another GGUF converted from elsewhere is listed by its cache folder.
    other = tmp_path / "elsewhere" / "other.F16.gguf"
    other.parent.mkdir()
    write_gguf(other, **{"general.name": "other"})
    other_folder = Path(mlx_thread().call(gguf.mlx_path, str(other)))
    listed = {m.model: m.label for m in sysinfo.gguf_models(ws.root)}
    assert listed["models/student.F16.gguf"] == "models/student.F16.gguf"
    assert listed[str(other_folder)] == "other.F16.gguf (converted)"
    assert str(folder) not in listed  # the project's own file stands for its folder
