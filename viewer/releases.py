"""Find releases on disk and check them before they are served. Shared by the viewer, the
serve command and the Datasette plugin.

Every folder named vX.Y.Z is a release: one whose SHA256SUMS is missing is a damaged release,
refused like one whose files changed, never skipped in favour of an older one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from pipeline.integrity import ReleaseDamaged, release_folders, verify_folder

DB_NAME = "heedless-backbones.db"
PREVIEW = "preview"  # `heedless preview` builds raw/ into build/preview: served like a release, never cut

__all__ = ["DB_NAME", "ReleaseDamaged", "Verified", "list_versions", "resolve"]


def list_versions(releases: Path) -> list[str]:
    """Every release folder ('v0.1.0', ...), oldest first, intact or not."""
    return [p.name for p in release_folders(releases)]


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


def _signature(folder: Path) -> tuple:
    """What changes whenever any file of the folder is written, replaced, added or removed
    (the inode change time cannot be set back by anyone who edits a file)."""
    out = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        st = entry.stat(follow_symlinks=False)
        out.append((entry.name, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(out)


class Verified:
    """Releases hashed against their SHA256SUMS, remembered until a file of the folder changes."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[tuple, dict[str, str] | ReleaseDamaged]] = {}
        self._lock = threading.Lock()

    def sums(self, folder: Path) -> dict[str, str]:
        """The verified SHA256SUMS entries of a release folder, or ReleaseDamaged."""
        try:
            signature = _signature(folder)
        except OSError as exc:
            raise ReleaseDamaged(folder.name, [f"the folder cannot be read ({exc.strerror})"]) from None
        with self._lock:
            known = self._known.get(folder)
            if known is None or known[0] != signature:
                try:
                    result: dict[str, str] | ReleaseDamaged = verify_folder(folder)
                except ReleaseDamaged as exc:
                    result = exc
                known = (signature, result)
                self._known[folder] = known
        if isinstance(known[1], ReleaseDamaged):
            raise known[1]
        return known[1]
