"""Run the fused student elsewhere: `mlx_lm.server`, LM Studio, Ollama, or a
GGUF file for llama.cpp. Every target that can be run here is checked with the
fuse probes: its greedy answers against the fused MLX model's.

- server: the `mlx_lm.server` command; with `check`, it is started on a free
  loopback port and asked the probes through the app's OpenAI-compatible client.
- lmstudio: links where LM Studio looks, the fused folder for its MLX engine
  and the GGUF for its llama.cpp engine (`engine.ship.lmstudio`).
- ollama: a Modelfile FROM the GGUF (or the folder), with its template, stop
  tokens and licence, and `ollama create` when Ollama is installed
  (`engine.ship.ollama`).
- gguf: a GGUF file (F16 or Q8_0), reloaded through the project's own GGUF
  loader and probed (`engine.ship.gguf_target`).

A shipped model that answers the probes differently beyond near-ties
(`engine.ship.probe`) makes the report not `ok`, and the command exit 1.
"""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.ship.provenance import Provenance
from distill_tui.engine.chat.session import Message, training_system_prompt
from distill_tui.engine.mlx_thread import mlx_thread
from distill_tui.engine.models.end_tokens import end_strings
from distill_tui.engine.ship import probe, task_check
from distill_tui.engine.ship.gguf_target import (
    ShipStopped,
    gguf_path,
    ship_gguf,
    student_of,
)
from distill_tui.engine.ship.lmstudio import lmstudio_dir, ship_lmstudio
from distill_tui.engine.ship.ollama import ship_ollama
from distill_tui.engine.ship.report import ShipReport

__all__ = [
    "TARGETS",
    "ShipReport",
    "ShipStopped",
    "lmstudio_dir",
    "ship",
    "ship_gguf",
    "ship_lmstudio",
    "ship_ollama",
]

TARGETS = ("server", "lmstudio", "ollama", "gguf")
_fused_answers = probe.greedy_answers
PROBE_TOKENS = probe.PROBE_TOKENS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def server_command(fused: Path, port: int = 8080) -> list[str]:
    return [sys.executable, "-m", "mlx_lm.server", "--model", str(fused), "--port", str(port)]


def curl_line(fused: Path, system: str, port: int = 8080) -> str:
    """The exact request to ask the served model, as a `curl` line: the
    training system prompt first, since the student learned with it."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": "YOUR INPUT"})
    body = {"model": str(fused), "messages": messages, "temperature": 0}
    return (
        f"curl http://127.0.0.1:{port}/v1/chat/completions"
        " -H 'Content-Type: application/json' -d " + shlex.quote(json.dumps(body))
    )


def ship_server(
    fused: Path, probes: list[list[Message]], check: bool, system: str = ""
) -> ShipReport:
    shown = " ".join(["mlx_lm.server", *server_command(fused)[3:]])
    report = ShipReport(
        "server",
        shown,
        [
            "then point an OpenAI client at http://127.0.0.1:8080/v1"
            + (", sending the system prompt the student was trained with:" if system else ":"),
            curl_line(fused, system),
        ],
    )
    if not check:
        return report
    import openai

    port = _free_port()
    proc = subprocess.Popen(
        server_command(fused, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise UserError("mlx_lm.server did not start; run the command to see why")
            time.sleep(0.5)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="not-needed")
        stop = end_strings(fused)
        report.lines.append(f"ask with stop={stop!r}: the end tokens the app stops at")
        served = []
        for m in probes:
            r = client.chat.completions.create(
                model=str(fused),
                messages=m,  # type: ignore[arg-type]
                temperature=0.0,
                max_tokens=PROBE_TOKENS,
                stop=stop[:4],
            )
            served.append(r.choices[0].message.content or "")
    except openai.APIError as e:
        raise UserError(f"mlx_lm.server did not answer the probes: {e}") from None
    finally:
        proc.terminate()
        proc.wait(10)
    reference = _fused_answers(fused, probes)
    result = probe.compare(fused, served, reference, probes, strip=True)
    report.probes, report.agree, report.ties = result.probes, result.agree, result.ties
    return report


def ship(
    ws: Workspace,
    fused: Path,
    target: str,
    probes: list[list[Message]],
    prov: Provenance | None,
    *,
    quant: str = "f16",
    out: Path | None = None,
    name: str | None = None,
    check: bool = False,
    stop: threading.Event | None = None,
    task_rows: int = task_check.DEFAULT_ROWS,
) -> ShipReport:
    """One target, as `distill-tui ship` and the Chat screen's Ship dialog
    both ask for it; a GGUF file goes beside the fused folder unless `out`.
    `stop` (SIGTERM, Ctrl-C) is looked at between stages. The shipped model
    then answers the first `task_rows` held-out rows beside the adapter
    (`engine.ship.task_check`), where it can be loaded here."""
    if target not in TARGETS:
        raise UserError(f"unknown ship target {target!r} (use {', '.join(TARGETS)})")
    task, why = task_check.task_rows(ws, prov, task_rows)
    if target == "gguf":
        gguf = gguf_path(ws, fused, quant, out, student_of(ws, prov))
        report = ship_gguf(ws, fused, gguf, quant, probes, prov, stop, task)
    elif target == "ollama":
        report = ship_ollama(ws, fused, name or fused.name.lower(), probes, prov, stop, task)
        if task is not None and report.task is None:
            why = (
                "no task check: no GGUF written now to load here (ship --target gguf checks"
                " the file on the task)"
            )
    else:
        if target == "server":
            report = ship_server(fused, probes, check, training_system_prompt(ws))
        else:
            report = ship_lmstudio(ws, fused, probes, prov, stop)
        if task is not None:
            if stop is not None and stop.is_set():
                raise ShipStopped(f"ship stopped by request before the task check; {fused}")
            mlx = mlx_thread()
            with mlx.lease("ship"):
                report.task = task_check.score(task, fused, task_check.FUSED, mlx)
    # First under the summary: what the shipped model scores, then how to run it.
    report.lines.insert(0, report.task.line() if report.task is not None else why)
    return report
