"""No request gives a 500, and text from the data is always shown as text."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.release import cut_release
from viewer.app import create_app

from .conftest import FIXTURE_RAW

ROUTES = ["/", "/plot.json", "/plot.csv", "/families", "/families/alphanet", "/backbones", "/backbones/alphanet_s",
          "/heads", "/heads/mask_rcnn", "/datasets", "/datasets/coco", "/sources", "/sources/alpha2021net",
          "/releases", "/about"]
NAMES = ["x", "y", "x_task", "y_task", "x_dataset", "y_dataset", "x_metric", "y_metric", "x_head", "y_head", "x_res",
         "y_res", "x_schedule", "y_schedule", "x_gpu", "x_precision", "y_gpu", "y_precision", "family", "pretrain_dataset",
         "pretrain_method", "token_mixer", "head", "res", "hierarchical", "date_from", "date_to", "x_min", "x_max",
         "y_min", "y_max", "color", "marker", "x_scale", "y_scale", "pareto", "sort", "order", "bogus"]
VALUES = ["", "result", "params", "gmacs", "throughput", "date", "classification", "detection", "semantic_segmentation",
          "imagenet_1k", "coco", "ade20k", "top1", "box_ap", "miou_ms", "mask_rcnn", "upernet", "224", "384", "36",
          "160000", "v100", "fp32", "unknown", "alphanet", "betaformer", "imagenet_22k", "mae", "attention", "yes", "no",
          "2021-01-01", "2022-13-45", "1e308", "-1", "nan", "inf", "log", "linear", "1", "y", "asc", "desc", "family",
          "head", "none", "<script>", "' OR 1=1 --", "%00", "\u00e9\u4e2d", "9" * 40]

query_strings = st.lists(st.tuples(st.sampled_from(NAMES), st.one_of(st.sampled_from(VALUES), st.text(max_size=12))),
                         max_size=8).map(urlencode)


@pytest.fixture(scope="module")
def app(fixture_release: Path) -> Flask:
    return create_app({"RELEASES_DIR": str(fixture_release.parent), "CACHE_SIZE": 0})


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), query=query_strings)
def test_no_generated_query_string_gives_a_500(app: Flask, route: str, query: str) -> None:
    response = app.test_client().get(f"{route}?{query}")
    assert response.status_code in (200, 400), (route, query, response.status_code)
    if response.status_code == 400:
        assert b"is not a valid value for the parameter" in response.data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="?#"), max_size=30))
def test_no_generated_path_gives_a_500(app: Flask, path: str) -> None:
    response = app.test_client().get("/families/" + path)
    assert response.status_code in (200, 301, 308, 404)


SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    raw = tmp_path_factory.mktemp("hostile") / "raw"
    shutil.copytree(FIXTURE_RAW, raw)
    family = raw / "families" / "alphanet.yaml"
    family.write_text(family.read_text().replace("  name: AlphaNet\n", f'  name: "{SCRIPT}"\n'))
    backbone_names = family.read_text().replace("    name: AlphaNet-S\n", f'    name: "{SCRIPT}-S"\n')
    family.write_text(backbone_names)
    releases = raw.parent / "releases"
    cut_release(raw, releases, "0.1.0")
    return create_app({"RELEASES_DIR": str(releases)})


@pytest.mark.parametrize("route", ROUTES + ["/?color=family&pareto=1", "/?x=result&x_task=detection"])
def test_a_family_named_like_a_script_is_shown_as_text_everywhere(hostile_app: Flask, route: str) -> None:
    response = hostile_app.test_client().get(route)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    if route == "/plot.csv":  # data for spreadsheets: kept verbatim, served as a download that is never rendered
        assert (response.mimetype, response.headers["X-Content-Type-Options"]) == ("text/csv", "nosniff")
        assert response.headers["Content-Disposition"].startswith("attachment;")
        return
    assert SCRIPT not in body
    if route in ("/families", "/families/alphanet", "/backbones", "/backbones/alphanet_s", "/"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_plot_data_carries_the_name_as_escaped_json_text(hostile_app: Flask) -> None:
    body = hostile_app.test_client().get("/").get_data(as_text=True)
    block = body.split('<script type="application/json" id="plot-item">', 1)[1].split("</script>", 1)[0]
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in block
    assert "<" not in block
