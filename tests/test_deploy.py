"""The deploy recipe: a health endpoint for load balancers, a Containerfile that installs the runtime with the
Makefile's own commands, and that runtime serving the viewer and Datasette (no container engine needed)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from viewer.app import create_app

from .conftest import ROOT

CONTAINERFILE = ROOT / "deploy" / "Containerfile"


def test_healthz_names_the_served_release_and_is_never_cached(fixture_release: Path) -> None:
    client = create_app({"RELEASES_DIR": str(fixture_release.parent)}).test_client()
    for _ in range(2):
        response = client.get("/healthz")
        assert (response.status_code, response.get_json()) == (200, {"ok": True, "release": "0.1.0"})
        assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


def test_healthz_answers_503_when_there_is_no_release(tmp_path: Path) -> None:
    response = create_app({"RELEASES_DIR": str(tmp_path)}).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["ok"] is False


def _run_lines() -> list[str]:
    text = CONTAINERFILE.read_text()
    return [line.removeprefix("RUN ").strip() for line in text.splitlines() if line.startswith("RUN ")]


def test_the_containerfile_installs_the_runtime_with_the_makefiles_commands() -> None:
    dry = subprocess.run(["make", "-s", "-n", "runtime", "RUNTIME=/opt/heedless", "UV=uv"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    runs = _run_lines()
    assert runs[0] == "pip install --no-cache-dir --disable-pip-version-check --require-hashes -r requirements-uv.lock"
    assert runs[1:4] == dry.stdout.strip().splitlines()[1:]  # after clearing setuptools' scratch


def test_the_containerfile_serves_with_heedless_serve_and_probes_healthz() -> None:
    text = CONTAINERFILE.read_text()
    cmd = json.loads(re.search(r"^CMD (.*)$", text, re.M)[1])  # type: ignore[index]
    assert cmd == ["heedless", "serve", "--releases", "/srv/releases", "--host", "0.0.0.0", "--workers", "4"]  # noqa: S104
    assert "http://127.0.0.1:5000/healthz" in re.search(r"^HEALTHCHECK .*$", text, re.M)[0]  # type: ignore[index]
    assert re.search(r"^EXPOSE 5000 8001$", text, re.M)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.slow
def test_the_runtime_the_container_installs_serves_healthz_the_viewer_and_datasette(
    fixture_release: Path, tmp_path: Path
) -> None:
    runtime = tmp_path / "runtime"
    made = subprocess.run(["make", "-s", "runtime", f"RUNTIME={runtime}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert made.returncode == 0, made.stderr[-3000:]
    viewer_port, datasette_port = _free_port(), _free_port()
    proc = subprocess.Popen(
        [str(runtime / "bin" / "heedless"), "serve", "--releases", str(fixture_release.parent), "--host", "127.0.0.1",
         "--viewer-port", str(viewer_port), "--datasette-port", str(datasette_port), "--workers", "1",
         "--viewer-url", "https://viewer.example"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        viewer, datasette = f"http://127.0.0.1:{viewer_port}", f"http://127.0.0.1:{datasette_port}"
        for _ in range(200):
            try:
                if _get(f"{viewer}/healthz")[0] == 200 and _get(f"{datasette}/-/versions.json")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        assert _get(f"{viewer}/healthz") == (200, '{"ok":true,"release":"0.1.0"}\n')
        status, page = _get(f"{viewer}/families/alphanet")
        assert status == 200 and "AlphaNet-L" in page
        status, row = _get(f"{datasette}/heedless-backbones/families/alphanet")
        assert status == 200
        assert '<a class="viewer-link" href="https://viewer.example/families/alphanet">(viewer)</a>' in row
    finally:
        proc.terminate()
        proc.wait(timeout=20)
