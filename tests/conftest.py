"""Shared fixtures: the fixture raw/ set and a release built from it by the project's own code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.release import cut_release

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_RAW = FIXTURES / "raw"


@pytest.fixture
def fixture_raw(tmp_path: Path) -> Path:
    """A private, editable copy of the fixture raw/ set."""
    dest = tmp_path / "raw"
    shutil.copytree(FIXTURE_RAW, dest)
    return dest


@pytest.fixture(scope="session")
def fixture_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """releases/v0.1.0 cut from the fixture raw/ set (read-only for tests)."""
    releases = tmp_path_factory.mktemp("releases")
    return cut_release(FIXTURE_RAW, releases, "0.1.0")
