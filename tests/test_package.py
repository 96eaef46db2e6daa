"""The project installs as a package: `pip wheel .` builds, and a clean environment with the runtime lockfile and
the wheel has the `heedless` command for the pipeline, verify and the servers, the viewer's templates and the
Datasette plugin's entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import FIXTURE_RAW, ROOT

UV = ROOT / ".venv" / "bin" / "uv"
SOURCES = ["heedless", "pipeline", "viewer", "pyproject.toml", "README.md", "LICENSE"]


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip wheel .` of a copy of the source tree (building writes into the tree it builds)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheels")
    proc = _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), "."], cwd=src)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [built] = list(out.glob("*.whl"))
    return built


@pytest.fixture(scope="module")
def clean_env(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new environment: the runtime lockfile (hash-checked) and the wheel, nothing from the dev lock."""
    env = tmp_path_factory.mktemp("env") / "venv"
    for args in (
        [str(UV), "venv", "--quiet", "--python", sys.executable, str(env)],
        [str(UV), "pip", "sync", "--quiet", "--python", str(env / "bin" / "python"), "--require-hashes",
         str(ROOT / "requirements.lock")],
        [str(UV), "pip", "install", "--quiet", "--python", str(env / "bin" / "python"), "--no-deps", str(wheel)],
    ):
        proc = _run(args, cwd=env.parent)
        assert proc.returncode == 0, proc.stderr[-3000:]
    return env


def test_the_wheel_holds_the_packages_templates_queries_and_entry_points(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = sorted({n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")})
    assert top == ["heedless", "pipeline", "viewer"]
    assert {"viewer/templates/base.html", "viewer/static/style.css", "pipeline/canned_queries.yaml"} <= set(names)
    [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[console_scripts]\nheedless = heedless.cli:main\n" in text
    assert "[datasette]\nheedless_hardening = viewer.heedless_hardening\nheedless_links = viewer.datasette_links\n" in text


def test_the_runtime_lock_leaves_out_the_dev_tools(clean_env: Path) -> None:
    proc = _run([str(clean_env / "bin" / "python"), "-c", "import importlib.util as u; print([m for m in "
                 "('pytest', 'playwright', 'mypy', 'ruff', 'hypothesis') if u.find_spec(m)])"], cwd=clean_env)
    assert proc.stdout.strip() == "[]"


def test_the_installed_heedless_command_checks_builds_and_verifies(clean_env: Path, tmp_path: Path) -> None:
    heedless = str(clean_env / "bin" / "heedless")
    check = _run([heedless, "check", "--raw", str(FIXTURE_RAW)], cwd=tmp_path)
    assert (check.returncode, check.stderr.split(" (")[0]) == (
        0, "raw/ is valid: 2 families, 3 backbones, 4 checkpoints, 12 results, 4 throughput figures"
    )
    release = _run([heedless, "release", "-q", "--raw", str(FIXTURE_RAW), "--releases", "rel", "--version", "0.1.0",
                    "--date", "2026-01-15"], cwd=tmp_path)
    assert release.returncode == 0, release.stderr
    verify = _run([heedless, "verify", "--releases", "rel"], cwd=tmp_path)
    assert (verify.returncode, verify.stderr.split(", ")[0]) == (0, "rel/v0.1.0: OK")
    serve = _run([heedless, "serve", "--help"], cwd=tmp_path)
    assert (serve.returncode, "--datasette-port" in serve.stdout) == (0, True)
    plugins = _run([str(clean_env / "bin" / "datasette"), "plugins"], cwd=tmp_path)
    assert '"hooks": [\n            "render_cell"\n        ]' in plugins.stdout
    page = _run([str(clean_env / "bin" / "python"), "-c",
                 "from viewer.app import create_app; c = create_app({'RELEASES_DIR': 'rel'}).test_client(); "
                 "r = c.get('/families/alphanet'); print(r.status_code, b'AlphaNet' in r.data)"], cwd=tmp_path)
    assert page.stdout.strip() == "200 True", page.stderr[-2000:]
