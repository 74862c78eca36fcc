"""Layering, checked in a fresh interpreter: core and engine never import
textual (they serve the headless CLI too), core never imports mlx, and the app
opens without the heavy packages a job imports when it needs them."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path


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


def test_the_first_screen_loads_only_what_it_draws(tmp_path):
    """In a fresh interpreter, the app drawn on a project's first screen (Task)
    has imported none of mlx, mlx-lm, the hub client, the price table, the
    API clients or pydantic (distill.toml is read without it), and none of the
    other four screens: they load when opened.
    The hub cache listing (huggingface_hub) runs after the first paint, in a
    thread: the modules are read as it starts."""
    from distill_tui.core.project import Workspace

    Workspace.create(tmp_path / "proj").store.close()
    code = (
        "import asyncio, json, sys, threading\n"
        "from pathlib import Path\n"
        "from distill_tui.core import sysinfo\n"
        "from distill_tui.core.project import Workspace\n"
        "from distill_tui.ui.app import DistillApp\n"
        "seen = {}\n"
        "real = sysinfo.cached_models\n"
        "def listing(cache=None):\n"
        "    seen['modules'] = sorted(sys.modules)\n"
        "    seen['main'] = threading.current_thread() is threading.main_thread()\n"
        "    return real(cache)\n"
        "sysinfo.cached_models = listing\n"
        "async def main():\n"
        f"    root = Path({str(tmp_path / 'proj')!r})\n"
        "    app = DistillApp(root=root, workspace=Workspace.open(root))\n"
        "    async with app.run_test(size=(80, 24)) as pilot:\n"
        "        for _ in range(200):\n"
        "            await pilot.pause(0.05)\n"
        "            if 'modules' in seen: break\n"
        "        assert type(app.screen).__name__ == 'TaskScreen'\n"
        "        print(json.dumps(seen))\n"
        "asyncio.run(main())\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout.strip().splitlines()[-1])
    assert seen["main"] is False  # listed in a thread, not before the screen is drawn
    loaded = set(seen["modules"])
    tops = {m.split(".")[0] for m in loaded}
    heavy = {
        *("mlx", "mlx_lm", "huggingface_hub", "genai_prices", "anthropic", "openai"),
        "pydantic",
    }
    assert not tops & heavy, sorted(tops & heavy)
    others = {f"distill_tui.ui.screens.{s}" for s in ("queue", "curate", "train", "chat")}
    assert not loaded & others, sorted(loaded & others)
    assert "distill_tui.ui.screens.task.screen" in loaded
    # Loaded when their key is pressed, not to draw the form.
    later = {
        "distill_tui.ui.screens.task.import_dialog",
        "distill_tui.ui.screens.task.synth_dialog",
        "distill_tui.core.synth.candidates",
        "distill_tui.core.dataset.dedup",
        "distill_tui.core.evaluate.metrics",
    }
    assert not loaded & later, sorted(loaded & later)


def _imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """The project's modules `path` imports, at the top or inside a function
    (a lazy import is still a dependency), leaving out `if TYPE_CHECKING:`."""
    found: set[str] = set()
    todo: list[ast.AST] = [ast.parse(path.read_text())]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        todo.extend(ast.iter_child_nodes(node))
    return {m for m in found if m in known and m != module}


def test_no_two_modules_import_each_other():
    root = Path(__file__).resolve().parents[1] / "distill_tui"
    paths = {}
    for p in root.rglob("*.py"):
        name = ".".join(p.relative_to(root.parent).with_suffix("").parts)
        paths[name.removesuffix(".__init__")] = p
    graph = {m: _imports_of(p, m, set(paths)) for m, p in paths.items()}

    def reaches(start: str, goal: str) -> list[str] | None:
        """A path of imports from start to goal, if there is one."""
        seen, todo = {start}, [[start]]
        while todo:
            trail = todo.pop()
            for nxt in graph[trail[-1]]:
                if nxt == goal:
                    return [*trail, nxt]
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append([*trail, nxt])
        return None

    circles = [c for m in sorted(graph) for d in sorted(graph[m]) if (c := reaches(d, m))]
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_every_benchmark_imports_what_exists():
    """bench/ scripts are run by hand, not by the suite: a module moved in the
    package must not leave one pointing at a name that is gone."""
    missing = []
    for script in sorted((Path(__file__).resolve().parents[1] / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("distill_tui"):
                module = importlib.import_module(node.module or "")
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.append(f"{script.name}: {node.module}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("distill_tui"):
                        try:
                            importlib.import_module(alias.name)
                        except ImportError:
                            missing.append(f"{script.name}: {alias.name}")
    assert not missing, missing
