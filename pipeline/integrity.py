"""Check a release against its SHA256SUMS before anything trusts it.

A release folder (or an archive of one) is exactly the files its SHA256SUMS lists, each with
that hash: a missing, changed or extra file, or a missing or malformed SHA256SUMS, makes the
whole release damaged. `python -m pipeline verify`, `build --verify`, the viewer and the
Datasette plugin all use these checks. Standard library only, so that every consumer can
import it without the pipeline's dependencies.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

SUMS = "SHA256SUMS"
SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}"
LINE = re.compile(rf"^([0-9a-f]{{64}}) [ *]((?:{SEGMENT}/)?{SEGMENT})$")  # a file, or a file in one sub-folder
INNER = re.compile(rf"^(?:{SEGMENT}/)?{SEGMENT}$")
BLOCK = 1 << 20
MAX_SUMS_BYTES = 1 << 20  # a SHA256SUMS larger than this is not one the pipeline wrote
MAX_SHOWN = 10


class ReleaseDamaged(Exception):
    """A release whose files do not match its SHA256SUMS: it must not be served or trusted."""

    def __init__(self, where: str, problems: list[str]):
        self.where = where
        self.problems = problems
        shown = problems[:MAX_SHOWN]
        more = f" (and {len(problems) - MAX_SHOWN} more)" if len(problems) > MAX_SHOWN else ""
        super().__init__(
            f"release {where} is damaged and is refused: " + "; ".join(shown) + more
            + ". Restore the release from its published archive (or cut it again); never edit a release's files."
        )


def sha256_of(stream: IO[bytes]) -> str:
    """Hex SHA-256 of everything a binary stream holds, read in blocks."""
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(BLOCK), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return sha256_of(fh)


def parse_sums(text: str) -> tuple[dict[str, str], list[str]]:
    """The file -> hash entries of a SHA256SUMS text, and what is wrong with it."""
    sums: dict[str, str] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = LINE.match(line)
        if not match:
            problems.append(f"{SUMS} line {number} is not '<64 lowercase hex digits>  <file name>'")
            continue
        digest, name = match.groups()
        if name == SUMS or name in sums:
            problems.append(f"{SUMS} line {number} lists {name} " + ("again" if name in sums else "itself"))
            continue
        sums[name] = digest
    if not sums and not problems:
        problems.append(f"{SUMS} lists no file")
    return sums, problems


def _read_sums_bytes(data: bytes) -> tuple[dict[str, str], list[str]]:
    if len(data) > MAX_SUMS_BYTES:
        return {}, [f"{SUMS} is {len(data)} bytes, larger than any release's"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {}, [f"{SUMS} is not UTF-8 text"]
    return parse_sums(text)


def _compare(sums: dict[str, str], found: dict[str, str]) -> list[str]:
    """Problems of the files found (name -> actual hash) against the sums."""
    problems = []
    for name, digest in sorted(sums.items()):
        if name not in found:
            problems.append(f"{name} is listed in {SUMS} but missing")
        elif found[name] != digest:
            problems.append(f"{name} does not match {SUMS} (its SHA-256 is {found[name][:16]}..., "
                            f"{SUMS} says {digest[:16]}...): the file was changed after the release was cut")
    for name in sorted(set(found) - set(sums)):
        problems.append(f"{name} is not listed in {SUMS}")
    return problems


def read_folder_sums(folder: Path) -> dict[str, str]:
    """The SHA256SUMS entries of a release folder, without hashing the files; raise ReleaseDamaged
    when SHA256SUMS is missing or malformed."""
    path = folder / SUMS
    if not path.is_file():
        raise ReleaseDamaged(folder.name, [f"{SUMS} is missing, so none of its files can be trusted"])
    with path.open("rb") as fh:
        data = fh.read(MAX_SUMS_BYTES + 1)
    sums, problems = _read_sums_bytes(data)
    if problems:
        raise ReleaseDamaged(folder.name, problems)
    return sums


def _entries(folder: Path) -> Iterator[Path]:
    """A release folder's entries in name order, each sub-folder followed by its own entries (one level: the
    data dictionary)."""
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        yield entry
        if entry.is_dir() and not entry.is_symlink():
            yield from sorted(entry.iterdir(), key=lambda p: p.name)


def verify_folder(folder: Path) -> dict[str, str]:
    """Hash every file of a release folder against its SHA256SUMS; return the entries, or raise
    ReleaseDamaged naming each missing, changed or unlisted file."""
    if not folder.is_dir():
        raise ReleaseDamaged(folder.name, [f"{folder} is not a folder"])
    sums = read_folder_sums(folder)
    found: dict[str, str] = {}
    problems = []
    for entry in _entries(folder):
        if entry.is_dir() and not entry.is_symlink():
            if entry.parent != folder:
                problems.append(f"{entry.relative_to(folder).as_posix()} is a folder inside a sub-folder "
                                "(a release holds files, and files in one level of sub-folders)")
            continue
        name = entry.relative_to(folder).as_posix()
        if name == SUMS:
            continue
        if entry.is_symlink() or not entry.is_file():
            problems.append(f"{name} is not a regular file (a release holds only files)")
            continue
        found[name] = sha256_file(entry)
    problems += _compare(sums, found)
    if problems:
        raise ReleaseDamaged(folder.name, problems)
    return sums


def verify_bytes(folder: Path, name: str, data: bytes, sums: dict[str, str]) -> None:
    """Check one file's bytes (already read for use) against its SHA256SUMS entry."""
    if name not in sums:
        raise ReleaseDamaged(folder.name, [f"{name} is not listed in {SUMS}"])
    digest = hashlib.sha256(data).hexdigest()
    if digest != sums[name]:
        raise ReleaseDamaged(folder.name, _compare({name: sums[name]}, {name: digest}))


def _archive_members(path: Path) -> Iterator[tuple[str, bool, IO[bytes] | None]]:
    """(member path, is a regular file, its stream) for a .tar(.gz|.bz2|.xz) or .zip archive."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                with zf.open(info) as fh:
                    yield info.filename, True, fh
        return
    with tarfile.open(path, "r:*") as tf:
        for member in tf:
            if member.isdir():
                continue
            yield member.name, member.isfile(), tf.extractfile(member) if member.isfile() else None


def verify_archive(path: Path) -> dict[str, str]:
    """Verify a downloaded release archive: its files (at the top or in one top folder) against the
    SHA256SUMS it holds. Nothing is extracted."""
    where = path.name
    try:
        members = list(_hash_members(path))
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ReleaseDamaged(where, [f"the archive cannot be read ({exc})"]) from None
    tops = {PurePosixPath(name).parts[0] for name, _, _ in members if len(PurePosixPath(name).parts) > 1}
    prefix = f"{tops.pop()}/" if len(tops) == 1 and all(len(PurePosixPath(n).parts) >= 2 for n, _, _ in members) else ""
    found: dict[str, str] = {}
    sums_data: bytes | None = None
    problems = []
    for name, digest, data in members:
        inner = name[len(prefix):] if prefix and name.startswith(prefix) else name
        if not INNER.match(inner):
            problems.append(f"{name} is not a file of the release (at its top, or in one sub-folder)")
        elif digest is None:
            problems.append(f"{name} is not a regular file (a release holds only files)")
        elif inner == SUMS:
            sums_data = data
        else:
            found[inner] = digest
    if sums_data is None:
        raise ReleaseDamaged(where, [f"{SUMS} is missing, so none of its files can be trusted", *problems])
    sums, sum_problems = _read_sums_bytes(sums_data)
    problems = sum_problems + problems + (_compare(sums, found) if not sum_problems else [])
    if problems:
        raise ReleaseDamaged(where, problems)
    return sums


def _hash_members(path: Path) -> Iterator[tuple[str, str | None, bytes | None]]:
    """(member path, its hash or None when not a regular file, the bytes of SHA256SUMS)."""
    for name, regular, stream in _archive_members(path):
        if not regular or stream is None:
            yield name, None, None
        elif PurePosixPath(name).name == SUMS:
            data = stream.read(MAX_SUMS_BYTES + 1)
            yield name, hashlib.sha256(data).hexdigest(), data
        else:
            yield name, sha256_of(stream), None


VERSION_DIR = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


def release_folders(releases: Path) -> list[Path]:
    """Every release folder (vX.Y.Z), oldest first, whether or not it is intact: a folder
    without SHA256SUMS is a damaged release, never a reason to fall back to an older one."""
    if not releases.is_dir():
        return []
    found = [p for p in releases.iterdir() if VERSION_DIR.match(p.name) and p.is_dir()]
    return sorted(found, key=lambda p: tuple(int(x) for x in VERSION_DIR.match(p.name).groups()))  # type: ignore[union-attr]


def verify(path: Path) -> dict[str, str]:
    """Verify a release folder or archive; return its SHA256SUMS entries or raise ReleaseDamaged."""
    if path.is_dir():
        return verify_folder(path)
    if not path.exists():
        raise ReleaseDamaged(path.name, [f"{path} does not exist"])
    return verify_archive(path)
