"""The release contracts of DESIGN.md, each proven on a release cut from the fixture raw/ set."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from pipeline import tables as T
from pipeline.__main__ import main
from pipeline.diff import diff_releases
from pipeline.errors import ReleaseError
from pipeline.release import build_into, cut_release
from pipeline.write import DB_NAME

from .conftest import FIXTURE_RAW


def _sums(folder: Path) -> str:
    return (folder / "SHA256SUMS").read_text()


def test_release_refuses_to_overwrite_an_existing_version(fixture_release: Path) -> None:
    before = _sums(fixture_release)
    with pytest.raises(ReleaseError, match=r"release v0\.1\.0 already exists .*releases are immutable"):
        cut_release(FIXTURE_RAW, fixture_release.parent, "0.1.0")
    assert _sums(fixture_release) == before


def test_release_refuses_a_version_older_than_the_latest(fixture_release: Path) -> None:
    with pytest.raises(ReleaseError, match=r"version 0\.0\.9 is not newer than the latest release v0\.1\.0"):
        cut_release(FIXTURE_RAW, fixture_release.parent, "0.0.9")


def test_building_the_same_raw_twice_gives_identical_checksums(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    build_into(FIXTURE_RAW, tmp_path / "a", "0.1.0", "2026-01-15")
    build_into(FIXTURE_RAW, tmp_path / "b", "0.1.0", "2026-01-15")
    assert _sums(tmp_path / "a") == _sums(tmp_path / "b")


def test_sha256sums_covers_every_file_with_its_real_hash(fixture_release: Path) -> None:
    listed = dict(line.split("  ")[::-1] for line in _sums(fixture_release).splitlines())
    files = sorted(p.relative_to(fixture_release).as_posix() for p in fixture_release.rglob("*")
                   if p.is_file() and p.name != "SHA256SUMS")
    assert sorted(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256((fixture_release / name).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("table", T.TABLES, ids=lambda t: t.name)
def test_parquet_loads_in_polars_and_pyarrow_with_the_declared_types(fixture_release: Path, table: T.Table) -> None:
    path = fixture_release / f"{table.name}.parquet"
    frame = pl.read_parquet(path)
    assert frame.schema == pl.Schema(table.columns)
    arrow = pq.read_table(path)
    assert arrow.column_names == list(table.columns)
    assert arrow.num_rows == frame.height


def test_parquet_rows_are_sorted_by_primary_key(fixture_release: Path) -> None:
    frame = pl.read_parquet(fixture_release / "classification_results.parquet")
    assert frame.get_column("result_id").to_list() == sorted(frame.get_column("result_id").to_list())


def test_sqlite_passes_foreign_key_and_integrity_checks(fixture_release: Path) -> None:
    con = sqlite3.connect(fixture_release / DB_NAME)
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    declared = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    search = {"search_index", *(f"search_index_{s}" for s in ("data", "idx", "content", "docsize", "config"))}
    assert declared == {t.name for t in T.TABLES} | search
    fks = con.execute("PRAGMA foreign_key_list(classification_results)").fetchall()
    assert {(r[2], r[3]) for r in fks} == {
        ("sources", "source_id"),
        ("checkpoints", "checkpoint_id"),
        ("datasets", "eval_dataset_id"),
        ("datasets", "finetune_dataset_id"),
        ("adaptations", "adaptation_id"),
        ("test_time_procedures", "test_time_id"),
        ("splits", "eval_split"),
    }


def test_sqlite_views_read_without_joins(fixture_release: Path) -> None:
    con = sqlite3.connect(fixture_release / DB_NAME)
    rows = con.execute(
        "SELECT family, backbone, pretrain_dataset, eval_dataset, eval_resolution_px, top1, gmacs "
        "FROM classification ORDER BY result_id"
    ).fetchall()
    assert rows == [
        ("AlphaNet", "AlphaNet-L", "ImageNet-1k", "ImageNet-1k", 224, 83.0, 15.0),
        ("AlphaNet", "AlphaNet-L", "ImageNet-22k", "ImageNet-1k", 384, 86.0, 45.0),
        ("AlphaNet", "AlphaNet-S", "ImageNet-1k", "ImageNet-1k", 224, 70.5, 4.0),
        ("AlphaNet", "AlphaNet-S", "ImageNet-1k", "ImageNet-1k", 224, 80.0, 4.0),
        ("AlphaNet", "AlphaNet-S", "ImageNet-1k", "ImageNet-A", 224, 20.5, None),
        ("AlphaNet", "AlphaNet-L", "ImageNet-1k", "ImageNet-1k", 224, 82.0, 20.0),
        ("BetaFormer", "BetaFormer-B", "ImageNet-1k", "ImageNet-1k", 224, 83.6, 17.6),
    ]


def test_the_same_value_from_two_documents_is_one_result_citing_both(fixture_release: Path) -> None:
    frame = pl.read_parquet(fixture_release / "classification_results.parquet")
    row = frame.filter(
        (pl.col("checkpoint_id") == "alphanet_s.in1k") & (pl.col("eval_dataset_id") == "imagenet_1k")
        & (pl.col("adaptation_id") == "fine_tune")
    )
    assert row.select("result_id", "source_id", "citations", "citation_count", "conflict").rows() == [
        (
            "alpha2021net/classification/alphanet_s.in1k/none/imagenet_1k@224",
            "alpha2021net",
            "alpha2021net (Table 1); beta2022former (Table 2)",
            2,
            False,
        )
    ]
    cites = pl.read_parquet(fixture_release / "citations.parquet").filter(pl.col("result_id") == row["result_id"][0])
    assert cites.select("rank", "source_id", "where").rows() == [(1, "alpha2021net", "Table 1"), (2, "beta2022former", "Table 2")]


def test_different_values_for_one_measurement_stay_apart_marked_as_a_conflict(fixture_release: Path) -> None:
    frame = pl.read_parquet(fixture_release / "classification_results.parquet")
    rows = frame.filter((pl.col("checkpoint_id") == "alphanet_l.in1k") & (pl.col("eval_dataset_id") == "imagenet_1k"))
    assert rows.sort("result_id").select("source_id", "top1", "conflict", "conflicts_with").rows() == [
        ("alpha2021net", 83.0, True, "beta2022former/classification/alphanet_l.in1k/none/imagenet_1k@224"),
        ("beta2022former", 82.0, True, "alpha2021net/classification/alphanet_l.in1k/none/imagenet_1k@224"),
    ]


def test_compute_is_normalised_to_gmacs_with_each_sources_convention(fixture_release: Path) -> None:
    frame = pl.read_parquet(fixture_release / "classification_results.parquet")
    beta = frame.filter(pl.col("source_id") == "beta2022former").sort("result_id")
    # beta2022former counts true FLOPs: 40.0 and 35.2 GFLOPs are 20.0 and 17.6 GMACs (its 8.0 GFLOPs for
    # AlphaNet-S, 4.0 GMACs, agree with the primary alpha2021net, which that result now cites first)
    assert beta.select("checkpoint_id", "gmacs").rows() == [
        ("alphanet_l.in1k", 20.0),
        ("betaformer_b.mae_in1k", 17.6),
    ]


def test_chains_become_text_and_stage_rows(fixture_release: Path) -> None:
    stages = pl.read_parquet(fixture_release / "chain_stages.parquet")
    row = stages.filter(pl.col("result_id").str.contains("alphanet_l.in22k") & pl.col("result_id").str.contains("classification"))
    assert row.select("stage", "dataset_id", "epochs", "resolution_px").rows() == [(1, "imagenet_1k", 30, 384)]
    cls = pl.read_parquet(fixture_release / "classification_results.parquet")
    assert cls.filter(pl.col("checkpoint_id") == "alphanet_l.in22k").select("chain", "finetune_dataset_id").rows() == [
        ("imagenet_1k 30ep 384px", "imagenet_1k")
    ]


def test_datapackage_lists_every_file_with_sha256_and_keys(fixture_release: Path) -> None:
    package = json.loads((fixture_release / "datapackage.json").read_text())
    assert (package["version"], package["created"]) == ("0.1.0", "2026-01-15T00:00:00Z")
    paths = sorted(r["path"] for r in package["resources"])
    assert paths == sorted(p.relative_to(fixture_release).as_posix() for p in fixture_release.rglob("*")
                           if p.is_file() and p.name not in ("SHA256SUMS", "datapackage.json"))
    for res in package["resources"]:
        data = (fixture_release / res["path"]).read_bytes()
        assert res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        # tables carry no byte count (the validator reads Parquet through pyarrow and cannot count bytes)
        assert res.get("bytes") == (None if res["type"] == "table" else len(data))
    checkpoints = next(r for r in package["resources"] if r["name"] == "checkpoints")
    assert checkpoints["schema"]["primaryKey"] == ["checkpoint_id"]
    assert {"fields": ["backbone_id"], "reference": {"resource": "backbones", "fields": ["backbone_id"]}} in checkpoints[
        "schema"
    ]["foreignKeys"]


def test_datapackage_speaks_data_package_v2_only(fixture_release: Path) -> None:
    package = json.loads((fixture_release / "datapackage.json").read_text())
    assert package["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert "profile" not in package and all("profile" not in r for r in package["resources"])
    assert {r["$schema"] for r in package["resources"]} == {"https://datapackage.org/profiles/2.0/dataresource.json"}
    assert {r["schema"]["$schema"] for r in package["resources"] if r["type"] == "table"} == {
        "https://datapackage.org/profiles/2.0/tableschema.json"
    }


def _edit(raw: Path, file: str, old: str, new: str) -> None:
    path = raw / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_diff_reports_an_added_a_removed_and_a_changed_row_exactly(
    tmp_path: Path, fixture_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    releases = tmp_path / "releases"
    cut_release(fixture_raw, releases, "0.1.0")
    _edit(fixture_raw, "results/alpha2021net.yaml", "    top1: 83.0\n", "    top1: 83.1\n")  # changed
    _edit(fixture_raw, "results/alpha2021net.yaml", "    eval_dataset: imagenet_a\n", "    eval_dataset: imagenet_r\n")  # removed + added
    cut_release(fixture_raw, releases, "0.2.0")
    assert main(["diff", "--releases", str(releases), "0.1.0", "0.2.0"]) == 0
    assert capsys.readouterr().out == (
        "# v0.1.0 -> v0.2.0 (a minor change)\n"
        "### Added\n"
        "- citations: 1 row(s)\n"
        "  - `alpha2021net/classification/alphanet_s.in1k/none/imagenet_r@224|1`\n"
        "- classification_results: 1 row(s)\n"
        "  - `alpha2021net/classification/alphanet_s.in1k/none/imagenet_r@224`\n"
        "\n### Changed\n"
        "- classification_results: 1 value(s)\n"
        "  - `alpha2021net/classification/alphanet_l.in1k/none/imagenet_1k@224` top1: 83.0 -> 83.1 (source alpha2021net)\n"
        "\n### Removed\n"
        "- citations: 1 row(s)\n"
        "  - `alpha2021net/classification/alphanet_s.in1k/none/imagenet_a@224|1`\n"
        "- classification_results: 1 row(s)\n"
        "  - `alpha2021net/classification/alphanet_s.in1k/none/imagenet_a@224`\n"
    )


def test_release_writes_a_dated_summary_and_the_folded_diff_into_the_changelog(tmp_path: Path, fixture_raw: Path) -> None:
    releases = tmp_path / "releases"
    cut_release(fixture_raw, releases, "0.1.0", date="2026-01-15")
    _edit(fixture_raw, "results/alpha2021net.yaml", "    top1: 83.0\n", "    top1: 83.1\n")
    cut_release(fixture_raw, releases, "0.1.1", date="2026-02-01")
    log = (releases / "CHANGELOG.md").read_text()
    assert log.index("## v0.1.1") < log.index("## v0.1.0")
    assert (
        "## v0.1.1 (2026-02-01)\n\n"
        "Compared with v0.1.0 (a patch change). Added: nothing. Removed: nothing. Values corrected: 1.\n\n"
        "| table | rows now | added | changed values | removed |\n|---|---|---|---|---|\n"
        "| `classification_results` | 7 | 0 | 1 | 0 |\n\n"
        "Corrections (old -> new, and the source that says so):\n\n"
        "- classification_results `alpha2021net/classification/alphanet_l.in1k/none/imagenet_1k@224` top1: 83.0 -> 83.1"
        " (source alpha2021net)\n\n"
        "<details><summary>Every row added, changed and removed</summary>\n\n"
        "### Added\n\n### Changed\n- classification_results: 1 value(s)\n"
        "  - `alpha2021net/classification/alphanet_l.in1k/none/imagenet_1k@224` top1: 83.0 -> 83.1 (source alpha2021net)\n"
        "\n### Removed\n\n</details>\n\n"
        "## v0.1.0 (2026-01-15)\n\nFirst release: 2 families, 3 backbones, 4 checkpoints, 12 results (7 classification, "
        "3 detection, 2 semantic segmentation), 4 throughput and 0 latency figures, from 2 sources.\n"
    ) in log


def test_release_refuses_a_patch_version_when_rows_were_added(tmp_path: Path, fixture_raw: Path) -> None:
    releases = tmp_path / "releases"
    cut_release(fixture_raw, releases, "0.1.0")
    _edit(fixture_raw, "results/alpha2021net.yaml", "    eval_dataset: imagenet_a\n", "    eval_dataset: imagenet_r\n")
    with pytest.raises(ReleaseError, match=r"version 0\.1\.1 does not follow data SemVer after v0\.1\.0: rows, columns or tables were added or removed, so the next version is 0\.2\.0 or 1\.0\.0"):
        cut_release(fixture_raw, releases, "0.1.1")
    assert sorted(p.name for p in releases.iterdir()) == ["CHANGELOG.md", "latest", "v0.1.0"]


def test_release_refuses_when_nothing_changed(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    cut_release(FIXTURE_RAW, releases, "0.1.0")
    with pytest.raises(ReleaseError, match=r"nothing changed since v0\.1\.0"):
        cut_release(FIXTURE_RAW, releases, "0.1.1")


def test_a_removed_column_requires_a_major_version(tmp_path: Path, fixture_release: Path) -> None:
    from pipeline.diff import diff_table
    from pipeline.release import check_semver

    old = pl.read_parquet(fixture_release / "backbones.parquet")
    table_diff = diff_table("backbones", ["backbone_id"], old, old.drop("hf_id"))
    assert table_diff.columns_removed == ["hf_id"]
    from pipeline.diff import ReleaseDiff

    with pytest.raises(ReleaseError, match=r"columns or tables were removed, renamed or retyped, so the next version is 1\.0\.0"):
        check_semver((0, 1, 0), (0, 2, 0), ReleaseDiff([table_diff], [], []))


def test_diff_of_a_release_with_itself_is_empty(fixture_release: Path) -> None:
    assert diff_releases(fixture_release, fixture_release).empty


def test_the_changelog_headline_counts_in_the_singular_and_with_thousands_separators() -> None:
    from types import SimpleNamespace

    from pipeline.diff import _headline

    diff = SimpleNamespace(tables=[SimpleNamespace(name="families", added=["a"], removed=[]),
                                   SimpleNamespace(name="throughput", added=[str(i) for i in range(5974)], removed=[]),
                                   SimpleNamespace(name="sources", added=["s1", "s2"], removed=["s3"])])
    assert _headline(diff, "added") == "1 family, 5,974 throughput figures, 2 sources"  # type: ignore[arg-type]
    assert _headline(diff, "removed") == "1 source"  # type: ignore[arg-type]
