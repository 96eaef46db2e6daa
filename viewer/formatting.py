"""How values read on pages and in CSV: one rule for every page."""

from __future__ import annotations

from typing import Any


def fmt(value: Any) -> str:
    """Empty for missing values, shortest exact form for floats (83.6, not 83.600000)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
