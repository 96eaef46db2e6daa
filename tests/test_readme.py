"""The README's examples run against the latest release and give the right answers.

Every code block of the README's "Using a release" section runs here against a release cut from raw/ as it is
(what `make release` would publish next), in a folder where `releases/latest` points at it: polars in the project's environment, pandas, DuckDB and Hugging Face `datasets`
in the validation environment, the sqlite3 and sha256sum commands in a shell, and the Datasette URL through
Datasette itself.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from pipeline.release import cut_release

from .conftest import ROOT

VALIDATE_PY = ROOT / ".venv-validate" / "bin" / "python"
BLOCK = re.compile(r"```(python|sh)\n(.*?)```", re.S)


def _in_thread(coroutine):  # type: ignore[no-untyped-def]
    """Run a coroutine on its own loop in a worker thread (the browser tests keep a loop in the main thread)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


def _blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Using a release", 1)[1].split("\n## ", 1)[0]
    return BLOCK.findall(section)


def _block(start: str) -> str:
    [code] = [code for lang, code in _blocks() if code.startswith(start)]
    return code


LATEST: Path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose releases/ holds a release cut from raw/ and the `latest` link `make release` leaves."""
    global LATEST
    work = tmp_path_factory.mktemp("readme")
    LATEST = cut_release(ROOT / "raw", work / "releases", "99.0.0", date="2026-12-03")
    assert (work / "releases" / "latest").resolve() == LATEST.resolve()
    return work


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(cwd / ".hf")}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def _latest() -> Path:
    return LATEST


def test_the_readme_section_has_the_examples_this_file_runs() -> None:
    starts = [code.split("\n", 1)[0] for _, code in _blocks()]
    assert starts == ["import polars as pl", "import pandas as pd", "import duckdb", "from datasets import load_dataset",
                      "sqlite3 releases/latest/heedless-backbones.db \"SELECT backbone, checkpoint_id, top1, gmacs, "
                      "where_in_source", "curl -s \"http://127.0.0.1:8001/heedless-backbones/"
                      "best_top1_under_gmacs_no_extra_data.json?_shape=array&max_gmacs=5\""]


def test_the_polars_example_finds_the_best_top1_under_5_gmacs_without_extra_data(workdir: Path) -> None:
    namespace: dict = {}
    cwd = Path.cwd()
    os.chdir(workdir)
    try:
        exec(compile(_block("import polars as pl"), "README.md", "exec"), namespace)  # noqa: S102
    finally:
        os.chdir(cwd)
    best = namespace["best"]
    frame = pl.read_parquet(_latest() / "classification_results.parquet")
    expected = frame.filter(
        (pl.col("eval_dataset_id") == "imagenet_1k") & (pl.col("gmacs") <= 5) & (pl.col("adaptation_id") == "fine_tune")
        & (pl.col("test_time_id") == "single_crop") & (pl.col("split_kind") == "val")
        & (pl.col("extra_training_data") == False)  # noqa: E712
    ).get_column("top1").sort(descending=True).head(5).to_list()
    assert (best.height, best.get_column("top1").to_list()) == (5, expected)
    assert best.get_column("gmacs").max() <= 5  # type: ignore[operator]


def test_the_pandas_example_keeps_integers_and_answers_per_resolution(workdir: Path) -> None:
    code = _block("import pandas as pd") + "print(top1.eval_resolution_px.dtype, top1.eval_resolution_px.isna().any())\n"
    proc = _run([str(VALIDATE_PY), "-c", code], cwd=workdir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    frame = pl.read_parquet(_latest() / "classification_results.parquet").filter(
        (pl.col("eval_dataset_id") == "imagenet_1k") & (pl.col("adaptation_id") == "fine_tune")
    )
    by_px = frame.group_by("eval_resolution_px").agg(pl.col("top1").max()).drop_nulls("eval_resolution_px")
    first = by_px.sort("eval_resolution_px").row(0)
    lines = proc.stdout.splitlines()
    assert lines[0] == "eval_resolution_px"
    assert lines[1].split() == [str(first[0]), str(first[1])]
    assert lines[-1] == "int64[pyarrow] True"  # empty resolutions exist and the column is still integer


def test_the_duckdb_example_ranks_families_by_their_best_imagenet_top1(workdir: Path) -> None:
    code = _block("import duckdb").replace("print(duckdb.sql(", "rows = (duckdb.sql(") + "print(rows.fetchall())\n"
    proc = _run([str(VALIDATE_PY), "-c", code], cwd=workdir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    latest = _latest()
    results = pl.read_parquet(latest / "classification_results.parquet").filter(
        (pl.col("eval_dataset_id") == "imagenet_1k") & (pl.col("adaptation_id") == "fine_tune")
        & (pl.col("split_kind") == "val")
    )
    families = (
        results.join(pl.read_parquet(latest / "checkpoints.parquet").select("checkpoint_id", "backbone_id"), on="checkpoint_id")
        .join(pl.read_parquet(latest / "backbones.parquet").select("backbone_id", "family_id"), on="backbone_id")
        .group_by("family_id").agg(pl.col("top1").max()).sort(["top1", "family_id"], descending=[True, False]).head(5)
    )
    assert proc.stdout.strip() == str(families.rows())


def test_the_datasets_example_loads_one_table_by_its_config(workdir: Path) -> None:
    proc = _run([str(VALIDATE_PY), "-c", _block("from datasets import load_dataset")], cwd=workdir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    families = pl.read_parquet(_latest() / "families.parquet")
    assert proc.stdout.strip().splitlines()[-1] == f"{families.height} ['family_id', 'name', 'source_id']"


def test_the_sqlite_example_gives_the_top_5_imagenet_1k_results_and_the_checksums_pass(workdir: Path) -> None:
    if shutil.which("sqlite3") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the README's sqlite3 example: .ci/run installs Debian's sqlite3")
        pytest.skip("the README's SQLite example needs the sqlite3 command (apt-get install sqlite3)")
    proc = _run(["bash", "-euo", "pipefail", "-c", _block("sqlite3 ")], cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    *rows, last = proc.stdout.splitlines()
    assert last == "every file matches"
    frame = pl.read_parquet(_latest() / "classification_results.parquet").filter(
        (pl.col("eval_dataset_id") == "imagenet_1k") & (pl.col("adaptation_id") == "fine_tune")
        & (pl.col("test_time_id") == "single_crop") & (pl.col("split_kind") == "val")
    )
    expected = frame.get_column("top1").sort(descending=True, nulls_last=True).head(5).to_list()
    assert [float(r.split("|")[2]) for r in rows] == expected
    imagenet = set(frame.get_column("checkpoint_id").to_list())
    assert all(r.split("|")[1] in imagenet for r in rows)


def test_the_datasette_example_answers_the_canned_query(workdir: Path) -> None:
    from datasette.app import Datasette

    from viewer.serve import datasette_one_metadata

    url = re.search(r'curl -s "http://127.0.0.1:8001(/[^"]+)"', _block("curl "))
    assert url is not None
    latest = _latest()
    ds = Datasette(immutables=[str(latest / "heedless-backbones.db")], metadata=datasette_one_metadata(latest))
    response = _in_thread(ds.client.get(url[1]))
    rows = response.json()
    assert response.status_code == 200 and 0 < len(rows) <= 50
    assert all(r["gmacs"] <= 5 for r in rows)
    assert [r["top1"] for r in rows] == sorted((r["top1"] for r in rows), reverse=True)


def test_the_readme_never_names_a_fixed_release_folder() -> None:
    text = (ROOT / "README.md").read_text()
    assert re.findall(r"releases/v\d+\.\d+\.\d+/", text) == []
