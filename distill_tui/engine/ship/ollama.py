"""`ship --target ollama`: a Modelfile that runs the student as the app runs it.

Ollama's converter reads a safetensors folder's chat template only from
`tokenizer_config.json`; the fused folder keeps it in `chat_template.jinja`,
so `FROM <folder>` alone ran the model on the raw prompt (no template, no
system prompt: the demo's student answered `'ira'` for a label). So:

- FROM the GGUF we write (written and probed when missing: its
  `tokenizer.chat_template` is there for Ollama to detect), or, for a student
  with no GGUF route, the folder with the template copied into its
  `tokenizer_config.json`;
- an explicit TEMPLATE when the chat template renders as ChatML on the
  prompts the app sends (checked here, prompt by prompt), SYSTEM the training
  system prompt (or the one the template injects), PARAMETER stop for each
  end token, greedy parameters, and LICENSE;
- the report says which file was probed, and that a quantization Ollama makes
  itself (`-q q4_K_M`) is not.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from distill_tui.core.errors import UserError
from distill_tui.core.project import Workspace
from distill_tui.core.ship.provenance import Provenance
from distill_tui.engine.chat.session import Message, injected_system_prompt, training_system_prompt
from distill_tui.engine.ship.gguf_target import ensure_gguf
from distill_tui.engine.ship.report import ShipReport
from distill_tui.engine.ship.task_check import TaskRows

# Ollama's Go template for ChatML, and the same text as Python renders it.
CHATML_GO = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n"
    "{{ end }}<|im_start|>assistant\n"
)


def chatml(messages: list[Message]) -> str:
    """What CHATML_GO renders for `messages` with a generation prompt."""
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return turns + "<|im_start|>assistant\n"


def _quoted(text: str) -> str:
    return '"""' + text.replace('"""', '\\"\\"\\"') + '"""'


def template_checked(tokenizer: Any, conversations: list[list[Message]]) -> bool:
    """The student's chat template renders every conversation as ChatML."""
    try:
        return all(
            tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True)
            == chatml(m)
            for m in conversations
        )
    except Exception:  # noqa: BLE001 - a template that cannot render these: not ChatML
        return False


def _with_system(messages: list[Message], system: str) -> list[Message]:
    """A conversation as Ollama sends it: SYSTEM first unless one is there."""
    if not system or (messages and messages[0]["role"] == "system"):
        return list(messages)
    return [{"role": "system", "content": system}, *messages]


def _template_into_config(fused: Path) -> bool:
    """Copy chat_template.jinja into tokenizer_config.json, where Ollama's
    converter looks for it; True when the config has a template after."""
    config_path = fused / "tokenizer_config.json"
    jinja = fused / "chat_template.jinja"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(config, dict):
        return False
    if config.get("chat_template"):
        return True
    if not jinja.is_file():
        return False
    config["chat_template"] = jinja.read_text(encoding="utf-8")
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return True


def _licence(prov: Provenance | None) -> str:
    if prov is None:
        return "unknown: no provenance.json beside the fused model"
    lines = [f"student licence: {prov.student_license} (from {prov.license_source})"]
    if prov.passes_on:
        lines.append(f"a teacher's terms pass on to this model: {prov.passes_on}")
    lines += [f"teacher {t.teacher}: {t.terms}" for t in prov.teachers]
    return "\n".join(lines)


def modelfile_text(
    source: Path,
    system: str,
    stops: list[str],
    template: bool,
    licence: str,
) -> str:
    lines = [f"FROM {source}"]
    if template:
        lines.append(f"TEMPLATE {_quoted(CHATML_GO)}")
    if system:
        lines.append(f"SYSTEM {_quoted(system)}")
    lines += [f"PARAMETER stop {json.dumps(s)}" for s in stops]
    lines += ["PARAMETER temperature 0", "PARAMETER top_k 1", f"LICENSE {_quoted(licence)}"]
    return "\n".join(lines) + "\n"


def ship_ollama(
    ws: Workspace,
    fused: Path,
    name: str,
    probes: list[list[Message]],
    prov: Provenance | None,
    stop: threading.Event | None = None,
    task: TaskRows | None = None,
) -> ShipReport:
    from mlx_lm.tokenizer_utils import load as load_tokenizer

    from distill_tui.engine.models.end_tokens import end_strings

    gguf, gguf_report, gguf_line = ensure_gguf(ws, fused, probes, prov, stop, task=task)
    if gguf is None:
        config = json.loads((fused / "config.json").read_text(encoding="utf-8"))
        if "quantization" in config or "quantization_config" in config:
            raise UserError(
                f"{fused}: holds MLX-quantized weights, which Ollama cannot convert; "
                "fuse again with --dequantize"
            )
    tokenizer = load_tokenizer(fused)
    system = training_system_prompt(ws) or injected_system_prompt(tokenizer) or ""
    conversations = [_with_system(m, system) for m in probes] or [
        _with_system([{"role": "user", "content": "Hello"}], system)
    ]
    template = template_checked(tokenizer, conversations)
    source = gguf if gguf is not None else fused.resolve()
    if gguf is None:
        _template_into_config(fused)
    modelfile = fused / "Modelfile"
    text = modelfile_text(source, system, end_strings(fused), template, _licence(prov))
    modelfile.write_text(text, encoding="utf-8")

    report = ShipReport("ollama", str(modelfile))
    if gguf_report is not None:
        report.task = gguf_report.task
        report.probes, report.agree, report.ties = (
            gguf_report.probes,
            gguf_report.agree,
            gguf_report.ties,
        )
    if gguf is not None:
        report.lines.append(f"FROM the GGUF: {gguf_line}")
    else:
        report.lines.append(
            f"FROM the fused folder, unprobed: Ollama converts it itself ({gguf_line})"
        )
    n = len(conversations)
    report.lines.append(
        f"TEMPLATE: ChatML, rendered as the student's chat template on {n} probe prompt(s)"
        if template
        else "no TEMPLATE: the chat template is not ChatML; Ollama picks one from the "
        + ("GGUF's tokenizer.chat_template" if gguf else "tokenizer_config.json")
        + " (not checked here)"
    )
    create = ["ollama", "create", name, "-f", str(modelfile)]
    smaller = f"smaller: ollama create {name} -q q4_K_M -f {modelfile} (q4_K_M is unprobed)"
    if shutil.which("ollama") is None:
        report.lines.append("Ollama is not installed here; then run: " + " ".join(create))
        report.lines.append(smaller)
        return report
    done = subprocess.run(create, capture_output=True, text=True)
    if done.returncode != 0:
        raise UserError(f"ollama create failed: {(done.stderr or done.stdout).strip()[-300:]}")
    report.lines += [f"created; run it with: ollama run {name}", smaller]
    return report
