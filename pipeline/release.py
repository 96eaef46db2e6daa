"""Cut immutable, versioned releases: build in a temporary folder, check SemVer, move into place."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .build import validated_tables
from .card import counts_line
from .diff import ReleaseDiff, diff_releases, render, summary
from .errors import ReleaseError
from .write import write_release

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


def _write_changelog(releases: Path, section: str) -> None:
    path = releases / CHANGELOG
    body = path.read_text(encoding="utf-8") if path.exists() else CHANGELOG_HEAD
    head, _, rest = body.partition("\n## ")
    text = head.rstrip("\n") + "\n\n" + section + ("\n## " + rest if rest else "")
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    os.replace(tmp, path)


def cut_release(
    raw: Path, releases: Path, version_text: str, progress: Callable[[int], None] | None = None, date: str | None = None
) -> Path:
    """Cut releases/vX.Y.Z dated `date` (default today, UTC). Nothing is written unless every check passes."""
    version = parse_version(version_text)
    date = parse_date(date) if date else today()
    name = fmt_version(version)
    target = releases / f"v{name}"
    if target.exists():
        raise ReleaseError(f"release v{name} already exists in {releases}; releases are immutable, choose a new version")
    existing = list_releases(releases)
    if existing and version <= existing[-1]:
        raise ReleaseError(f"version {name} is not newer than the latest release v{fmt_version(existing[-1])}")
    releases.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-v{name}-", dir=releases))
    tmp.chmod(0o755)
    try:
        counts = build_into(raw, tmp, name, date, progress)
        diff = None
        if existing:
            previous = releases / f"v{fmt_version(existing[-1])}"
            diff = diff_releases(previous, tmp)
            check_semver(existing[-1], version, diff)
        section = _changelog_section(name, date, diff, fmt_version(existing[-1]) if existing else None, counts)
        os.rename(tmp, target)  # atomic on one filesystem; fails if the target appeared
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _write_changelog(releases, section)
    point_latest(releases, target.name)
    update_citation_files(releases.parent, name, date)
    return target


def update_citation_files(root: Path, version: str, date: str) -> None:
    """Keep CITATION.cff and .zenodo.json beside the releases folder at the newest release (when they exist)."""
    cff = root / "CITATION.cff"
    if cff.exists():
        text = re.sub(r"(?m)^version: .*$", f"version: {version}", cff.read_text(encoding="utf-8"))
        text = re.sub(r"(?m)^date-released: .*$", f"date-released: {date}", text)
        cff.write_text(text, encoding="utf-8")
    zenodo = root / ".zenodo.json"
    if zenodo.exists():
        meta = json.loads(zenodo.read_text(encoding="utf-8"))
        meta.update({"version": version, "publication_date": date})
        zenodo.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def point_latest(releases: Path, name: str) -> None:
    """releases/latest -> the newest release folder, replaced atomically, so paths in examples never go stale."""
    link = releases / LATEST
    tmp = releases / f".{LATEST}.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(name, target_is_directory=True)
    os.replace(tmp, link)
