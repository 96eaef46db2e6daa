"""How values read on pages and in CSV: one rule for every page."""

from __future__ import annotations

import re
from typing import Any


def fmt(value: Any) -> str:
    """Empty for missing values, shortest exact form for floats (83.6, not 83.600000)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# a cell a spreadsheet would read as a formula (OWASP "CSV injection"); numbers are left alone
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def csv_cell(value: Any) -> str:
    """A value for a CSV download: as fmt() writes it, with text that starts like a formula
    (= + - @, tab, carriage return) prefixed by a single quote so spreadsheets show it as text."""
    text = fmt(value)
    if text.startswith(FORMULA_START) and not NUMBER.match(text):
        return "'" + text
    return text
