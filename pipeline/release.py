"""Cut immutable, versioned releases: build in a temporary folder, check SemVer, move into place.

One release at a time (a lock in the releases folder), and a release is atomic with its changelog entry.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from .build import validated_tables
from .card import counts_line
from .diff import ReleaseDiff, diff_releases, render, summary
from .errors import ReleaseError
from .write import release_date, write_release

VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
CHANGELOG = "CHANGELOG.md"
LATEST = "latest"
CHANGELOG_HEAD = (
    "# Changelog\n\nEvery release of the Heedless Backbones dataset, newest first. Computed by "
    "`python -m pipeline release` from the diff against the previous release (data SemVer: MAJOR "
    "for renamed, removed or retyped columns and tables; MINOR for added rows or tables; PATCH for "
    "corrections). Each release starts with its date and a summary; every row added, changed and removed "
    "is folded below it.\n"
)


def parse_version(text: str) -> tuple[int, int, int]:
    """'1.2.3' or 'v1.2.3' -> (1, 2, 3)."""
    match = VERSION.match(text.strip())
    if not match:
        raise ReleaseError(f"version '{text}' is not X.Y.Z (e.g. 0.2.0)")
    return int(match[1]), int(match[2]), int(match[3])


def fmt_version(v: tuple[int, int, int]) -> str:
    return "{}.{}.{}".format(*v)


def list_releases(releases: Path) -> list[tuple[int, int, int]]:
    """Versions present in the releases folder, oldest first."""
    if not releases.is_dir():
        return []
    found = []
    for p in releases.iterdir():
        if p.is_dir() and p.name.startswith("v") and VERSION.match(p.name) and (p / "SHA256SUMS").exists():
            found.append(parse_version(p.name))
    return sorted(found)


def resolve_release(releases: Path, name: str) -> Path:
    """A release folder from a version ('0.1.0', 'v0.1.0') or a path."""
    as_path = Path(name)
    if name == LATEST and list_releases(releases):
        return releases / f"v{fmt_version(list_releases(releases)[-1])}"
    if as_path.is_dir() and (as_path / "datapackage.json").exists():
        return as_path
    folder = releases / f"v{fmt_version(parse_version(name))}"
    if not (folder / "datapackage.json").exists():
        have = ", ".join(f"v{fmt_version(v)}" for v in list_releases(releases)) or "none"
        raise ReleaseError(f"no release {name} in {releases} (have: {have})")
    return folder


def check_semver(previous: tuple[int, int, int], version: tuple[int, int, int], diff: ReleaseDiff) -> None:
    """Refuse a version that does not follow data SemVer against the previous release."""
    need = diff.required_bump()
    prev, new = fmt_version(previous), fmt_version(version)
    if need is None:
        raise ReleaseError(f"nothing changed since v{prev}: there is nothing to release")
    nxt = {
        "major": (previous[0] + 1, 0, 0),
        "minor": (previous[0], previous[1] + 1, 0),
        "patch": (previous[0], previous[1], previous[2] + 1),
    }
    order = ["patch", "minor", "major"]
    allowed = [fmt_version(nxt[b]) for b in order[order.index(need) :]]
    if new not in allowed:
        why = {
            "major": "columns or tables were removed, renamed or retyped",
            "minor": "rows, columns or tables were added or removed",
            "patch": "only values were corrected",
        }[need]
        raise ReleaseError(
            f"version {new} does not follow data SemVer after v{prev}: {why}, so the next version is "
            f"{' or '.join(allowed)}"
        )


def parse_date(text: str) -> str:
    """'2026-12-03' -> the same text, checked; a release date is a calendar date (UTC)."""
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ReleaseError(f"date '{text}' is not YYYY-MM-DD (e.g. 2026-12-03)") from None


def today() -> str:
    """Today's date in UTC, YYYY-MM-DD."""
    return dt.datetime.now(dt.UTC).date().isoformat()


def build_into(
    raw: Path, out: Path, version: str, date: str | None = None, progress: Callable[[int], None] | None = None,
    cache: Path | None = None,
) -> dict[str, int]:
    """Validate raw/ (unchanged files from `cache` when given: builds, never releases) and write every release
    file into the empty folder `out`; return the row counts."""
    frames = validated_tables(raw, progress=progress, cache=cache)
    write_release(frames, out, version, parse_date(date) if date else today())
    return {name: frame.height for name, frame in frames.items()}


def _changelog_section(version: str, date: str, diff: ReleaseDiff | None, previous: str | None,
                       counts: dict[str, int]) -> str:
    lines = [f"## v{version} ({date})", ""]
    if diff is None:
        lines += [f"First release: {counts_line(counts)}.", ""]
    else:
        lines += summary(diff, previous or "", counts)
        lines += ["", "<details><summary>Every row added, changed and removed</summary>", ""]
        lines += render(diff, limit=200) + ["", "</details>", ""]
    return "\n".join(lines)


def _changelog_text(releases: Path, section: str) -> str:
    """CHANGELOG.md as it reads once `section` (the newest release) is added at the top."""
    path = releases / CHANGELOG
    body = path.read_text(encoding="utf-8") if path.exists() else CHANGELOG_HEAD
    head, _, rest = body.partition("\n## ")
    text = head.rstrip("\n") + "\n\n" + section + ("\n## " + rest if rest else "")
    return text.rstrip("\n") + "\n"


LOCK = ".release.lock"  # held (flock) by the one release running in this folder
TMP_PREFIX = ".tmp-v"  # a release is built in .tmp-vX.Y.Z-*, then renamed to vX.Y.Z
PENDING = re.compile(r"^\.pending-v(\d+\.\d+\.\d+)\.CHANGELOG\.md$")  # the changelog a cut will install


def _pending(releases: Path, name: str) -> Path:
    return releases / f".pending-v{name}.CHANGELOG.md"


def _step(name: str) -> None:
    """A named point of a cut. HEEDLESS_RELEASE_PAUSE_AT=<name> stops the cut there (for the kill tests)."""
    if os.environ.get("HEEDLESS_RELEASE_PAUSE_AT") == name:
        print(f"release paused at {name}", file=sys.stderr, flush=True)
        time.sleep(3600)


@contextmanager
def release_lock(releases: Path) -> Iterator[None]:
    """Hold releases/.release.lock for one release; a second release is refused at once, never queued.

    The file is removed when the release ends (a killed release leaves it, harmlessly: the kernel drops
    the lock with the process). A lock taken on a file that was removed meanwhile is taken again.
    """
    releases.mkdir(parents=True, exist_ok=True)
    path = releases / LOCK
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ReleaseError(
                f"another release is running in {releases} (it holds {path}); "
                "wait for it to finish, then run this release again"
            ) from None
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def recover(releases: Path, report: Callable[[str], None]) -> None:
    """Finish or undo what an interrupted release left behind (call under the release lock).

    A cut is committed by renaming its folder into place: a pending changelog whose folder exists is
    finished (latest link, citation files, changelog); one whose folder does not is deleted. Temporary
    build folders are always stale here, because no other release can be running.
    """
    for path in sorted(releases.iterdir()):
        match = PENDING.match(path.name)
        if not match:
            continue
        name = match[1]
        target = releases / f"v{name}"
        if target.is_dir():  # renamed into place whole, so complete: finish it
            _finish(releases, target, path, release_date(target) or today())
            report(f"finished the interrupted release v{name}: {CHANGELOG}, {LATEST} and citation files updated")
        else:
            path.unlink()
            report(f"rolled back the interrupted release v{name}: it never reached its folder, removed {path.name}")
    for path in sorted(releases.iterdir()):
        if path.name.startswith(TMP_PREFIX) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
            report(f"removed the stale temporary folder {path.name} (left by an interrupted release)")


def _finish(releases: Path, target: Path, pending: Path, date: str) -> None:
    """The steps after the rename, each idempotent; replacing CHANGELOG.md comes last and ends the cut."""
    point_latest(releases, target.name)
    _step("latest")
    update_citation_files(releases.parent, target.name[1:], date)
    _step("citation")
    os.replace(pending, releases / CHANGELOG)


def _say_on_stderr(text: str) -> None:
    print(text, file=sys.stderr)


def cut_release(
    raw: Path, releases: Path, version_text: str, progress: Callable[[int], None] | None = None, date: str | None = None,
    report: Callable[[str], None] = _say_on_stderr,
) -> Path:
    """Cut releases/vX.Y.Z dated `date` (default today, UTC). Nothing is written unless every check passes.

    Under the release lock: first finish or undo an interrupted release (see `recover`), then build in a
    temporary folder, write the new changelog beside it, rename the folder into place (the commit point)
    and finish. A kill at any point leaves either the whole release or nothing once the next release runs.
    """
    version = parse_version(version_text)
    date = parse_date(date) if date else today()
    name = fmt_version(version)
    if not _interrupted(releases):  # refuse early, before the slow part (again under the lock, after recovery)
        _refuse_taken(releases, version, name)
    frames = validated_tables(raw, progress=progress)  # refused raw/ writes nothing, not even the lock
    with release_lock(releases):
        _step("locked")
        recover(releases, report)
        return _cut_locked(frames, releases, version, name, date)


def _cut_locked(frames: dict[str, pl.DataFrame], releases: Path, version: tuple[int, int, int], name: str,
                date: str) -> Path:
    existing = _refuse_taken(releases, version, name)
    target = releases / f"v{name}"
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{name}-", dir=releases))
    tmp.chmod(0o755)
    pending = _pending(releases, name)
    try:
        write_release(frames, tmp, name, date)
        counts = {table: frame.height for table, frame in frames.items()}
        diff = None
        if existing:
            previous = releases / f"v{fmt_version(existing[-1])}"
            diff = diff_releases(previous, tmp)
            check_semver(existing[-1], version, diff)
        section = _changelog_section(name, date, diff, fmt_version(existing[-1]) if existing else None, counts)
        _step("built")
        with pending.open("w", encoding="utf-8") as out:
            out.write(_changelog_text(releases, section))
            out.flush()
            os.fsync(out.fileno())
        _step("pending")
        os.rename(tmp, target)  # the commit point: atomic on one filesystem; fails if the target appeared
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        pending.unlink(missing_ok=True)
        raise
    try:
        _fsync_dir(releases)
        _step("renamed")
        _finish(releases, target, pending, date)
    except KeyboardInterrupt:  # past the commit point: the release stands, the next release finishes it
        raise ReleaseError(f"interrupted after v{name} was put in place; the next `python -m pipeline release` "
                           "finishes its changelog entry, latest link and citation files") from None
    return target


def _interrupted(releases: Path) -> bool:
    """Whether a release was interrupted after it wrote its pending changelog."""
    return releases.is_dir() and any(PENDING.match(p.name) for p in releases.iterdir())


def _refuse_taken(releases: Path, version: tuple[int, int, int], name: str) -> list[tuple[int, int, int]]:
    """The releases there are, or a refusal when this version exists or is not the newest."""
    if (releases / f"v{name}").exists():
        raise ReleaseError(f"release v{name} already exists in {releases}; releases are immutable, choose a new version")
    existing = list_releases(releases)
    if existing and version <= existing[-1]:
        raise ReleaseError(f"version {name} is not newer than the latest release v{fmt_version(existing[-1])}")
    return existing


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_text(path: Path, text: str) -> None:
    """Write a file whole or not at all: a kill mid-write leaves the old text."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def update_citation_files(root: Path, version: str, date: str) -> None:
    """Keep CITATION.cff and .zenodo.json beside the releases folder at the newest release (when they exist)."""
    cff = root / "CITATION.cff"
    if cff.exists():
        text = re.sub(r"(?m)^version: .*$", f"version: {version}", cff.read_text(encoding="utf-8"))
        text = re.sub(r"(?m)^date-released: .*$", f"date-released: {date}", text)
        _replace_text(cff, text)
    zenodo = root / ".zenodo.json"
    if zenodo.exists():
        meta = json.loads(zenodo.read_text(encoding="utf-8"))
        meta.update({"version": version, "publication_date": date})
        _replace_text(zenodo, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


def point_latest(releases: Path, name: str) -> None:
    """releases/latest -> the newest release folder, replaced atomically, so paths in examples never go stale."""
    link = releases / LATEST
    tmp = releases / f".{LATEST}.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(name, target_is_directory=True)
    os.replace(tmp, link)
