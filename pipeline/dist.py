"""Check a release against its SHA256SUMS, and pack it into one archive with a checksum file."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import tarfile
from pathlib import Path

from .errors import ReleaseError
from .names import PACKAGE_NAME
from .write import release_date, sha256


def verify_release(folder: Path) -> list[str]:
    """Problems with a release folder's files against its SHA256SUMS; empty when every file matches."""
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        return [f"{folder.name}: no SHA256SUMS"]
    problems = []
    listed = {}
    for line in sums.read_text().splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
        path = folder / name
        if not path.is_file():
            problems.append(f"{folder.name}/{name}: listed in SHA256SUMS but missing")
        elif sha256(path) != digest:
            problems.append(f"{folder.name}/{name}: sha256 differs from SHA256SUMS (damaged or edited)")
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        name = path.relative_to(folder).as_posix()
        if name not in listed:
            problems.append(f"{folder.name}/{name}: not listed in SHA256SUMS")
    return problems


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
