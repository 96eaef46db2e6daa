"""Find releases on disk. Shared by the viewer and the serve command; reads folders only."""

from __future__ import annotations

import re
from pathlib import Path

VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
DB_NAME = "heedless-backbones.db"
PREVIEW = "preview"  # `heedless preview` builds raw/ into build/preview: served like a release, never cut


def list_versions(releases: Path) -> list[str]:
    """Complete release folders ('v0.1.0', ...), oldest first."""
    if not releases.is_dir():
        return []
    found = [p.name for p in releases.iterdir() if VERSION.match(p.name) and (p / "SHA256SUMS").exists()]
    return sorted(found, key=lambda n: tuple(int(x) for x in VERSION.match(n).groups()))  # type: ignore[union-attr]


def resolve(releases: Path, name: str = "latest") -> Path:
    """The folder of a release: 'latest', 'v0.1.0' or '0.1.0', or 'preview' (an unreleased build of raw/)."""
    if name == PREVIEW and (releases / PREVIEW / "SHA256SUMS").exists():
        return releases / PREVIEW
    versions = list_versions(releases)
    if not versions:
        raise FileNotFoundError(f"no release in {releases}: cut one with `python -m pipeline release --version X.Y.Z`")
    if name == "latest":
        return releases / versions[-1]
    tag = name if name.startswith("v") else f"v{name}"
    if tag not in versions:
        raise FileNotFoundError(f"no release {name} in {releases} (have: {', '.join(versions)})")
    return releases / tag
