"""What a release gives people beyond its tables: validators pass with no flags, a dataset card that loads in
Hugging Face `datasets`, Croissant metadata, a data dictionary, a date, `latest`, and a dist archive.

The validators and readers run in the separate validation environment (.venv-validate, made by `make setup`).
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import polars as pl
import pytest
import yaml

from pipeline import tables as T
from pipeline.__main__ import main
from pipeline.dictionary import null_meaning
from pipeline.dist import make_archive, verify_release
from pipeline.integrity import verify_folder
from pipeline.release import cut_release

from .conftest import FIXTURE_RAW, ROOT

VALIDATE_BIN = ROOT / ".venv-validate" / "bin"


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **env}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, env=full_env)


def test_plain_frictionless_validate_passes_on_a_fresh_release(fixture_release: Path) -> None:
    proc = _run([str(VALIDATE_BIN / "frictionless"), "validate", f"{fixture_release.name}/datapackage.json"],
                cwd=fixture_release.parent)
    resources = len(json.loads((fixture_release / "datapackage.json").read_text())["resources"])
    assert (proc.returncode, "INVALID" in proc.stdout, proc.stdout.count(" VALID ")) == (0, False, resources), (
        proc.stdout[-3000:]
    )


def test_croissant_metadata_passes_mlcroissant_validate(fixture_release: Path) -> None:
    proc = _run([str(VALIDATE_BIN / "mlcroissant"), "validate", "--jsonld", "croissant.json"], cwd=fixture_release)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr[-3000:]


def test_dataset_card_has_one_hugging_face_config_per_table(fixture_release: Path) -> None:
    text = (fixture_release / "README.md").read_text()
    header = yaml.safe_load(text.split("---\n")[1])
    assert header["license"] == "cc-by-4.0"
    assert [(c["config_name"], c["data_files"]) for c in header["configs"]] == [
        (t.name, f"{t.name}.parquet") for t in T.TABLES
    ]
    assert "# Heedless Backbones v0.1.0" in text and "Released 2026-01-15." in text
    assert "@misc{heedless_backbones_0_1_0," in text and "version = {0.1.0}" in text


def test_data_dictionary_has_a_page_per_table_with_every_column(fixture_release: Path) -> None:
    pages = sorted(p.name for p in (fixture_release / "data-dictionary").iterdir())
    assert pages == sorted(["index.md", *(f"{t.name}.md" for t in T.TABLES)])
    page = (fixture_release / "data-dictionary" / "throughput.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert [r.split("|")[1].strip(" `") for r in rows] == list(T.THROUGHPUT.columns)
    assert "| `batch_size` | integer | images per batch | the source does not state it |" in page
    assert "| `throughput_id` | string |  | never empty |" in page


@pytest.mark.parametrize("folder", ["fixture", "latest committed"])
def test_every_null_in_a_release_has_a_documented_meaning_and_no_string_fakes_one(
    folder: str, fixture_release: Path
) -> None:
    from viewer.releases import resolve

    release = fixture_release if folder == "fixture" else resolve(ROOT / "releases")
    undocumented, fakes = [], []
    for table in T.TABLES:
        path = release / f"{table.name}.parquet"
        if not path.exists():
            continue
        frame = pl.read_parquet(path)
        for column in frame.columns:
            if frame[column].null_count() and column in table.columns and null_meaning(table.name, column) is None:
                undocumented.append(f"{table.name}.{column}")
            if frame.schema[column] == pl.String:
                n = frame[column].is_in(["", "nan", "NaN", "n/a", "NA", "null", "None"]).sum()
                if n:
                    fakes.append(f"{table.name}.{column}")
    assert (undocumented, fakes) == ([], [])


def test_a_release_records_its_date_and_build_reuses_it(tmp_path: Path, fixture_raw: Path) -> None:
    releases = tmp_path / "releases"
    cut_release(fixture_raw, releases, "0.1.0", date="2026-03-04")
    out = tmp_path / "build"
    assert main(["build", "-q", "--raw", str(fixture_raw), "--releases", str(releases), "--out", str(out)]) == 0
    assert (out / "SHA256SUMS").read_text() == (releases / "v0.1.0" / "SHA256SUMS").read_text()
    assert json.loads((out / "datapackage.json").read_text())["created"] == "2026-03-04T00:00:00Z"


def test_latest_points_at_the_newest_release(tmp_path: Path, fixture_raw: Path) -> None:
    releases = tmp_path / "releases"
    cut_release(fixture_raw, releases, "0.1.0", date="2026-01-15")
    path = fixture_raw / "results" / "alpha2021net.yaml"
    path.write_text(path.read_text().replace("    top1: 83.0\n", "    top1: 83.1\n", 1))
    cut_release(fixture_raw, releases, "0.1.1", date="2026-01-16")
    assert (releases / "latest").is_symlink() and os.readlink(releases / "latest") == "v0.1.1"


def test_verify_names_a_damaged_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    releases = tmp_path / "releases"
    cut_release(FIXTURE_RAW, releases, "0.1.0", date="2026-01-15")
    assert main(["verify", "--releases", str(releases), "0.1.0"]) == 0
    assert capsys.readouterr().err == f"{releases / 'v0.1.0'}: OK, {len(verify_folder(releases / 'v0.1.0'))} files match SHA256SUMS\n"
    with (releases / "v0.1.0" / "families.parquet").open("ab") as fh:
        fh.write(b"x")
    assert main(["verify", "--releases", str(releases), "0.1.0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{releases / 'v0.1.0'}: DAMAGED\n  families.parquet does not match SHA256SUMS (its SHA-256 is ")


LOAD_EVERYWHERE = r"""
import json, sys
import duckdb, pandas as pd
from datasets import load_dataset
folder = sys.argv[1]
cls = pd.read_parquet(f"{folder}/classification_results.parquet", dtype_backend="pyarrow")
stages = pd.read_parquet(f"{folder}/chain_stages.parquet", dtype_backend="pyarrow")
top = duckdb.sql(f"SELECT checkpoint_id, top1 FROM '{folder}/classification_results.parquet' "
                 "WHERE eval_dataset_id = 'imagenet_1k' ORDER BY top1 DESC, result_id LIMIT 2").fetchall()
hf = {name: load_dataset(folder, name, split="train") for name in ("families", "classification_results")}
print(json.dumps({
    "pandas_rows": len(cls), "pandas_eval_px": str(cls["eval_resolution_px"].dtype),
    "pandas_epochs": str(stages["epochs"].dtype), "epochs_nulls": int(stages["epochs"].isna().sum()),
    "duckdb_top": top,
    "hf_rows": {k: v.num_rows for k, v in hf.items()},
    "hf_eval_px": str(hf["classification_results"].features["eval_resolution_px"].dtype),
}))
"""


def test_dist_archive_unpacks_verifies_and_loads_in_polars_pandas_duckdb_and_datasets(
    fixture_release: Path, tmp_path: Path
) -> None:
    archive, checksum = make_archive(fixture_release, tmp_path / "dist")
    again, _ = make_archive(fixture_release, tmp_path / "dist2")
    assert archive.read_bytes() == again.read_bytes()  # repeatable byte for byte
    assert (archive.name, checksum.name) == ("heedless-backbones-v0.1.0.tar.gz", "heedless-backbones-v0.1.0.tar.gz.sha256")
    assert _run(["sha256sum", "-c", checksum.name], cwd=archive.parent).stdout == f"{archive.name}: OK\n"
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    folder = tmp_path / "unpacked" / "heedless-backbones-v0.1.0"
    assert verify_release(folder) == []
    assert _run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder).returncode == 0
    assert pl.read_parquet(folder / "families.parquet").get_column("family_id").to_list() == ["alphanet", "betaformer"]
    proc = _run([str(VALIDATE_BIN / "python"), "-c", LOAD_EVERYWHERE, str(folder)], cwd=tmp_path,
                HF_HOME=str(tmp_path / "hf"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {
        "pandas_rows": 7, "pandas_eval_px": "int64[pyarrow]", "pandas_epochs": "int64[pyarrow]", "epochs_nulls": 2,
        "duckdb_top": [["alphanet_l.in22k", 86.0], ["betaformer_b.mae_in1k", 83.6]],
        "hf_rows": {"families": 2, "classification_results": 7},
        "hf_eval_px": "int64",
    }


def test_dist_refuses_a_damaged_release(tmp_path: Path) -> None:
    from pipeline.errors import ReleaseError

    releases = tmp_path / "releases"
    cut_release(FIXTURE_RAW, releases, "0.1.0", date="2026-01-15")
    (releases / "v0.1.0" / "README.md").write_text("edited")
    with pytest.raises(ReleaseError, match=r"refusing to pack a damaged release: v0\.1\.0/README\.md does not match SHA256SUMS"):
        make_archive(releases / "v0.1.0", tmp_path / "dist")


def test_citation_cff_is_valid_and_names_the_latest_release() -> None:
    from viewer.releases import resolve

    proc = _run([str(VALIDATE_BIN / "cffconvert"), "--validate", "-i", "CITATION.cff"], cwd=ROOT)
    assert (proc.returncode, proc.stdout) == (0, "Citation metadata are valid according to schema version 1.2.0.\n")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    zenodo = json.loads((ROOT / ".zenodo.json").read_text())
    latest = resolve(ROOT / "releases").name.removeprefix("v")
    assert (cff["version"], zenodo["version"], cff["license"], zenodo["license"]) == (latest, latest, "CC-BY-4.0", "cc-by-4.0")
    assert str(cff["date-released"]) == zenodo["publication_date"]


def test_cutting_a_release_moves_citation_and_zenodo_metadata_to_it(tmp_path: Path) -> None:
    import shutil

    shutil.copy2(ROOT / "CITATION.cff", tmp_path / "CITATION.cff")
    shutil.copy2(ROOT / ".zenodo.json", tmp_path / ".zenodo.json")
    cut_release(FIXTURE_RAW, tmp_path / "releases", "7.8.9", date="2027-05-06")
    cff = yaml.safe_load((tmp_path / "CITATION.cff").read_text())
    zenodo = json.loads((tmp_path / ".zenodo.json").read_text())
    assert (cff["version"], str(cff["date-released"]), zenodo["version"], zenodo["publication_date"]) == (
        "7.8.9", "2027-05-06", "7.8.9", "2027-05-06"
    )
    assert _run([str(VALIDATE_BIN / "cffconvert"), "--validate", "-i", "CITATION.cff"], cwd=tmp_path).returncode == 0


def test_readable_views_offer_where_in_source_beside_where(fixture_release: Path) -> None:
    import sqlite3

    con = sqlite3.connect(fixture_release / "heedless-backbones.db")
    views = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")]
    assert views == ["classification", "detection", "latency_figures", "semantic_segmentation", "throughput_figures"]
    for view in views:
        columns = [r[1] for r in con.execute(f"PRAGMA table_info({view})")]
        assert columns.index("where_in_source") == columns.index("where") + 1, view
    rows = con.execute("SELECT where_in_source FROM classification WHERE where_in_source = 'Table 1'").fetchall()
    assert len(rows) == 3


def test_the_dataset_cards_own_examples_run_inside_the_release_folder(fixture_release: Path, tmp_path: Path) -> None:
    import re
    import shutil as sh

    folder = tmp_path / "release"
    sh.copytree(fixture_release, folder)
    text = (folder / "README.md").read_text()
    [python] = re.findall(r"```python\n(.*?)```", text, re.S)
    proc = _run([str(VALIDATE_BIN / "python"), "-c", python], cwd=folder, HF_HOME=str(tmp_path / "hf"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines() == ["7", "7 int64[pyarrow]", "7", "2"]
    if sh.which("sqlite3") is None:
        pytest.skip("the card's SQLite example needs the sqlite3 command")
    [shell] = re.findall(r"```sh\n(.*?)```", text, re.S)
    rows = _run(["bash", "-c", shell], cwd=folder).stdout.splitlines()
    assert [r.split("|")[:3] for r in rows] == [
        ["AlphaNet-L", "alphanet_l.in22k", "86.0"], ["BetaFormer-B", "betaformer_b.mae_in1k", "83.6"],
        ["AlphaNet-L", "alphanet_l.in1k", "83.0"], ["AlphaNet-L", "alphanet_l.in1k", "82.0"],
        ["AlphaNet-S", "alphanet_s.in1k", "80.0"],
    ]
