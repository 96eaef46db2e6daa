"""Datasette on a release built from the fixtures: canned queries, metadata, facets, refusals."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from datasette.app import Datasette

from viewer.serve import datasette_command, datasette_one_metadata

from .conftest import ROOT

DB = "heedless-backbones"


@pytest.fixture(scope="module")
def ds(fixture_release: Path, monkeypatch_module: pytest.MonkeyPatch) -> Datasette:
    monkeypatch_module.setenv("HEEDLESS_VIEWER_URL", "http://viewer.test")
    metadata = datasette_one_metadata(fixture_release)
    return Datasette(
        immutables=[str(fixture_release / f"{DB}.db")],
        metadata=metadata,
        settings={"sql_time_limit_ms": 100},
    )


@pytest.fixture(scope="module")
def monkeypatch_module():  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module", autouse=True)
def loop():  # type: ignore[no-untyped-def]
    """Datasette's client runs on its own event loop in its own thread (the browser tests'
    synchronous Playwright keeps a loop in the main thread)."""
    global LOOP
    LOOP = asyncio.new_event_loop()
    thread = threading.Thread(target=LOOP.run_forever, daemon=True)
    thread.start()
    yield LOOP
    LOOP.call_soon_threadsafe(LOOP.stop)
    thread.join(timeout=5)


LOOP: asyncio.AbstractEventLoop


def get(ds: Datasette, path: str):  # type: ignore[no-untyped-def]
    return asyncio.run_coroutine_threadsafe(ds.client.get(path), LOOP).result(timeout=60)


def rows(ds: Datasette, query: str, params: str = "") -> list[dict]:
    response = get(ds, f"/{DB}/{query}.json?_shape=array{params}")
    assert response.status_code == 200, response.text
    return response.json()


def test_best_top1_above_throughput_defaults_to_v100_and_1000_images_per_s(ds: Datasette) -> None:
    got = [(r["backbone_id"], r["top1"], r["images_per_s"], r["gpu"], r["top1_source"]) for r in rows(ds, "best_top1_above_throughput")]
    assert got == [
        ("betaformer_b", 83.6, 1100.0, "v100", "beta2022former"),
        ("alphanet_s", 80.0, 1200.0, "v100", "alpha2021net"),
    ]


def test_best_top1_above_throughput_takes_gpu_precision_and_minimum(ds: Datasette) -> None:
    low = rows(ds, "best_top1_above_throughput", "&min_images_per_s=300")
    assert [(r["backbone_id"], r["top1"]) for r in low] == [("betaformer_b", 83.6), ("alphanet_l", 83.0), ("alphanet_s", 80.0)]
    fp32 = rows(ds, "best_top1_above_throughput", "&min_images_per_s=300&precision=fp32")
    assert [r["backbone_id"] for r in fp32] == ["alphanet_l", "alphanet_s"]
    a100 = rows(ds, "best_top1_above_throughput", "&gpu=a100&min_images_per_s=0")
    assert [(r["backbone_id"], r["top1"], r["eval_resolution_px"], r["precision"], r["batch_size"]) for r in a100] == [
        ("alphanet_l", 86.0, 384, "unknown", None)
    ]


def test_pareto_frontier_of_top1_against_gmacs(ds: Datasette) -> None:
    got = [(r["checkpoint_id"], r["gmacs"], r["top1"], r["source_id"]) for r in rows(ds, "pareto_top1_vs_gmacs")]
    assert got == [
        ("alphanet_s.in1k", 4.0, 80.0, "alpha2021net"),
        ("alphanet_l.in1k", 15.0, 83.0, "alpha2021net"),
        ("betaformer_b.mae_in1k", 17.6, 83.6, "beta2022former"),
        ("alphanet_l.in22k", 45.0, 86.0, "alpha2021net"),
    ]


def test_family_best_per_task_and_dataset(ds: Datasette) -> None:
    got = [(r["family"], r["task"], r["dataset"], r["metric"], r["value"]) for r in rows(ds, "family_best_per_task")]
    assert got == [
        ("AlphaNet", "classification", "imagenet_1k", "top1", 86.0),
        ("AlphaNet", "classification", "imagenet_a", "top1", 20.5),
        ("AlphaNet", "detection", "coco", "box_ap", 54.0),
        ("AlphaNet", "instance_segmentation", "coco", "mask_ap", 47.0),
        ("AlphaNet", "semantic_segmentation", "ade20k", "miou_ms", 46.0),
        ("BetaFormer", "classification", "imagenet_1k", "top1", 83.6),
        ("BetaFormer", "detection", "coco", "box_ap", 50.3),
        ("BetaFormer", "instance_segmentation", "coco", "mask_ap", 44.9),
        ("BetaFormer", "semantic_segmentation", "ade20k", "miou_ss", 48.1),
    ]


def test_checkpoint_across_tasks_with_default_and_chosen_head(ds: Datasette) -> None:
    default = [(r["checkpoint_id"], r["imagenet_1k_top1"], r["coco_box_ap"], r["ade20k_miou"]) for r in rows(ds, "checkpoint_across_tasks")]
    assert default == [
        ("alphanet_l.in1k", 83.0, None, None),
        ("alphanet_l.in22k", 86.0, None, None),
        ("alphanet_s.in1k", 80.0, 46.0, 46.0),
        ("betaformer_b.mae_in1k", 83.6, 50.3, 48.1),
    ]
    cascade = rows(ds, "checkpoint_across_tasks", "&head=cascade_mask_rcnn&epochs=36")
    assert [(r["checkpoint_id"], r["coco_box_ap"]) for r in cascade] == [
        ("alphanet_l.in1k", None),
        ("alphanet_l.in22k", 54.0),
        ("alphanet_s.in1k", None),
        ("betaformer_b.mae_in1k", None),
    ]


def test_best_top1_under_gmacs_with_imagenet_1k_data_only(ds: Datasette) -> None:
    got = [(r["checkpoint_id"], r["top1"], r["gmacs"], r["training_data_seen"]) for r in rows(ds, "best_top1_under_gmacs_no_extra_data", "&max_gmacs=20")]
    # alphanet_l.in22k (86.0) saw ImageNet-22k and costs 45 GMACs; betaformer's MAE pretraining saw only ImageNet-1k
    assert got == [
        ("betaformer_b.mae_in1k", 83.6, 17.6, "imagenet_1k"),
        ("alphanet_l.in1k", 83.0, 15.0, "imagenet_1k"),
        ("alphanet_l.in1k", 82.0, 20.0, "imagenet_1k"),
        ("alphanet_s.in1k", 80.0, 4.0, "imagenet_1k"),
    ]


def test_throughput_with_unstated_context(ds: Datasette) -> None:
    got = [(r["backbone"], r["gpu_id"], r["precision_id"], r["batch_size"], r["images_per_s"]) for r in rows(ds, "throughput_with_unstated_context")]
    assert got == [("AlphaNet-L", "a100", "unknown", None, 300.0)]


def test_numbers_per_source(ds: Datasette) -> None:
    got = [(r["source_id"], r["numbers"]) for r in rows(ds, "numbers_per_source")]
    # beta2022former also cites AlphaNet-S's merged result (top-1, top-5 and GMACs) as a second document
    assert got == [("alpha2021net", 24), ("beta2022former", 12)]


def test_search_backbones_by_name(ds: Datasette) -> None:
    assert [r["name"] for r in rows(ds, "search_backbones", "&q=alpha")] == ["AlphaNet-L", "AlphaNet-S"]
    assert [r["backbone_id"] for r in rows(ds, "search_backbones", "&q=former")] == ["betaformer_b"]


def test_search_finds_names_by_word_prefix_with_full_text_search(ds: Datasette) -> None:
    assert [(r["kind"], r["id"]) for r in rows(ds, "search", "&q=betaf")] == [
        ("family", "betaformer"), ("backbone", "betaformer_b"), ("checkpoint", "betaformer_b.mae_in1k"),
        ("source", "beta2022former"),
    ]
    # text with FTS operators is one quoted phrase, never a syntax error
    assert [r["id"] for r in rows(ds, "search", "&q=AlphaNet-S")] == ["alphanet_s", "alphanet_s.in1k"]
    page = get(ds, f"/{DB}/search_index.json?_search=mask&_shape=array").json()
    assert sorted(r["id"] for r in page) == ["cascade_mask_rcnn", "mask_rcnn", "vitdet_cascade_mask_rcnn", "vitdet_mask_rcnn"]


def test_release_configuration_is_in_the_datasette_1_layout(fixture_release: Path) -> None:
    import yaml

    config = yaml.safe_load((fixture_release / "datasette.yaml").read_text())
    metadata = json.loads((fixture_release / "datasette-metadata.json").read_text())
    assert sorted(config) == ["databases", "plugins", "settings"]
    assert config["settings"] == {"sql_time_limit_ms": 1000, "max_returned_rows": 5000, "allow_download": True,
                                  "default_cache_ttl": 86400, "max_csv_mb": 20}
    assert sorted(config["databases"][DB]) == ["queries", "tables"]
    assert config["databases"][DB]["tables"]["backbones"] == {"label_column": "name", "facets": ["family_id"]}
    # metadata says what the data is and nothing about serving it
    assert sorted(metadata) == ["databases", "description", "license", "license_url", "source", "source_url", "title"]
    assert all(sorted(t) == ["columns", "description"] for t in metadata["databases"][DB]["tables"].values())


def test_tables_and_columns_carry_descriptions_and_units(ds: Datasette) -> None:
    meta = ds.table_metadata(DB, "throughput")
    assert meta["description"] == "Throughput measurements with their context (GPU, precision, batch size)."
    assert meta["columns"]["images_per_s"] == "Throughput, images per second."
    assert ds.table_metadata(DB, "classification_results")["columns"]["gmacs"].startswith("Compute per image in GMACs")
    assert ds.metadata("license") == "CC-BY-4.0"


def test_table_pages_show_the_configured_facets_and_labels(ds: Datasette) -> None:
    data = get(ds, f"/{DB}/throughput.json?_labels=on").json()
    assert sorted(data["facet_results"]) == ["batch_size", "compile_mode", "gpu_id", "memory_layout", "precision_id", "task_id"]
    assert {f["value"]: f["count"] for f in data["facet_results"]["gpu_id"]["results"]} == {"v100": 3, "a100": 1}
    row = next(r for r in data["rows"] if r["throughput_id"] == "alpha2021net/throughput/alphanet_l/classification/384/a100/unknown/bs?")
    assert row["backbone_id"] == {"value": "alphanet_l", "label": "AlphaNet-L"}


def test_per_task_views_are_readable_tables(ds: Datasette) -> None:
    got = get(ds, f"/{DB}/detection.json?_shape=array&_sort=result_id&_col=backbone&_col=head&_col=box_ap").json()
    assert [(r["backbone"], r["head"], r["box_ap"]) for r in got] == [
        ("AlphaNet-L", "Cascade Mask R-CNN", 54.0),
        ("AlphaNet-S", "Mask R-CNN", 46.0),
        ("BetaFormer-B", "Mask R-CNN", 50.3),
    ]


def test_row_pages_link_back_to_the_viewer(ds: Datasette) -> None:
    html = get(ds, f"/{DB}/backbones/alphanet_s").text
    assert '<a class="viewer-link" href="http://viewer.test/backbones/alphanet_s">(viewer)</a>' in html
    html = get(ds, f"/{DB}/sources/beta2022former").text
    assert '<a class="viewer-link" href="http://viewer.test/sources/beta2022former">(viewer)</a>' in html
    html = get(ds, f"/{DB}/families/alphanet").text
    assert '<a class="viewer-link" href="http://viewer.test/families/alphanet">(viewer)</a>' in html


def test_a_write_statement_is_refused(ds: Datasette) -> None:
    response = get(ds, f"/{DB}.json?sql=DELETE+FROM+sources")
    assert response.status_code == 400
    assert response.json()["error"] == "Statement must be a SELECT"
    assert rows(ds, "numbers_per_source")[0]["numbers"] == 24


def test_a_query_that_runs_too_long_is_refused(ds: Datasette) -> None:
    slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    response = get(ds, f"/{DB}.json?sql={urllib.request.quote(slow)}")
    assert response.status_code == 400
    assert "SQL query took too long" in response.json()["error"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_the_real_datasette_command_serves_pages_and_json_over_http(fixture_release: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(datasette_command(fixture_release, "127.0.0.1", port), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/{DB}", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        page = urllib.request.urlopen(f"{base}/{DB}/families", timeout=5).read().decode()
        assert "AlphaNet" in page and "BetaFormer" in page
        data = json.loads(urllib.request.urlopen(f"{base}/{DB}/search_backbones.json?_shape=array&q=beta", timeout=5).read())
        assert [r["backbone_id"] for r in data] == ["betaformer_b"]
        # read-only: a write is refused as an immutable database (the settings and databases pages are not served)
        sql = urllib.request.quote("select 1; drop table families")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{base}/{DB}.json?sql={sql}", timeout=5)
        assert info.value.code == 400
        command = datasette_command(fixture_release, "127.0.0.1", port)
        assert command[command.index("sql_time_limit_ms") + 1] == "1000"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
