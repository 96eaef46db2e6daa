"""`release` is atomic with its changelog entry, holds a lock against a concurrent release and cleans
what a killed release left: real processes, killed with SIGKILL at named points of a cut."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.__main__ import main
from pipeline.release import cut_release
from tests.conftest import FIXTURE_RAW, ROOT

CFF = "cff-version: 1.2.0\ntitle: Heedless Backbones\nversion: 0.1.0\ndate-released: 2026-01-15\n"
ZENODO = {"title": "Heedless Backbones", "version": "0.1.0", "publication_date": "2026-01-15"}


def _workspace(base: Path) -> tuple[Path, Path]:
    """A repository-like folder: raw/ (one corrected value since v0.1.0), releases/ with v0.1.0, citation files."""
    root = base / "repo"
    raw = root / "raw"
    shutil.copytree(FIXTURE_RAW, raw)
    (root / "CITATION.cff").write_text(CFF)
    (root / ".zenodo.json").write_text(json.dumps(ZENODO, indent=2) + "\n")
    cut_release(FIXTURE_RAW, root / "releases", "0.1.0", date="2026-01-15")
    path = raw / "results" / "alpha2021net.yaml"
    text = path.read_text()
    assert "    top1: 83.0\n" in text
    path.write_text(text.replace("    top1: 83.0\n", "    top1: 83.1\n", 1))
    return raw, root / "releases"


def _state(releases: Path) -> dict[str, object]:
    """Everything a release touches, as text."""
    root = releases.parent
    return {
        "listing": sorted(p.name for p in releases.iterdir()),
        "changelog": (releases / "CHANGELOG.md").read_text(),
        "latest": os.readlink(releases / "latest"),
        "cff": (root / "CITATION.cff").read_text(),
        "zenodo": (root / ".zenodo.json").read_text(),
        "sums": {p.name: (p / "SHA256SUMS").read_text() for p in sorted(releases.glob("v*"))},
    }


@pytest.fixture(scope="module")
def before_and_after(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], dict[str, object]]:
    """The state with v0.1.0 only, and after an uninterrupted cut of v0.1.1."""
    raw, releases = _workspace(tmp_path_factory.mktemp("reference"))
    before = _state(releases)
    cut_release(raw, releases, "0.1.1", date="2026-02-01")
    return before, _state(releases)


def _release_argv(raw: Path, releases: Path, version: str = "0.1.1") -> list[str]:
    return ["release", "-q", "--raw", str(raw), "--releases", str(releases), "--version", version, "--date", "2026-02-01"]


def _start_paused(raw: Path, releases: Path, step: str) -> subprocess.Popen[str]:
    """`python -m pipeline release` in its own process, stopped at `step` (it has said so on stderr)."""
    env = {**os.environ, "HEEDLESS_RELEASE_PAUSE_AT": step}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *_release_argv(raw, releases)], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True)
    assert proc.stderr is not None
    seen = []
    while (line := proc.stderr.readline()) != f"release paused at {step}\n":
        seen.append(line)
        if not line:  # the process ended without reaching the step
            proc.wait()
            pytest.fail(f"release ended (status {proc.returncode}) before {step}: {''.join(seen)}")
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert proc.stderr is not None
    proc.stderr.close()


@pytest.mark.parametrize("step", ["built", "pending"])
def test_a_release_killed_before_its_folder_is_in_place_is_rolled_back(
    step: str, tmp_path: Path, before_and_after: tuple[dict[str, object], dict[str, object]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before, after = before_and_after
    raw, releases = _workspace(tmp_path)
    _kill(_start_paused(raw, releases, step))
    [tmp] = [p.name for p in releases.glob(".tmp-v0.1.1-*")]
    left = [".pending-v0.1.1.CHANGELOG.md"] if step == "pending" else []
    # nothing of v0.1.1 is visible: only hidden leftovers (the lock file, the build folder, the new changelog)
    assert _state(releases) == {**before, "listing": sorted([".release.lock", tmp, *left, "CHANGELOG.md", "latest", "v0.1.0"])}
    assert main(["verify", "--releases", str(releases)]) == 0
    assert capsys.readouterr().err == f"{releases / 'v0.1.0'}: OK, 57 files match SHA256SUMS\n"
    assert main(_release_argv(raw, releases)) == 0
    rolled = ["rolled back the interrupted release v0.1.1: it never reached its folder, removed "
              ".pending-v0.1.1.CHANGELOG.md\n"] if step == "pending" else []
    assert capsys.readouterr().err == "".join(
        [*rolled, f"removed the stale temporary folder {tmp} (left by an interrupted release)\n"])
    assert _state(releases) == after


@pytest.mark.parametrize("step", ["renamed", "latest", "citation"])
def test_a_release_killed_after_its_folder_is_in_place_is_finished_by_the_next_release(
    step: str, tmp_path: Path, before_and_after: tuple[dict[str, object], dict[str, object]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, after = before_and_after
    raw, releases = _workspace(tmp_path)
    _kill(_start_paused(raw, releases, step))
    listing = _state(releases)["listing"]
    assert listing == [".pending-v0.1.1.CHANGELOG.md", ".release.lock", "CHANGELOG.md", "latest", "v0.1.0", "v0.1.1"]
    assert "## v0.1.1" not in (releases / "CHANGELOG.md").read_text()  # the folder without its entry: to finish
    assert main(_release_argv(raw, releases)) == 2
    assert capsys.readouterr().err == (
        "finished the interrupted release v0.1.1: CHANGELOG.md, latest and citation files updated\n"
        f"error: release v0.1.1 already exists in {releases}; releases are immutable, choose a new version\n"
    )
    assert _state(releases) == after
    assert (releases.parent / "CITATION.cff").read_text() == CFF.replace("0.1.0", "0.1.1").replace("2026-01-15", "2026-02-01")


def test_a_concurrent_release_is_refused_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw, releases = _workspace(tmp_path)
    holder = _start_paused(raw, releases, "locked")
    try:
        second = subprocess.run([sys.executable, "-m", "pipeline", *_release_argv(raw, releases, "0.1.2")], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
    finally:
        _kill(holder)
    assert (second.returncode, second.stdout) == (2, "")
    assert second.stderr == (
        f"error: another release is running in {releases} (it holds {releases / '.release.lock'}); "
        "wait for it to finish, then run this release again\n"
    )
    # the killed holder's lock went with it: the next release runs, and removes the lock file when done
    assert main(_release_argv(raw, releases)) == 0
    assert capsys.readouterr().err == ""
    assert sorted(p.name for p in releases.iterdir()) == ["CHANGELOG.md", "latest", "v0.1.0", "v0.1.1"]


def test_stale_temporary_folders_are_removed_and_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw, releases = _workspace(tmp_path)
    for name in (".tmp-v0.1.1-k2j4h5", ".tmp-v9.0.0-a1b2c3"):
        (releases / name / "data-dictionary").mkdir(parents=True)
        (releases / name / "backbones.parquet").write_bytes(b"half written")
    assert main(_release_argv(raw, releases)) == 0
    assert capsys.readouterr().err == (
        "removed the stale temporary folder .tmp-v0.1.1-k2j4h5 (left by an interrupted release)\n"
        "removed the stale temporary folder .tmp-v9.0.0-a1b2c3 (left by an interrupted release)\n"
    )
    assert sorted(p.name for p in releases.iterdir()) == ["CHANGELOG.md", "latest", "v0.1.0", "v0.1.1"]


def test_the_viewer_lists_only_releases_beside_a_killed_releases_leftovers(tmp_path: Path) -> None:
    from viewer.app import create_app

    raw, releases = _workspace(tmp_path)
    _kill(_start_paused(raw, releases, "pending"))
    client = create_app({"RELEASES_DIR": str(releases)}).test_client()
    page = client.get("/releases")
    assert page.status_code == 200
    assert page.text.count('<section class="release" id="') == 1
    assert '<section class="release" id="v0.1.0">' in page.text
    assert ".tmp-v" not in page.text and ".pending" not in page.text and ".release.lock" not in page.text
    assert client.get("/releases/.release.lock/SHA256SUMS").status_code == 404


@pytest.mark.parametrize(("step", "status", "message"), [
    ("pending", 130, "interrupted; nothing was written\n"),
    ("latest", 2, "error: interrupted after v0.1.1 was put in place; the next `python -m pipeline release` finishes "
                  "its changelog entry, latest link and citation files\n"),
])
def test_an_interrupt_says_truly_whether_the_release_was_put_in_place(
    step: str, status: int, message: str, tmp_path: Path, before_and_after: tuple[dict[str, object], dict[str, object]],
) -> None:
    before, after = before_and_after
    raw, releases = _workspace(tmp_path)
    proc = _start_paused(raw, releases, step)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == status
    assert proc.stderr is not None
    assert proc.stderr.read() == message
    proc.stderr.close()
    if status == 130:  # cleaned on the way out: no build folder, no pending changelog, no lock file
        assert _state(releases) == before
    else:
        assert _state(releases)["listing"] == [".pending-v0.1.1.CHANGELOG.md", "CHANGELOG.md", "latest", "v0.1.0", "v0.1.1"]
        assert main(_release_argv(raw, releases, "0.1.2")) == 2  # finishes v0.1.1, then refuses 0.1.2: nothing changed
        assert _state(releases) == after
