"""Money as the user reads it: small teacher spends shown exactly enough to
tell them apart ($0.0074, not $0.00 or $0.01)."""

from __future__ import annotations

import math


def usd(amount: float) -> str:
    """Dollars with cents, and at least two significant digits below a dollar."""
    if amount <= 0 or amount >= 1:
        return f"${max(amount, 0.0):,.2f}"
    decimals = max(2, 1 - math.floor(math.log10(amount)))
    return f"${amount:.{decimals}f}"
