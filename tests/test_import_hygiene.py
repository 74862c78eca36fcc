"""core and engine must not import textual: they serve the headless CLI too."""

import subprocess
import sys


def test_core_and_engine_do_not_import_textual():
    code = (
        "import pkgutil, importlib, sys\n"
        "import distill_tui.core, distill_tui.engine\n"
        "for pkg in (distill_tui.core, distill_tui.engine):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(bad)\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_core_does_not_import_mlx():
    code = (
        "import pkgutil, importlib, sys\n"
        "import distill_tui.core\n"
        "for m in pkgutil.walk_packages(distill_tui.core.__path__, 'distill_tui.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('mlx', 'mlx_lm', 'textual'))\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_app_opens_without_importing_mlx_or_the_api_clients():
    """Heavy imports wait until a job needs them, so the first screen is fast."""
    code = (
        "import sys\n"
        "import distill_tui.cli, distill_tui.ui.app\n"
        "heavy = ('mlx', 'mlx_lm', 'anthropic', 'openai', 'transformers')\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy})\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
