"""Run the fused student elsewhere: `mlx_lm.server`, LM Studio, Ollama, or a
GGUF file for llama.cpp. Every target that can be run here is checked with the
fuse probes: its greedy answers against the fused MLX model's.

- server: the `mlx_lm.server` command; with `check`, it is started on a free
  loopback port and asked the probes through the app's OpenAI-compatible client.
- lmstudio: a link (not a copy) to the fused folder where LM Studio looks.
- ollama: a Modelfile (FROM the fused folder, which must not be quantized:
  Ollama converts F32/F16/BF16 safetensors, not MLX's quantized weights; the
  training system prompt as SYSTEM; greedy parameters), and `ollama create`
  when Ollama is installed.
- gguf: `engine.ship_gguf` (F16 or Q8_0), reloaded through the project's own
  GGUF loader and probed.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from distill_tui.core import paths
from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.ship.provenance import Provenance
from distill_tui.engine.chat.session import (
    Message,
    ModelHost,
    Target,
    training_system_prompt,
)
from distill_tui.engine.mlx_thread import mlx_thread

TARGETS = ("server", "lmstudio", "ollama", "gguf")
PROBE_TOKENS = 32


@dataclass
class ShipReport:
    target: str
    where: str  # the file, link or command made
    lines: list[str] = field(default_factory=list)  # what to run next, what was skipped
    probes: int = 0
    agree: int | None = None  # None: not checked here (and `lines` says why)

    def summary(self) -> str:
        head = f"{self.target}: {self.where}"
        if self.agree is None:
            return head
        return f"{head}; greedy probes agree with the fused model {self.agree}/{self.probes}"


def _fused_answers(fused: Path, probes: list[list[Message]]) -> list[str]:
    """Greedy answers, decoded together (the same text as one at a time: the
    batched evaluation's real-model test holds it)."""
    answers: dict[int, str] = {}
    ModelHost().answer_all(
        Target(str(fused)),
        probes,
        [PROBE_TOKENS] * len(probes),
        lambda i, text, _why: answers.__setitem__(i, text),
    )
    return [answers[i] for i in range(len(probes))]


def ship_gguf(
    ws: Workspace,
    fused: Path,
    out: Path,
    quant: str,
    probes: list[list[Message]],
    prov: Provenance | None,
) -> ShipReport:
    from distill_tui.engine.models.gguf import convert
    from distill_tui.engine.ship.gguf_writer import OTHER_ROUTES, write_gguf

    student = Path(paths.resolve_model(ws.root, ws.settings.student.model))
    if not (paths.is_gguf(str(student)) and student.is_file()):
        raise UserError(
            OTHER_ROUTES.format(arch="a student that is not a GGUF file")
            + " (the tokenizer metadata is copied from the student's own GGUF)"
        )
    mlx = mlx_thread()
    with mlx.lease("ship"):
        mlx.call(write_gguf, fused, student, out, quant, prov)
        back = mlx.call(convert, out, cache=out.parent / f".{out.name}.check")
    try:
        shipped = _fused_answers(back, probes)
        reference = _fused_answers(fused, probes)
    finally:
        shutil.rmtree(out.parent / f".{out.name}.check", ignore_errors=True)
    agree = sum(a == b for a, b in zip(shipped, reference, strict=True))
    return ShipReport(
        "gguf",
        str(out),
        [f"llama.cpp: llama-cli -m {out}", f"Ollama: a Modelfile with `FROM {out}`"],
        len(probes),
        agree,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def end_strings(fused: Path) -> list[str]:
    """The texts of the end tokens the app stops a reply at; mlx_lm.server
    stops only at the tokenizer's eos unless asked to stop at these."""
    from mlx_lm.tokenizer_utils import load as load_tokenizer

    from distill_tui.engine.models.end_tokens import end_texts, end_token_ids

    tokenizer = load_tokenizer(fused)
    return end_texts(tokenizer, end_token_ids(tokenizer))


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
    report.probes = len(probes)
    report.agree = sum(a.strip() == b.strip() for a, b in zip(served, reference, strict=True))
    return report


def lmstudio_dir() -> Path:
    """Where LM Studio looks for models (LMSTUDIO_MODELS_DIR overrides)."""
    env = os.environ.get("LMSTUDIO_MODELS_DIR")
    return Path(env).expanduser() if env else Path.home() / ".lmstudio" / "models"


def ship_lmstudio(fused: Path) -> ShipReport:
    link = lmstudio_dir() / "distill-tui" / fused.name
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.resolve() == fused.resolve():
        pass
    elif link.exists() or link.is_symlink():
        raise UserError(f"{link}: already exists; remove it or rename the fused folder")
    else:
        link.symlink_to(fused.resolve(), target_is_directory=True)
    return ShipReport(
        "lmstudio",
        f"{link} -> {fused}",
        [
            "LM Studio lists it under distill-tui/ (MLX engine, Apple Silicon); same files as "
            "the fused model, so its answers are the fused model's"
        ],
    )


def ship_ollama(ws: Workspace, fused: Path, name: str) -> ShipReport:
    config = json.loads((fused / "config.json").read_text(encoding="utf-8"))
    if "quantization" in config or "quantization_config" in config:
        raise UserError(
            f"{fused}: holds MLX-quantized weights, which Ollama cannot convert; "
            "fuse again with --dequantize"
        )
    system = training_system_prompt(ws)
    lines = [f"FROM {fused.resolve()}"]
    if system:
        lines.append('SYSTEM """' + system.replace('"""', '\\"\\"\\"') + '"""')
    lines += ["PARAMETER temperature 0", "PARAMETER top_k 1"]
    modelfile = fused / "Modelfile"
    modelfile.write_text("\n".join(lines) + "\n", encoding="utf-8")
    create = ["ollama", "create", name, "-q", "q4_K_M", "-f", str(modelfile)]
    report = ShipReport("ollama", str(modelfile))
    if shutil.which("ollama") is None:
        report.lines.append("Ollama is not installed here; then run: " + " ".join(create))
        return report
    done = subprocess.run(create, capture_output=True, text=True)
    if done.returncode != 0:
        raise UserError(f"ollama create failed: {(done.stderr or done.stdout).strip()[-300:]}")
    report.lines.append(f"created; run it with: ollama run {name}")
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
) -> ShipReport:
    """One target, as `distill-tui ship` and the Chat screen's Ship dialog
    both ask for it; a GGUF file goes beside the fused folder unless `out`."""
    if target == "gguf":
        gguf = (out or fused.with_name(f"{fused.name}-{quant}.gguf")).expanduser()
        return ship_gguf(ws, fused, gguf.resolve(), quant, probes, prov)
    if target == "server":
        return ship_server(fused, probes, check, training_system_prompt(ws))
    if target == "lmstudio":
        return ship_lmstudio(fused)
    if target == "ollama":
        return ship_ollama(ws, fused, name or fused.name.lower())
    raise UserError(f"unknown ship target {target!r} (use {', '.join(TARGETS)})")
