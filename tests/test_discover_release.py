"""Leaderboards, presets and explorer links on the latest committed release (the data users get).

Expected answers are computed here straight from the release's Parquet files with polars, not
through the viewer's code.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import polars as pl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from viewer.app import create_app
from viewer.releases import list_versions

ROOT = Path(__file__).resolve().parent.parent
RELEASES = ROOT / "releases"
LATEST = RELEASES / list_versions(RELEASES)[-1]
NON_STANDARD = ["multi_crop", "tta", "multi_scale", "multi_scale_flip", "flip"]


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app({"RELEASES_DIR": str(RELEASES), "TESTING": True, "CACHE_SIZE": 0})


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def table(name: str) -> pl.DataFrame:
    return pl.read_parquet(LATEST / f"{name}.parquet")


def like_with_like(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter((pl.col("adaptation_id") == "fine_tune") & (pl.col("split_kind") == "val")
                        & (~pl.col("test_time_id").is_in(NON_STANDARD) | pl.col("test_time_id").is_null()))


def test_the_top_of_the_imagenet_top1_leaderboard_is_the_best_fine_tuned_single_crop_val_results(client: FlaskClient) -> None:
    expected = (like_with_like(table("classification_results"))
                .filter((pl.col("eval_dataset_id") == "imagenet_1k") & pl.col("top1").is_not_null())
                .sort(["top1", "result_id"], descending=[True, False]).head(10))
    body = client.get("/leaderboards/imagenet_1k/top1.json").get_json()
    assert [(r["result_id"], r["value"]) for r in body["rows"][:10]] == list(expected.select("result_id", "top1").iter_rows())
    assert body["rows"][0]["value"] == expected["top1"].max()
    assert body["total"] == like_with_like(table("classification_results")).filter(
        (pl.col("eval_dataset_id") == "imagenet_1k") & pl.col("top1").is_not_null()).height


def test_the_v100_preset_answers_with_backbones_measured_above_1000_images_per_s(client: FlaskClient) -> None:
    body = client.get("/leaderboards/imagenet_1k/top1.json?gpu=v100&min_ips=1000").get_json()
    precision = body["throughput_context"]["precision"]
    tp = (table("throughput").filter((pl.col("gpu_id") == "v100") & (pl.col("precision_id") == precision)
                                     & (pl.col("task_id") == "classification"))
          .group_by("backbone_id", "resolution_px").agg(pl.col("images_per_s").max()))
    ck = table("checkpoints").select("checkpoint_id", "backbone_id")
    expected = (like_with_like(table("classification_results"))
                .filter((pl.col("eval_dataset_id") == "imagenet_1k") & pl.col("top1").is_not_null())
                .join(ck, on="checkpoint_id").join(tp, left_on=["backbone_id", "eval_resolution_px"],
                                                    right_on=["backbone_id", "resolution_px"])
                .filter(pl.col("images_per_s") >= 1000).sort(["top1", "result_id"], descending=[True, False]))
    assert body["total"] == expected.height > 0
    assert [(r["result_id"], r["images_per_s"]) for r in body["rows"]] == list(expected.select("result_id", "images_per_s").iter_rows())[:50]


def _nonempty(app: Flask, client: FlaskClient, url: str) -> int:
    parts = urlsplit(url)
    if parts.path == "/":  # the explorer's own parser and selection, without drawing the figure
        from werkzeug.datastructures import MultiDict

        from viewer.query import parse_spec
        from viewer.select import select_points

        with app.app_context():
            from viewer.app import get_release

            rel = get_release()
            return select_points(rel, parse_spec(MultiDict(parse_qsl(parts.query)), rel)).points.height
    if parts.path == "/compare":
        response = client.get(f"/compare.json?{parts.query}")
        assert response.status_code == 200, (url, response.text[:300])
        return sum(len(s["rows"]) for s in response.get_json()["results"])
    response = client.get(f"{parts.path}.json?{parts.query}")
    assert response.status_code == 200, (url, response.text[:300])
    return response.get_json()["total"]  # type: ignore[no-any-return]


def test_every_preset_opens_a_non_empty_plot_board_or_comparison(app: Flask, client: FlaskClient) -> None:
    from viewer.presets import PRESETS, preset_url

    with app.test_request_context():
        urls = [(p.preset_id, link.label, preset_url(link)) for p in PRESETS for link in p.links]
    empty = [(pid, label, url) for pid, label, url in urls if _nonempty(app, client, url) == 0]
    assert empty == []


def test_every_leaderboard_in_the_index_opens_with_rows(client: FlaskClient) -> None:
    html = client.get("/leaderboards").text
    boards = sorted({h.split('"')[0] for h in html.split('href="/leaderboards/')[1:]})
    assert len(boards) > 40
    empty = [b for b in boards if client.get(f"/leaderboards/{b}.json").get_json()["total"] == 0]
    assert empty == []
