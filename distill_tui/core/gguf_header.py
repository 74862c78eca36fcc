"""Read a GGUF file's metadata header in plain Python, without MLX and
without reading its tensors: enough to know a model's architecture and sizes
(the Train screen's layer check) before the engine converts it."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

# GGUF value types (gguf.h): fixed-size scalars by struct format.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?"}
_SCALARS |= {10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("GGUF header cut short")
    return struct.unpack(fmt, data)[0]


def _string(f: BinaryIO) -> str:
    n = _read(f, "<Q")
    return f.read(n).decode("utf-8", errors="replace")


def _value(f: BinaryIO, kind: int) -> Any:
    if kind in _SCALARS:
        return _read(f, _SCALARS[kind])
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item, n = _read(f, "<I"), _read(f, "<Q")
        if item in _SCALARS:  # skip the bytes: arrays are token tables here
            f.seek(n * struct.calcsize(_SCALARS[item]), 1)
            return None
        return [_value(f, item) for _ in range(n)] if item in (_STRING, _ARRAY) else None
    raise ValueError(f"unknown GGUF value type {kind}")


def items(path: Path) -> Iterator[tuple[str, Any]]:
    """The header's (key, value) pairs in file order, numeric arrays as None.
    Raises ValueError for a file that is not GGUF v2 or v3."""
    with path.open("rb") as f:
        if f.read(4) != b"GGUF" or _read(f, "<I") not in (2, 3):
            raise ValueError(f"{path}: not a GGUF v2/v3 file")
        _read(f, "<Q")  # tensor count
        for _ in range(_read(f, "<Q")):
            key = _string(f)
            yield key, _value(f, _read(f, "<I"))


def block_count(path: Path) -> int | None:
    """The model's layer count, or None when the header does not say. Stops
    reading there: it comes before the tokenizer's long tables."""
    arch = None
    try:
        for key, value in items(path):
            if key == "general.architecture":
                arch = value
            elif arch is not None and key == f"{arch}.block_count" and isinstance(value, int):
                return value
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return None
