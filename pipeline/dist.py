"""Check a release against its SHA256SUMS, and pack it into one archive with a checksum file."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import tarfile
from pathlib import Path

from .errors import ReleaseError
from .integrity import ReleaseDamaged, verify_folder
from .names import PACKAGE_NAME
from .write import release_date


def verify_release(folder: Path) -> list[str]:
    """Problems with a release folder's files against its SHA256SUMS; empty when every file matches."""
    try:
        verify_folder(folder)
    except ReleaseDamaged as exc:
        return [f"{folder.name}/{problem}" for problem in exc.problems]
    return []


def archive_name(version: str) -> str:
    return f"{PACKAGE_NAME}-v{version}.tar.gz"


def _tar_bytes(folder: Path, root: str, mtime: int) -> bytes:
    """An uncompressed tar of the folder with fixed owners, modes and times, members sorted."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        paths = sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix())
        for path in [folder, *paths]:
            rel = path.relative_to(folder).as_posix()
            info = tarfile.TarInfo(root if rel == "." else f"{root}/{rel}")
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.mode, info.size = 0o644, path.stat().st_size
                with path.open("rb") as fh:
                    tar.addfile(info, fh)
    return buf.getvalue()


def make_archive(folder: Path, out: Path) -> tuple[Path, Path]:
    """dist/heedless-backbones-vX.Y.Z.tar.gz and its .sha256 (sha256sum -c compatible), byte for byte repeatable."""
    problems = verify_release(folder)
    if problems:
        raise ReleaseError("refusing to pack a damaged release: " + "; ".join(problems))
    version = folder.name.removeprefix("v")
    date = release_date(folder) or "1970-01-01"
    mtime = int(dt.datetime.fromisoformat(f"{date}T00:00:00+00:00").timestamp())
    out.mkdir(parents=True, exist_ok=True)
    target = out / archive_name(version)
    data = _tar_bytes(folder, f"{PACKAGE_NAME}-v{version}", mtime)
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=mtime, compresslevel=9) as gz:
        gz.write(data)
    target.write_bytes(compressed.getvalue())
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    checksum = target.with_name(target.name + ".sha256")
    checksum.write_text(f"{digest}  {target.name}\n")
    return target, checksum
