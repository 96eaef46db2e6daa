"""The explorer's state and page through Flask's test client: axes, defaults, notices, legend, links."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from viewer.app import create_app
from viewer.vendor import check as check_vendored

from .conftest import ROOT, plot


@pytest.fixture(scope="module")
def app(fixture_release: Path) -> Flask:
    return create_app({"RELEASES_DIR": str(fixture_release.parent), "DATASETTE_URL": "http://datasette.test", "TESTING": True})


def params(query: str) -> dict[str, str]:
    return dict(parse_qsl(query))


def test_x_result_starts_on_another_tasks_headline_metric(client: FlaskClient) -> None:
    data = plot(client, "x=result")
    assert (data["y_label"], data["x_label"]) == ("ImageNet-1k Top-1 accuracy", "COCO 2017 Box AP")
    assert plot(client, "y_task=detection&x=result")["x_label"] == "ImageNet-1k Top-1 accuracy"


@pytest.mark.parametrize(("query", "x_scale", "y_scale"), [
    ("", "log", "linear"), ("x=params", "log", "linear"), ("x=throughput", "log", "linear"), ("x=date", "linear", "linear"),
    ("x=result", "linear", "linear"), ("y=gmacs&x=result", "linear", "log"), ("x_scale=linear", "linear", "linear"),
])
def test_compute_params_and_throughput_axes_default_to_log(client: FlaskClient, query: str, x_scale: str, y_scale: str) -> None:
    state = params(plot(client, query)["query"])
    assert (state["x_scale"], state["y_scale"]) == (x_scale, y_scale)


def test_any_two_axes_plot_even_without_a_result(client: FlaskClient) -> None:
    data = plot(client, "y=throughput&x=params")
    assert (data["y_label"], data["x_label"]) == ("Throughput (images/s, NVIDIA V100, FP32)", "Parameters (M, backbone)")
    assert sorted((r["backbone"], r["x"], r["y"]) for r in data["rows"]) == [("AlphaNet-L", 90.0, 400.0), ("AlphaNet-S", 25.0, 1200.0)]
    html = client.get("/?y=params&x=gmacs")
    assert html.status_code == 200 and 'id="explorer-form"' in html.text and 'id="plot-item"' in html.text


def test_a_permalink_asking_for_a_missing_context_says_what_it_shows_instead(client: FlaskClient) -> None:
    data = plot(client, "x=throughput&x_gpu=a100&x_precision=fp32")
    assert data["x_label"] == "Throughput (images/s, NVIDIA A100, Not stated)"
    assert data["notices"] == ["This release has no precision FP32 for throughput on the NVIDIA A100 (x_precision=fp32); "
                               "the plot shows Not stated instead."]
    html = client.get("/?x=throughput&x_gpu=a100&x_precision=fp32").text
    assert '<div id="notices" class="notice warn" role="status"><p>This release has no precision FP32' in html
    assert plot(client, "x=throughput&x_gpu=v100&x_precision=fp32")["notices"] == []


def test_the_head_filter_applies_to_the_axis_that_has_heads(client: FlaskClient) -> None:
    both = plot(client, "x=result&x_task=detection&head=mask_rcnn")
    assert sorted((r["checkpoint"], r["x"]) for r in both["rows"]) == [("alphanet_s.in1k", 46.0), ("betaformer_b.mae_in1k", 50.3)]
    assert both["notices"] == []
    alone = plot(client, "head=mask_rcnn")
    assert alone["count"] == 5
    assert alone["notices"] == ["The head filter changes nothing here: no axis shows results with that head."]


def test_hidden_legend_groups_stay_in_the_permalink_and_the_plot(client: FlaskClient) -> None:
    data = plot(client, "hide=betaformer")
    assert params(data["query"])["hide"] == "betaformer"
    legend = {g["key"]: g["hidden"] for g in data["plot"]["legend"]["colors"]}
    assert legend == {"alphanet": False, "betaformer": True}
    booleans = re.search(r'"name": "BooleanFilter".*?"booleans": (\[[^\]]*\])', json.dumps(data["plot"]))
    assert booleans is not None and json.loads(booleans.group(1)) == [True, True, True, True, False]
    assert '<input type="hidden" name="hide" value="betaformer">' in data["main_html"]
    bad = client.get("/plot.json?hide=nonet")
    assert (bad.status_code, bad.get_json()["parameter"]) == (400, "hide")


def test_legend_swatches_name_the_markers_each_group_uses(client: FlaskClient) -> None:
    legend = plot(client)["plot"]["legend"]
    assert [(g["label"], g["count"], g["markers"]) for g in legend["colors"]] == [
        ("AlphaNet", 4, ["circle", "square"]), ("BetaFormer", 1, ["circle"])]
    assert [(m["label"], m["marker"]) for m in legend["markers"]] == [("ImageNet-1k", "circle"), ("ImageNet-22k", "square")]
    assert sorted(legend["svg"]) == ["circle", "square"]


def test_pareto_rows_are_tinted_only_with_the_frontier_on(client: FlaskClient) -> None:
    assert 'class="on-pareto"' not in client.get("/").text
    assert client.get("/?pareto=1").text.count('<tr class="on-pareto">') == 4


def test_the_page_title_follows_the_state(client: FlaskClient) -> None:
    assert plot(client, "x=params")["title"] == "ImageNet-1k Top-1 accuracy vs Parameters (M, backbone)"
    html = client.get("/?x=params").text
    assert "<title>ImageNet-1k Top-1 accuracy vs Parameters (M, backbone) · Heedless Backbones</title>" in html
    assert '<h1 id="plot-title">ImageNet-1k Top-1 accuracy vs Parameters (M, backbone)</h1>' in html


@pytest.mark.parametrize("path", ["/", "/families", "/backbones/alphanet_s", "/about", "/releases", "/no/such/page", "/?y=bogus"])
def test_the_footer_names_the_release_on_every_page(client: FlaskClient, path: str) -> None:
    assert "Data release 0.1.0 ·" in client.get(path).text


def test_open_in_datasette_carries_the_filters_for_a_large_selection(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import viewer.explorer

    monkeypatch.setattr(viewer.explorer, "DATASETTE_ID_LIMIT", 1)
    html = client.get("/?family=alphanet&pretrain_dataset=imagenet_1k&date_to=2023-01-01").text
    href = re.search(r'id="datasette-link" href="([^"]+)"', html)
    assert href is not None
    url = urlsplit(href.group(1).replace("&amp;", "&"))
    assert (url.netloc, url.path) == ("datasette.test", "/heedless-backbones/classification")
    assert parse_qsl(url.query) == [
        ("eval_dataset__exact", "ImageNet-1k"), ("top1__notblank", "1"), ("gmacs__notblank", "1"),
        ("adaptation__in", '["Full fine-tune"]'), ("split_kind__in", '["val"]'), ("family__in", '["AlphaNet"]'),
        ("pretrain_dataset__in", '["ImageNet-1k"]'), ("backbone_first_published__lte", "2023-01-01"),
    ]


def test_the_metric_follows_the_dataset_on_the_real_release() -> None:
    client = create_app({"RELEASES_DIR": str(ROOT / "releases"), "TESTING": True}).test_client()
    data = client.get("/plot.json?y_dataset=imagenet_c").get_json()
    assert data["y_label"] == "ImageNet-C Mean corruption error (mCE)" and data["count"] > 0
    assert data["notices"] == []
    assert '<option value="mce" selected>' in data["main_html"]
    asked = client.get("/plot.json?y_dataset=imagenet_c&y_metric=box_ap").get_json()
    assert asked["notices"] == ["This release has no metric Box AP for ImageNet-C (y_metric=box_ap); "
                                "the plot shows Mean corruption error (mCE) instead."]


def test_the_searchable_selects_are_served_by_the_app_from_the_pinned_package(client: FlaskClient) -> None:
    html = client.get("/").text
    # loaded by explorer.js once the plot is drawn, from the address the page gives it
    assert re.search(r'<div id="explorer" data-select-script="/static/vendor/tom-select/tom-select.complete.min.js\?v=[0-9a-f]{12}" '
                     r'data-select-style="/static/vendor/tom-select/tom-select.default.min.css\?v=[0-9a-f]{12}">', html)
    assert client.get("/static/vendor/tom-select/tom-select.complete.min.js").status_code == 200
    assert client.get("/static/vendor/tom-select/LICENSE").status_code == 200
    assert check_vendored() == []
    assert html.count("data-search") == 10


def test_the_region_a_form_change_redraws_is_the_page_without_the_row_list(client: FlaskClient) -> None:
    region = client.get("/plot-region.json?x=params").get_json()
    twin = plot(client, "x=params")
    assert sorted(region) == ["main_html", "query", "title"]
    assert (region["main_html"], region["query"], region["title"]) == (twin["main_html"], twin["query"], twin["title"])
    assert 'id="plot-item"' in region["main_html"]
    bad = client.get("/plot-region.json?x=bogus")
    assert (bad.status_code, bad.get_json()["parameter"]) == (400, "x")


def test_a_throughput_axis_says_which_layouts_compile_modes_and_frameworks_its_points_mix() -> None:
    client = create_app({"RELEASES_DIR": str(ROOT / "releases"), "TESTING": True}).test_client()
    query = "x=throughput&x_gpu=rtx_4090&x_precision=amp_fp16"
    data = client.get(f"/plot.json?{query}").get_json()
    contexts = {r["tp_context"] for r in data["rows"]}
    assert contexts == {"NCHW, compiled, PyTorch 2.4.0, CUDA 12.4", "NCHW, compiled, PyTorch 2.9.1, CUDA 12.8"}
    counts = {c: sum(r["tp_context"] == c for r in data["rows"]) for c in sorted(contexts)}
    shown = "; ".join(f"{c} ({n})" for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    assert ("Throughput measurement contexts: each point takes its backbone&#39;s fastest figure on this GPU and "
            f"precision, whatever its memory layout, compile mode and framework: {shown}") in data["main_html"]
    table = list(csv.reader(io.StringIO(client.get(f"/plot.csv?{query}").text)))
    column = table[0].index("throughput layout, compile mode and framework")
    assert {row[column] for row in table[1:]} == contexts
    one = client.get("/plot.json?x=throughput&x_gpu=v100&x_precision=amp_fp16").get_json()
    assert "throughput measurement contexts" not in one["main_html"]
