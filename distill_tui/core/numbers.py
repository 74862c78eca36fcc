"""Numbers from the command line: finite or refused. `float("nan")` and
`float("inf")` parse fine and then quietly switch a budget cap off or end in
an OverflowError deep in training."""

from __future__ import annotations

import argparse
import math


def finite_float(text: str) -> float:
    """An argparse `type` for a float flag."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value
