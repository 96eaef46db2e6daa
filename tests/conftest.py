"""Shared fixtures: the fixture raw/ set and a release built from it by the project's own code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pipeline.release import cut_release
from viewer.app import create_app

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
    return cut_release(FIXTURE_RAW, releases, "0.1.0", date="2026-01-15")


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """Debian's Chromium, never a downloaded browser; skipped with a reason when missing, except in CI."""
    import os

    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: .ci/run installs Debian's chromium")
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium, or make browser)")
    return {
        "executable_path": str(CHROMIUM),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(scope="session")
def live_viewer(fixture_release: Path):  # type: ignore[no-untyped-def]
    """The viewer over real HTTP on a free localhost port, serving the fixture release."""
    import threading

    from werkzeug.serving import make_server

    from viewer.app import create_app

    app = create_app({"RELEASES_DIR": str(fixture_release.parent)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A desktop-sized window, so the plot is on screen without scrolling."""
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1200}}


@pytest.fixture(scope="module")
def app(fixture_release: Path) -> Flask:
    """The viewer on the fixture release (a module may override it with other settings)."""
    return create_app({"RELEASES_DIR": str(fixture_release.parent), "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def plot(client: FlaskClient, query: str = "") -> dict:
    """The explorer's JSON twin for a query string; it must answer 200."""
    response = client.get(f"/plot.json?{query}")
    assert response.status_code == 200, response.text
    return response.get_json()
