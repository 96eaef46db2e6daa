"""The pipeline graph, top to bottom: load -> shape -> validate -> (write)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from . import tables as T
from .checks import cross_checks
from .context import add_measurement_context
from .errors import Problem, ValidationFailed
from .load import load_raw, locate
from .schemas import validate_tables
from .transform import build_tables


def validated_tables(
    raw_dir: Path, progress: Callable[[int], None] | None = None, cache: Path | None = None
) -> dict[str, pl.DataFrame]:
    """Load raw/ (unchanged files from `cache` when given), shape the release tables and validate them; raise
    with every problem."""
    raw = load_raw(raw_dir, progress=progress, cache=cache)
    frames = build_tables(raw)
    problems = [*raw.problems, *without_cascades(raw.problems, [*validate_tables(frames), *cross_checks(frames)])]
    if problems:
        raise ValidationFailed(locate(problems, raw_dir))
    # citations are merged only once every row has passed on its own (compute checks see them all)
    add_measurement_context(frames)
    return {name: finish(frames[name], T.TABLES_BY_NAME[name]) for name in frames}


def without_cascades(causes: list[Problem], later: list[Problem]) -> list[Problem]:
    """One bad value, one error: a value the loader could not read is left empty, so a later check that sees the
    entry (e.g. "gives no metric") or that field empty would only repeat it. Drop those; keep the cause."""
    unread = {(p.file, p.path) for p in causes if p.path}
    entries = {(file, path[:-1]) for file, path in unread}

    def repeats(p: Problem) -> bool:
        return (p.file, p.path) in unread or (p.field == "-" and (p.file, p.path) in entries)

    return [p for p in later if not repeats(p)]


def finish(frame: pl.DataFrame, table: T.Table) -> pl.DataFrame:
    """Drop provenance, order columns as declared, sort by the primary key."""
    return frame.select(list(table.columns)).sort(list(table.primary_key))
