"""Read and check a GGUF file's header in plain Python, without MLX and
without reading its tensors: enough to know a model's architecture and sizes
(the Train screen's layer check) before the engine converts it, and to refuse
a damaged or crafted file before MLX's reader sees it (it trusts every length
and offset, and a bad one kills the process).

Layout (gguf.h, v2/v3): magic, u32 version, u64 tensor count, u64 metadata
count, the metadata (key, type, value), the tensor infos (name, dims, type,
offset), then the tensor data from the next multiple of `general.alignment`.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any, BinaryIO

# GGUF value types (gguf.h): fixed-size scalars by struct format.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?"}
_SCALARS |= {10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
# The tensor types MLX reads: ggml type -> (name, elements per block, bytes per block).
TENSOR_TYPES = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    8: ("Q8_0", 32, 34),
}
# Others a downloaded file may hold, named in the refusal (ggml.h).
_OTHER_TYPES = {6: "Q5_0", 7: "Q5_1", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 12: "Q4_K"}
_OTHER_TYPES |= {13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS"}
_OTHER_TYPES |= {18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S"}
_OTHER_TYPES |= {23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64"}
_OTHER_TYPES |= {29: "IQ1_M", 30: "BF16"}
MAX_DIMS = 4  # ggml's GGML_MAX_DIMS
DEFAULT_ALIGNMENT = 32


class HeaderError(ValueError):
    """The file is not a GGUF this program can hand to MLX; the message names
    the file and what is wrong."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dims: tuple[int, ...]  # ggml order: the row length first
    kind: int  # a key of TENSOR_TYPES
    offset: int  # from the start of the data section

    @property
    def elements(self) -> int:
        return prod(self.dims)

    @property
    def nbytes(self) -> int:
        _, block, size = TENSOR_TYPES[self.kind]
        return self.elements // block * size


@dataclass(frozen=True)
class Header:
    version: int
    metadata_bytes: int  # the metadata section (token tables and all)
    tensors: tuple[TensorInfo, ...]
    data_start: int
    file_size: int

    @property
    def dense_bytes(self) -> int:
        """The weights as dense fp32."""
        return sum(t.elements for t in self.tensors) * 4

    @property
    def data_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors)


class _Reader:
    """Reads forward, refusing any length that goes past the end of the file."""

    def __init__(self, f: BinaryIO, path: Path, size: int):
        self.f, self.path, self.size, self.pos = f, path, size, 0

    def fail(self, what: str) -> HeaderError:
        return HeaderError(f"{self.path}: {what}")

    def need(self, n: int, what: str) -> None:
        if n > self.size - self.pos:
            raise self.fail(
                f"{what} at byte {self.pos} needs {n} bytes but the file ends at byte "
                f"{self.size}: it is cut short or damaged (download it again)"
            )

    def bytes(self, n: int, what: str) -> bytes:
        self.need(n, what)
        data = self.f.read(n)
        self.pos += n
        return data

    def skip(self, n: int, what: str) -> None:
        self.need(n, what)
        self.f.seek(n, os.SEEK_CUR)
        self.pos += n

    def scalar(self, fmt: str, what: str) -> Any:
        return struct.unpack(fmt, self.bytes(struct.calcsize(fmt), what))[0]

    def count(self, least: int, what: str) -> int:
        """A u64 count of items each at least `least` bytes long."""
        n = int(self.scalar("<Q", what))
        self.need(n * least, f"{what} ({n})")
        return n

    def string(self, what: str) -> str:
        n = int(self.scalar("<Q", f"the length of {what}"))
        return self.bytes(n, what).decode("utf-8", errors="replace")

    def value(self, kind: int, what: str, nested: bool = False) -> Any:
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind], what)
        if kind == _STRING:
            return self.string(what)
        if kind == _ARRAY and not nested:
            item = int(self.scalar("<I", f"the item type of {what}"))
            if item in _SCALARS:  # skip the bytes: arrays are token tables here
                n = self.count(struct.calcsize(_SCALARS[item]), f"the length of {what}")
                self.skip(n * struct.calcsize(_SCALARS[item]), what)
                return None
            if item == _STRING:
                n = self.count(8, f"the length of {what}")
                return [self.string(what) for _ in range(n)]
            if item == _ARRAY:
                raise self.fail(f"{what} is an array of arrays, which MLX does not read")
            raise self.fail(f"{what} has unknown item type {item}")
        raise self.fail(f"{what} has unknown value type {kind}")


def _open(f: BinaryIO, path: Path) -> tuple[_Reader, int, int]:
    r = _Reader(f, path, os.fstat(f.fileno()).st_size)
    if f.read(4) != b"GGUF":
        raise r.fail("not a GGUF file (it does not start with 'GGUF')")
    r.pos = 4
    version = int(r.scalar("<I", "the version"))
    if version not in (2, 3):
        raise r.fail(f"GGUF version {version} is not supported (2 and 3 are)")
    tensors = r.count(8 + 4 + 8 + 4 + 8, "the tensor count")
    return r, version, tensors


def _metadata(r: _Reader) -> Iterator[tuple[str, Any]]:
    for i in range(r.count(8 + 4 + 1, "the metadata count")):
        key = r.string(f"metadata key {i}")
        yield key, r.value(int(r.scalar("<I", f"the type of {key!r}")), repr(key))


def items(path: Path) -> Iterator[tuple[str, Any]]:
    """The header's (key, value) pairs in file order, numeric arrays as None.
    Raises HeaderError (a ValueError) for a file that is not GGUF v2 or v3 or
    whose lengths run past its end."""
    with path.open("rb") as f:
        r, _, _ = _open(f, path)
        yield from _metadata(r)


def _tensor(r: _Reader, i: int) -> TensorInfo:
    name = r.string(f"the name of tensor {i}")
    ndim = int(r.scalar("<I", f"the dimension count of {name!r}"))
    if not 1 <= ndim <= MAX_DIMS:
        raise r.fail(f"tensor {name!r} has {ndim} dimensions (1 to {MAX_DIMS} are possible)")
    dims = tuple(int(r.scalar("<Q", f"the shape of {name!r}")) for _ in range(ndim))
    kind = int(r.scalar("<I", f"the type of {name!r}"))
    offset = int(r.scalar("<Q", f"the offset of {name!r}"))
    if kind not in TENSOR_TYPES:
        shown = _OTHER_TYPES.get(kind, f"of unknown type {kind}")
        k_quant = " (a K-quant, as in Q4_K_M files)" if shown.endswith("_K") else ""
        raise r.fail(
            f"tensor {name!r} is {shown}{k_quant}; MLX reads F32, F16, Q4_0, Q4_1 and Q8_0 "
            "tensors: pick a file of one of those"
        )
    if min(dims) < 1:
        raise r.fail(f"tensor {name!r} has shape {list(dims)}")
    type_name, block, _ = TENSOR_TYPES[kind]
    if dims[0] % block:
        raise r.fail(f"tensor {name!r}: rows of {dims[0]} are not whole {type_name} blocks")
    return TensorInfo(name, dims, kind, offset)


def read_header(path: Path) -> Header:
    """Check the whole header against the file: every length and offset
    inside it, every tensor of a type MLX reads with its data inside the file.
    Raises HeaderError with one line naming the file; OSError if unreadable."""
    with path.open("rb") as f:
        r, version, count = _open(f, path)
        alignment = DEFAULT_ALIGNMENT
        for key, value in _metadata(r):
            if key == "general.alignment":
                if not isinstance(value, int) or value < 1 or value & (value - 1):
                    raise r.fail(f"general.alignment {value!r} is not a power of two")
                alignment = value
        metadata_bytes = r.pos
        tensors = tuple(_tensor(r, i) for i in range(count))
    data_start = -(-r.pos // alignment) * alignment
    for t in tensors:
        if t.offset % alignment:
            raise r.fail(
                f"tensor {t.name!r} starts at offset {t.offset}, not a multiple of {alignment}"
            )
        end = data_start + t.offset + t.nbytes
        if end > r.size:
            raise r.fail(
                f"the data of tensor {t.name!r} ends at byte {end} but the file ends at byte "
                f"{r.size}: it is cut short or damaged (download it again)"
            )
    return Header(version, metadata_bytes, tensors, data_start, r.size)


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
