"""No query string or path gives the search, leaderboard, compare, preset or glossary pages a 500."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viewer.app import create_app

ROUTES = ["/search", "/search.json", "/leaderboards", "/leaderboards/imagenet_1k/top1", "/leaderboards/coco/box_ap.json",
          "/leaderboards/ade20k/miou_ss", "/compare", "/compare.json", "/presets", "/glossary", "/datasets/imagenet_1k",
          "/?y=result", "/plot.json"]
NAMES = ["q", "kind", "limit", "m", "add", "adaptation", "test_time", "split", "extra", "head", "schedule", "res", "family",
         "gpu", "precision", "min_ips", "max_gmacs", "max_params", "best", "page", "highlight", "bogus"]
VALUES = ["", "alpha", "alphanet_s", "alphanet_s.in1k", "betaformer_b", "alphanet_s,betaformer_b", "backbone", "checkpoint",
          "any", "standard", "fine_tune", "linear_probe", "single_crop", "val", "test_dev", "yes", "no", "mask_rcnn",
          "upernet", "36", "160000", "224", "v100", "fp32", "amp_fp16", "1000", "-1", "nan", "inf", "1e308", "0", "2",
          "result", "alphanet", "<script>", "' OR 1=1 --", "%00", "\u00e9\u4e2d", "9" * 40]

query_strings = st.lists(st.tuples(st.sampled_from(NAMES), st.one_of(st.sampled_from(VALUES), st.text(max_size=12))),
                         max_size=6).map(urlencode)


@pytest.fixture(scope="module")
def app(fixture_release: Path) -> Flask:
    return create_app({"RELEASES_DIR": str(fixture_release.parent), "CACHE_SIZE": 0})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), query=query_strings)
def test_no_generated_query_string_gives_a_500(app: Flask, route: str, query: str) -> None:
    separator = "&" if "?" in route else "?"
    response = app.test_client().get(f"{route}{separator}{query}")
    assert response.status_code in (200, 302, 400), (route, query, response.status_code)
    if response.status_code == 400:
        assert b"is not a valid value for the parameter" in response.data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dataset=st.one_of(st.sampled_from(["imagenet_1k", "coco", "ade20k", "mnist"]), st.text(max_size=12)),
       metric=st.one_of(st.sampled_from(["top1", "box_ap", "mask_ap", "miou_ms", "mce", "top1.json"]), st.text(max_size=12)))
def test_no_generated_leaderboard_path_gives_a_500(app: Flask, dataset: str, metric: str) -> None:
    response = app.test_client().get(f"/leaderboards/{quote(dataset, safe='')}/{quote(metric, safe='')}")
    assert response.status_code in (200, 308, 404), (dataset, metric, response.status_code)
