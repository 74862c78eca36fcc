"""What the machine offers: the models already in the Hugging Face cache and
memory, read with the maintained libraries (huggingface_hub, psutil)."""

from __future__ import annotations

from support.hf_cache import cache_repo

from distill_tui.core import sysinfo
from distill_tui.engine.mlx_thread import mlx_thread


def test_cached_models_lists_what_mlx_lm_can_load(tmp_path, tiny_model):
    cache = tmp_path / "hub"
    files = {p.name: p for p in tiny_model.iterdir() if p.is_file()}
    cache_repo(cache, "model", "mlx-community/tiny-qwen", files, "a" * 40)
    small = {"config.json": tiny_model / "config.json"}
    cache_repo(cache, "model", "someone/small", small, "b" * 40)
    cache_repo(cache, "dataset", "someone/data", small, "c" * 40)  # not a model
    (cache / "not-a-repo").mkdir()

    found = sysinfo.cached_models(cache)
    assert [m.repo_id for m in found] == ["mlx-community/tiny-qwen", "someone/small"]
    size = sum(p.stat().st_size for p in files.values())
    assert found[0].size_bytes == size
    # The listed path is a folder mlx_lm.load takes as it is.
    from mlx_lm import load

    model, _tok = mlx_thread().call(load, str(found[0].path))
    assert model is not None


def test_no_cache_is_no_models(tmp_path):
    assert sysinfo.cached_models(tmp_path / "nowhere") == []


def test_memory_figures_are_the_machines_and_the_process_rss_grows_with_use():
    import psutil

    total, avail = sysinfo.total_memory_bytes(), sysinfo.available_memory_bytes()
    assert total == psutil.virtual_memory().total
    assert avail is not None and 0 < avail <= total
    before = sysinfo.process_rss_bytes()
    block = bytearray(64 * 1024 * 1024)  # touched, so it is resident
    for i in range(0, len(block), 4096):
        block[i] = 1
    assert sysinfo.process_rss_bytes() >= before + 48 * 1024 * 1024
    # The guide's recommendation reads the same figure.
    assert sysinfo.recommend_student(total) in dict(sysinfo.RECOMMENDATIONS).values()


def test_a_local_openai_compatible_server_needs_no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    for url in ("http://localhost:11434/v1", "http://127.0.0.1:8080", "http://192.168.1.5/v1"):
        assert sysinfo.api_key_present("openai", url) is None, url
    assert sysinfo.api_key_present("openai", "https://api.groq.com/openai/v1") is False
    assert sysinfo.api_key_present("openai") is False
    assert sysinfo.api_key_present("anthropic", "http://localhost:1") is False
