"""Layering, checked in a fresh interpreter: core and engine never import
textual (they serve the headless CLI too), core never imports mlx, and the app
opens without the heavy packages a job imports when it needs them."""

from __future__ import annotations

import json
import subprocess
import sys


def top_level_modules_after(imports: str, walk: tuple[str, ...] = ()) -> set[str]:
    """The top-level packages loaded after `imports`, and after importing every
    module below the packages in `walk`."""
    code = (
        "import importlib, json, pkgutil, sys\n"
        f"{imports}\n"
        f"for name in {walk!r}:\n"
        "    pkg = importlib.import_module(name)\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, name + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stdout))


def test_core_and_engine_do_not_import_textual():
    loaded = top_level_modules_after("", walk=("distill_tui.core", "distill_tui.engine"))
    assert "distill_tui" in loaded
    assert "textual" not in loaded


def test_core_does_not_import_mlx():
    loaded = top_level_modules_after("", walk=("distill_tui.core",))
    assert not loaded & {"mlx", "mlx_lm", "textual"}


def test_the_app_opens_without_importing_mlx_or_the_api_clients():
    """Heavy imports wait until a job needs them, so the first screen is fast."""
    loaded = top_level_modules_after("import distill_tui.cli, distill_tui.ui.app")
    assert "textual" in loaded
    assert not loaded & {"mlx", "mlx_lm", "anthropic", "openai", "transformers"}
