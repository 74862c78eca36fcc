"""What a row of an `export --rows` file may hold, checked before anything is
written, so a bad row is reported as `file:line: reason` instead of ending in
a traceback or being dropped silently by a database constraint."""

from __future__ import annotations

import math
from typing import Any

STATUSES = ("pending", "running", "done", "failed")
DECISIONS = ("accepted", "rejected")

_TEXT = (str, type(None))


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, int | float) and not isinstance(v, bool)) and math.isfinite(v)


def _check(obj: dict[str, Any], where: str, spec: dict[str, str]) -> str | None:
    for key, kind in spec.items():
        v = obj.get(key)
        required = kind.endswith("!")
        kind = kind.rstrip("!")
        if v is None:
            if required:
                return f"{where}{key} is missing"
            continue
        ok = {
            "text": isinstance(v, str),
            "count": _is_int(v) and v >= 0,
            "number": _is_number(v),
            "usd": _is_number(v) and v >= 0,
            "flag": isinstance(v, bool) or (_is_int(v) and v in (0, 1)),
        }[kind]
        if not ok:
            want = {
                "text": "text",
                "count": "a whole number >= 0",
                "number": "a finite number",
                "usd": "a finite number >= 0",
                "flag": "true or false",
            }[kind]
            return f"{where}{key} must be {want}, not {_short(v)}"
    return None


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


_ROW = {
    "source": "text",
    "origin": "text",
    "attempts": "count",
    "error": "text",
    "output": "text",
    "edited": "flag",
    "reason": "text",
    "created_at": "number",
    "updated_at": "number",
    "current_generation": "count",
}
_GEN = {
    "output": "text!",
    "teacher": "text!",
    "prompt_hash": "text!",
    "input_tokens": "count",
    "output_tokens": "count",
    "cache_read_tokens": "count",
    "cache_write_tokens": "count",
    "cost_usd": "usd",
    "latency_s": "number",
    "stop_reason": "text",
    "created_at": "number",
}
_EVENT = {"kind": "text!", "before": "text", "after": "text", "at": "number"}


def problem(rec: dict[str, Any]) -> str | None:
    """Why `rec` cannot be imported, or None when it can."""
    if not isinstance(rec.get("input"), str) or not rec["input"].strip():
        return "a row needs a non-empty input"
    status = rec.get("status")
    if status is not None and status not in STATUSES:
        return f"unknown status {_short(status)} (one of {', '.join(STATUSES)})"
    decision = rec.get("decision")
    if decision is not None and decision not in DECISIONS:
        return f"unknown decision {_short(decision)} (accepted, rejected or null)"
    if err := _check(rec, "", _ROW):
        return err
    for key, spec in (("generations", _GEN), ("events", _EVENT)):
        items = rec.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            return f"{key} must be a list, not {_short(items)}"
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                return f"{key}[{i}] must be an object, not {_short(item)}"
            if err := _check(item, f"{key}[{i}].", spec):
                return err
    return None
