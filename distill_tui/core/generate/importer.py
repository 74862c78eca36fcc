"""Read the corpus of inputs the teacher will process.

Sources: a folder (recursive, glob and max-size filters, like the guide's
`find -size -10k`), single text files (one input per file), JSONL files (a
`prompt` or `input` field, or one the user names) and plain text with one input
per line. Bad parts are reported as `file:line: reason` and skipped; the good
parts are still imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from distill_tui.core.dataset import jsonl
from distill_tui.core.display import shown
from distill_tui.core.errors import UserError
from distill_tui.core.store import Store

JSON_FIELDS = ("prompt", "input", "text", "question")
DEFAULT_MAX_BYTES = 100_000


@dataclass
class ImportOptions:
    glob: str = "*"
    max_bytes: int = DEFAULT_MAX_BYTES
    field: str | None = None
    # "auto": .jsonl -> JSONL, otherwise a whole file is one input;
    # "lines": every non-empty line of a text file is one input.
    mode: str = "auto"


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    files: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        parts = [f"{self.added} new input(s)", f"{self.duplicates} duplicate(s)"]
        parts.append(f"{len(self.skipped)} skipped")
        return f"imported from {self.files} file(s): " + ", ".join(parts)


def _is_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def _decode(path: Path, data: bytes, report: ImportReport) -> str | None:
    if _is_binary(data):
        report.skipped.append(f"{shown(path)}: binary file")
        return None
    try:
        return data.decode("utf-8").removeprefix(jsonl.BOM)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        report.skipped.append(f"{shown(path)}:{line}: not valid UTF-8 (byte {e.start})")
        return None


def _jsonl(
    path: Path, text: str, opts: ImportOptions, report: ImportReport
) -> Iterator[tuple[str, str]]:
    fields = (opts.field,) if opts.field else JSON_FIELDS
    for n, line in jsonl.split(text):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        shown_where = f"{shown(path)}:{n}"
        try:
            obj = jsonl.loads(line)
        except ValueError as e:
            report.skipped.append(f"{shown_where}: malformed JSON ({e})")
            continue
        if not isinstance(obj, dict):
            kind = type(obj).__name__
            report.skipped.append(f"{shown_where}: expected a JSON object, got {kind}")
            continue
        value = next((obj[f] for f in fields if f in obj), None)
        if value is None:
            names = " or ".join(repr(f) for f in fields)
            report.skipped.append(f"{shown_where}: no {names} field")
            continue
        if not isinstance(value, str):
            report.skipped.append(f"{shown_where}: field is {type(value).__name__}, not text")
            continue
        if not value.strip():
            report.skipped.append(f"{shown_where}: empty input")
            continue
        yield value, where


def _lines(path: Path, text: str, report: ImportReport) -> Iterator[tuple[str, str]]:
    for n, line in jsonl.split(text):
        if line.strip():
            yield line.strip(), f"{path}:{n}"


def _files(path: Path, opts: ImportOptions, report: ImportReport) -> Iterator[Path]:
    if path.is_dir():
        for p in sorted(path.rglob(opts.glob)):
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts):
                yield p
    elif path.is_file():
        yield path
    else:
        report.skipped.append(f"{shown(path)}: no such file or folder")


def read_inputs(
    paths: Iterable[str | Path], opts: ImportOptions, report: ImportReport
) -> Iterator[tuple[str, str]]:
    """Yield (text, source) for every good input in `paths`; problems go to `report`."""
    if opts.mode not in ("auto", "lines"):
        raise UserError(f"import mode must be 'auto' or 'lines', not {opts.mode!r}")
    for raw in paths:
        for f in _files(Path(raw).expanduser(), opts, report):
            try:
                size = f.stat().st_size
                if size > opts.max_bytes:
                    report.skipped.append(
                        f"{shown(f)}: {size:,} bytes is over the {opts.max_bytes:,}-byte limit"
                    )
                    continue
                data = f.read_bytes()
            except OSError as e:
                report.skipped.append(f"{shown(f)}: cannot read ({e.strerror or e})")
                continue
            text = _decode(f, data, report)
            if text is None:
                continue
            report.files += 1
            if f.suffix.lower() == ".jsonl":
                yield from _jsonl(f, text, opts, report)
            elif opts.mode == "lines":
                yield from _lines(f, text, report)
            elif text.strip():
                yield text.strip(), str(f)
            else:
                report.skipped.append(f"{shown(f)}: empty file")


def import_inputs(
    store: Store, paths: Iterable[str | Path], opts: ImportOptions | None = None
) -> ImportReport:
    """Import into the store; identical inputs are stored once."""
    report = ImportReport()
    items = list(read_inputs(paths, opts or ImportOptions(), report))
    result = store.add_inputs(items)
    report.added, report.duplicates = result.added, result.duplicates
    return report
