"""Every consumer verifies a release before it trusts it: `verify`, `build --verify`, archives."""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from pipeline.__main__ import main
from pipeline.integrity import ReleaseDamaged, parse_sums, verify, verify_archive, verify_folder

from .conftest import FIXTURE_RAW


def flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def releases(fixture_release: Path, tmp_path: Path) -> Path:
    """A private copy of the fixture releases folder (v0.1.0)."""
    dest = tmp_path / "releases"
    dest.mkdir()
    shutil.copytree(fixture_release, dest / fixture_release.name)
    return dest


def release_files(fixture_release: Path) -> list[str]:
    return sorted(p.relative_to(fixture_release).as_posix() for p in fixture_release.rglob("*")
                  if p.is_file() and p.name != "SHA256SUMS")


def test_an_intact_release_verifies_and_lists_every_file(releases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sums = verify_folder(releases / "v0.1.0")
    assert sorted(sums) == release_files(releases / "v0.1.0")
    assert main(["verify", "--releases", str(releases)]) == 0
    assert capsys.readouterr().err == f"{releases / 'v0.1.0'}: OK, {len(sums)} files match SHA256SUMS\n"


@pytest.mark.parametrize("name", ["backbones.parquet", "classification_results.parquet", "heedless-backbones.db",
                                  "datapackage.json", "datasette-metadata.json", "throughput.parquet"])
def test_one_flipped_byte_in_any_file_is_found_and_named(releases: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    flip_byte(releases / "v0.1.0" / name)
    with pytest.raises(ReleaseDamaged) as info:
        verify_folder(releases / "v0.1.0")
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(f"{name} does not match SHA256SUMS (its SHA-256 is ")
    assert str(info.value).startswith(f"release v0.1.0 is damaged and is refused: {name} does not match SHA256SUMS")
    assert main(["verify", "--releases", str(releases), "--release", "0.1.0"]) == 1
    err = capsys.readouterr().err
    assert f"{releases / 'v0.1.0'}: DAMAGED\n  {name} does not match SHA256SUMS" in err
    assert err.endswith("1 of 1 release(s) damaged: do not serve or publish them; restore them from their published "
                        "archives or cut them again\n")


def test_every_file_of_the_release_is_covered(releases: Path) -> None:
    for name in release_files(releases / "v0.1.0"):
        folder = releases / "v0.1.0"
        original = (folder / name).read_bytes()
        flip_byte(folder / name, offset=0)
        with pytest.raises(ReleaseDamaged, match=f"{name} does not match SHA256SUMS"):
            verify_folder(folder)
        (folder / name).write_bytes(original)
    verify_folder(releases / "v0.1.0")


def test_missing_extra_and_unlisted_files_and_a_missing_sums_are_refused(releases: Path) -> None:
    folder = releases / "v0.1.0"
    (folder / "gpus.parquet").unlink()
    (folder / "notes.txt").write_text("added later\n")
    with pytest.raises(ReleaseDamaged) as info:
        verify_folder(folder)
    assert info.value.problems == ["gpus.parquet is listed in SHA256SUMS but missing",
                                   "notes.txt is not listed in SHA256SUMS"]
    (folder / "SHA256SUMS").unlink()
    with pytest.raises(ReleaseDamaged) as info:
        verify_folder(folder)
    assert info.value.problems == ["SHA256SUMS is missing, so none of its files can be trusted"]


def test_a_malformed_sums_file_is_refused() -> None:
    sums, problems = parse_sums("zz  a.parquet\n" + "0" * 64 + "  ../etc/passwd\n" + "1" * 64 + "  b.parquet\n"
                                + "2" * 64 + "  b.parquet\n")
    assert sums == {"b.parquet": "1" * 64}
    assert problems == ["SHA256SUMS line 1 is not '<64 lowercase hex digits>  <file name>'",
                        "SHA256SUMS line 2 is not '<64 lowercase hex digits>  <file name>'",
                        "SHA256SUMS line 4 lists b.parquet again"]
    assert parse_sums("") == ({}, ["SHA256SUMS lists no file"])


def test_a_missing_sums_makes_verify_fail_instead_of_skipping_the_release(releases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (releases / "v0.1.0" / "SHA256SUMS").unlink()
    assert main(["verify", "--releases", str(releases)]) == 1
    assert "v0.1.0: DAMAGED\n  SHA256SUMS is missing, so none of its files can be trusted\n" in capsys.readouterr().err


def _build(releases: Path, tmp_path: Path) -> int:
    return main(["build", "--raw", str(FIXTURE_RAW), "--releases", str(releases), "--out", str(tmp_path / "build" / "release"),
                 "--verify"])


def test_build_verify_reproduces_an_intact_release(releases: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _build(releases, tmp_path) == 0
    assert "raw/ reproduces v0.1.0 byte for byte" in capsys.readouterr().err


def test_build_verify_hashes_the_release_files_and_fails_on_a_flipped_byte(
        releases: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flip_byte(releases / "v0.1.0" / "classification_results.parquet")
    assert _build(releases, tmp_path) == 1
    err = capsys.readouterr().err
    assert "reproduces" not in err
    assert "error: release v0.1.0 is damaged and is refused: classification_results.parquet does not match SHA256SUMS" in err


def test_build_verify_refuses_a_release_without_sums_rather_than_comparing_an_older_one(
        releases: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(releases / "v0.1.0", releases / "v0.1.1")
    (releases / "v0.1.1" / "SHA256SUMS").unlink()
    assert _build(releases, tmp_path) == 1
    err = capsys.readouterr().err
    assert "error: release v0.1.1 is damaged and is refused: SHA256SUMS is missing" in err
    assert "reproduces v0.1.0" not in err


def test_archives_verify_and_a_tampered_member_is_named(releases: Path, tmp_path: Path) -> None:
    folder = releases / "v0.1.0"
    good = tmp_path / "v0.1.0.tar.gz"
    with tarfile.open(good, "w:gz") as tf:
        tf.add(folder, arcname="v0.1.0")
    assert sorted(verify(good)) == release_files(folder)
    flat = tmp_path / "v0.1.0.zip"
    with zipfile.ZipFile(flat, "w") as zf:
        for p in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(p, p.relative_to(folder).as_posix())
    assert sorted(verify(flat)) == release_files(folder)
    flip_byte(folder / "sources.parquet")
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tf:
        tf.add(folder, arcname="v0.1.0")
    with pytest.raises(ReleaseDamaged) as info:
        verify_archive(bad)
    assert [p.split(" (")[0] for p in info.value.problems] == ["sources.parquet does not match SHA256SUMS"]
    assert main(["verify", str(bad)]) == 1
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    with pytest.raises(ReleaseDamaged, match="the archive cannot be read"):
        verify(junk)
