"""The code stays ruff- and mypy-clean, and every release column and view is documented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline import tables as T

from .conftest import ROOT

PACKAGES = ["heedless", "pipeline", "viewer", "tests", "bench"]


def test_ruff_finds_nothing() -> None:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "-q", *PACKAGES], cwd=ROOT, capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_mypy_finds_nothing() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("Success: no issues found")


def test_every_release_column_has_a_description() -> None:
    missing = sorted({c for t in T.TABLES for c in t.columns if not T.COLUMN_DOCS.get(c)})
    assert missing == []


def test_every_table_view_and_column_is_documented_for_datasette(fixture_release: Path) -> None:
    meta = json.loads((fixture_release / "datasette-metadata.json").read_text())
    tables = meta["databases"]["heedless-backbones"]["tables"]
    undocumented = sorted(f"{t}.{c}" for t, m in tables.items() for c, doc in m["columns"].items() if not doc)
    assert undocumented == []
    assert all(m["description"] for m in tables.values())
    assert set(tables) == {t.name for t in T.TABLES} | {"classification", "detection", "semantic_segmentation", "throughput_figures", "latency_figures", "search_index"}
