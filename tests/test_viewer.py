"""The viewer through Flask's test client, on a release built from the fixtures."""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from viewer.app import create_app

from .conftest import plot

VIEWER = Path(__file__).resolve().parent.parent / "viewer"


@pytest.fixture(scope="module")
def app(fixture_release: Path) -> Flask:
    return create_app({"RELEASES_DIR": str(fixture_release.parent), "DATASETTE_URL": "http://datasette.test", "TESTING": True})


def test_default_view_plots_imagenet_top1_against_gmacs(client: FlaskClient) -> None:
    data = plot(client)
    assert (data["y_label"], data["x_label"], data["count"]) == ("ImageNet-1k Top-1 accuracy", "GMACs", 5)
    # AlphaNet-S's 80.0 is printed by both documents: one point citing both, not two
    assert sorted((r["checkpoint"], r["x"], r["y"], r["source"]) for r in data["rows"]) == [
        ("alphanet_l.in1k", 15.0, 83.0, "alpha2021net"),
        ("alphanet_l.in1k", 20.0, 82.0, "beta2022former"),
        ("alphanet_l.in22k", 45.0, 86.0, "alpha2021net"),
        ("alphanet_s.in1k", 4.0, 80.0, "alpha2021net"),
        ("betaformer_b.mae_in1k", 17.6, 83.6, "beta2022former"),
    ]
    assert data["query"] == "y=result&y_task=classification&y_dataset=imagenet_1k&y_metric=top1&x=gmacs&color=family&marker=pretrain_dataset&x_scale=log&y_scale=linear"


def test_the_page_embeds_the_plot_and_lists_exactly_the_plotted_points(client: FlaskClient) -> None:
    html = client.get("/").text
    assert '<script type="application/json" id="plot-item">' in html
    assert html.count("<tr>") + html.count('<tr class="on-pareto">') == 1 + 5  # header + points
    assert '<strong id="point-count">5</strong> points' in html


def test_a_result_on_each_axis_pairs_results_of_the_same_checkpoint(client: FlaskClient) -> None:
    data = plot(client, "x=result&x_task=detection&x_dataset=coco&x_metric=box_ap")
    assert sorted((r["checkpoint"], r["x"], r["y"]) for r in data["rows"]) == [
        ("alphanet_l.in22k", 54.0, 86.0),
        ("alphanet_s.in1k", 46.0, 80.0),
        ("betaformer_b.mae_in1k", 50.3, 83.6),
    ]
    assert data["pairing"].startswith("Paired by checkpoint: each point is one checkpoint's best ImageNet-1k Top-1 accuracy and its best COCO 2017 Box AP")


def test_throughput_axis_uses_only_the_chosen_gpu_and_precision(client: FlaskClient) -> None:
    fp32 = plot(client, "x=throughput&x_gpu=v100&x_precision=fp32")
    assert sorted((r["checkpoint"], r["x"], r["batch_size"]) for r in fp32["rows"]) == [
        ("alphanet_l.in1k", 400.0, 64),
        ("alphanet_l.in1k", 400.0, 64),
        ("alphanet_s.in1k", 1200.0, 64),
    ]
    amp = plot(client, "x=throughput&x_gpu=v100&x_precision=amp_fp16")
    assert [(r["checkpoint"], r["x"]) for r in amp["rows"]] == [("betaformer_b.mae_in1k", 1100.0)]
    assert amp["x_label"] == "Throughput (images/s, NVIDIA V100, AMP (autocast FP16))"


def test_filters_and_axis_limits_narrow_the_points(client: FlaskClient) -> None:
    assert plot(client, "family=betaformer")["count"] == 1
    assert plot(client, "pretrain_dataset=imagenet_22k")["count"] == 1
    assert plot(client, "pretrain_method=mae&pretrain_method=supervised")["count"] == 5
    assert plot(client, "hierarchical=no")["count"] == 1
    assert plot(client, "y_min=83&x_max=20")["count"] == 2
    assert plot(client, "res=384")["count"] == 1
    # dates are the backbone's first public document: AlphaNet (2021) is out, even in the 2022 source
    assert plot(client, "date_from=2022-01-01")["count"] == 1


def test_pareto_frontier_marks_the_points_no_other_beats(client: FlaskClient) -> None:
    rows = plot(client, "pareto=1")["rows"]
    assert sorted((r["checkpoint"], r["source"]) for r in rows if r["pareto"]) == [
        ("alphanet_l.in1k", "alpha2021net"),
        ("alphanet_l.in22k", "alpha2021net"),
        ("alphanet_s.in1k", "alpha2021net"),
        ("betaformer_b.mae_in1k", "beta2022former"),
    ]


def test_the_table_sorts_by_a_known_column(client: FlaskClient) -> None:
    rows = plot(client, "sort=y&order=asc")["rows"]
    assert [r["y"] for r in rows] == [80.0, 82.0, 83.0, 83.6, 86.0]


def test_csv_download_has_exactly_the_table_rows(client: FlaskClient) -> None:
    response = client.get("/plot.csv?sort=y&order=desc")
    assert response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["family", "backbone", "checkpoint", "pretraining", "chain", "head", "resolution", "schedule",
                        "protocol", "ImageNet-1k Top-1 accuracy", "GMACs", "source", "where", "citations",
                        "backbone first public", "result_id", "x source", "x where", "x head", "x schedule",
                        "x protocol", "x result_id", "throughput batch size",
                        "throughput layout, compile mode and framework"]
    assert [(r[2], r[8], r[9], r[10], r[13]) for r in table[1:]] == [
        ("alphanet_l.in22k", "Full fine-tune, Single crop, val", "86", "45", "alpha2021net (Table 1)"),
        ("betaformer_b.mae_in1k", "Full fine-tune, Single crop, val", "83.6", "17.6", "beta2022former (Table 2)"),
        ("alphanet_l.in1k", "Full fine-tune, Single crop, val", "83", "15", "alpha2021net (Table 1)"),
        ("alphanet_l.in1k", "Full fine-tune, Single crop, val", "82", "20", "beta2022former (Table 2)"),
        ("alphanet_s.in1k", "Full fine-tune, Single crop, val", "80", "4", "alpha2021net (Table 1); beta2022former (Table 2)"),
    ]


def test_an_empty_selection_explains_itself(client: FlaskClient) -> None:
    html = client.get("/?family=betaformer&pretrain_dataset=imagenet_22k").text
    assert "No points match this selection" in html
    assert 'id="plot-item"' not in html


def test_the_datasette_link_selects_the_same_results(client: FlaskClient) -> None:
    html = client.get("/?family=betaformer").text
    assert ('href="http://datasette.test/heedless-backbones?sql=select+%2A+from+classification+where+result_id+in+'
            "%28%27beta2022former%2Fclassification%2Fbetaformer_b.mae_in1k%2Fimagenet_1k%3A100ep%3A224px%2Fimagenet_1k%40224%27%29"
            '+order+by+result_id"') in html


@pytest.mark.parametrize(
    ("query", "param", "choices"),
    [
        ("y=bogus", "y", "result, params, gmacs, throughput, latency, date"),
        ("color=colour", "color", "family, pretrain_dataset, pretrain_method, head, resolution, schedule, token_mixer, none"),
        ("family=nonet", "family", "alphanet, betaformer"),
        ("x_min=abc", "x_min", "a number"),
        ("date_from=2021-13-01", "date_from", "a date written YYYY-MM-DD"),
        ("x=throughput&x_gpu=tpu_v9", "x_gpu", "a100, v100"),
        ("y_dataset=mnist", "y_dataset", "imagenet_1k, imagenet_a"),
    ],
)
def test_a_bad_query_value_is_a_400_naming_the_parameter_and_choices(client: FlaskClient, query: str, param: str, choices: str) -> None:
    response = client.get(f"/plot.json?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert (body["parameter"], body["choices"]) == (param, choices)
    html = client.get(f"/?{query}")
    assert html.status_code == 400
    assert f"<code>{param}</code>" in html.text


def test_an_unknown_parameter_is_a_400(client: FlaskClient) -> None:
    response = client.get("/plot.json?colour=family")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "colour"


def test_neither_axis_a_result_plots_one_point_per_backbone_and_resolution(client: FlaskClient) -> None:
    data = plot(client, "y=params&x=gmacs")
    assert (data["y_label"], data["x_label"]) == ("Parameters (M, backbone)", "GMACs")
    # AlphaNet-L's two GMACs figures at 224px stay two points; its two checkpoints at 15 GMACs are one
    assert sorted((r["backbone"], r["x"], r["y"]) for r in data["rows"]) == [
        ("AlphaNet-L", 15.0, 90.0), ("AlphaNet-L", 20.0, 90.0), ("AlphaNet-L", 45.0, 90.0),
        ("AlphaNet-S", 4.0, 25.0), ("BetaFormer-B", 17.6, 86.0)]
    assert data["pairing"].startswith("Neither axis is a result: each point is one backbone at one evaluation resolution")


@pytest.mark.parametrize("path", ["/families/nope", "/backbones/nope", "/heads/nope", "/datasets/nope", "/sources/nope",
                                  "/releases/v9.9.9/SHA256SUMS", "/releases/v0.1.0/nope.txt", "/no/such/page"])
def test_unknown_ids_are_404_pages(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "404" in response.text


@pytest.mark.parametrize("path", ["/families", "/backbones", "/heads", "/datasets", "/sources"])
def test_list_pages_sort_only_by_known_columns(client: FlaskClient, path: str) -> None:
    assert client.get(f"{path}?sort=name&order=desc" if path != "/sources" else f"{path}?sort=title").status_code == 200
    bad = client.get(f"{path}?sort=secret")
    assert bad.status_code == 400
    assert "<code>sort</code>" in bad.text


@pytest.mark.parametrize(("path", "table"), [("/families", "families"), ("/backbones", "backbones"), ("/heads", "heads"),
                                           ("/datasets", "datasets"), ("/sources", "sources")])
def test_list_pages_link_to_their_datasette_table(client: FlaskClient, path: str, table: str) -> None:
    assert f'href="http://datasette.test/heedless-backbones/{table}">Browse this table in Datasette' in client.get(path).text


def test_backbones_list_sorts_by_params(client: FlaskClient) -> None:
    html = client.get("/backbones?sort=params_m&order=desc").text
    assert html.index("AlphaNet-L") < html.index("BetaFormer-B") < html.index("AlphaNet-S")


def test_entity_pages_link_to_their_neighbours(client: FlaskClient) -> None:
    backbone = client.get("/backbones/alphanet_s").text
    for href in ('href="/families/alphanet"', 'href="/sources/alpha2021net"', 'href="/heads/mask_rcnn"',
                 'href="/datasets/imagenet_1k"', 'href="http://datasette.test/heedless-backbones/backbones/alphanet_s"'):
        assert href in backbone
    source = client.get("/sources/beta2022former").text
    assert "Table 5" in source and 'href="/backbones/betaformer_b"' in source
    family = client.get("/families/alphanet").text
    assert 'href="/backbones/alphanet_l"' in family and 'id="plot-item"' in family
    head = client.get("/heads/upernet").text
    assert 'href="/?y=result&amp;y_task=semantic_segmentation' in head


def test_releases_page_lists_versions_changelog_and_downloads(client: FlaskClient) -> None:
    html = client.get("/releases").text
    assert 'href="/releases/v0.1.0/heedless-backbones.db"' in html
    assert 'href="/releases/v0.1.0/SHA256SUMS"' in html
    assert '<section class="release" id="v0.1.0">' in html
    assert html.count("First release: 2 families, 3 backbones, 4 checkpoints, 12 results") == 1
    assert 'href="/releases/CHANGELOG.md"' in html
    download = client.get("/releases/v0.1.0/SHA256SUMS")
    assert download.status_code == 200 and "classification_results.parquet" in download.text


def test_about_page_explains_gmacs_throughput_and_citing(client: FlaskClient) -> None:
    html = client.get("/about").text
    for heading in ('GMACs versus "FLOPs"', "What a throughput figure means", "How to cite a release"):
        assert heading in html


def test_security_headers_are_set(client: FlaskClient) -> None:
    response = client.get("/families")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_responses_carry_an_etag_and_answer_304_and_repeat_from_cache(client: FlaskClient) -> None:
    first = client.get("/?family=alphanet")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=86400"
    again = client.get("/?family=alphanet", headers={"If-None-Match": etag})
    assert again.status_code == 304
    cached = client.get("/?family=alphanet")
    assert (cached.headers["X-Cache"], cached.data) == ("hit", first.data)


def test_bokehjs_is_served_from_the_installed_package_with_a_versioned_url(client: FlaskClient) -> None:
    import bokeh

    html = client.get("/").text
    url = f"/bokeh/{bokeh.__version__}/bokeh.min.js"
    # on the explorer, right after the plot's data and before the controls and the table, so it runs while they
    # are parsed
    assert f'<script src="{url}"></script>' in html
    assert html.index('id="plot-item"') < html.index(url) < html.index('id="explorer-form"') < html.index('id="points"')
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000"
    assert "cdn" not in html.lower()


def test_the_app_never_runs_in_debug_mode_by_default(app: Flask) -> None:
    assert (app.debug, app.config["DEBUG"]) == (False, False)


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        names += [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
    return names


def test_viewer_never_imports_the_pipeline_beyond_its_standard_library_integrity_check() -> None:
    offenders = [f"{path.name}: {n}" for path in VIEWER.rglob("*.py") for n in _imports(path)
                 if n.split(".")[0] == "pipeline" and n != "pipeline.integrity"]
    assert offenders == []
    integrity = VIEWER.parent / "pipeline" / "integrity.py"
    assert sorted({n.split(".")[0] for n in _imports(integrity)} - set(sys.stdlib_module_names)) == []


def test_plot_json_is_a_complete_twin_of_the_page(client: FlaskClient) -> None:
    data = plot(client)
    assert sorted(data) == ["count", "main_html", "notices", "pairing", "plot", "query", "rows", "title", "total", "x_label", "y_label"]
    assert data["plot"]["target_id"] == "plot"
    assert json.loads(json.dumps(data["plot"]))["doc"]["roots"]


def test_the_table_pages_through_every_plotted_point(app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import viewer.explorer
    from viewer.app import ResponseCache

    monkeypatch.setattr(viewer.explorer, "TABLE_PAGE", 4)
    monkeypatch.setitem(app.extensions, "heedless_cache", ResponseCache(0))  # pages cached with 100 rows a page
    first = client.get("/plot.json?sort=y&order=asc&page=1").get_json()
    assert first["main_html"].count("<tr>") + first["main_html"].count('<tr class="on-pareto">') == 1 + 4
    assert "Rows 1-4 of 5" in first["main_html"] and 'rel="next" href="?' in first["main_html"]
    second = client.get("/plot.json?sort=y&order=asc&page=2").get_json()
    assert "Rows 5-5 of 5" in second["main_html"] and "page 2 of 2" in second["main_html"]
    assert len(second["rows"]) == 5  # the JSON twin, like the CSV, has every row
    bad = client.get("/plot.json?page=3").get_json()
    assert (bad["parameter"], bad["choices"]) == ("page", "a page number from 1 to 2")
    # the page builds only its own rows; they are the twin's rows of that page, sorted or not
    for query in ("", "sort=y&order=asc&", "sort=family&order=desc&"):
        every = [r["checkpoint"] for r in client.get(f"/plot.json?{query}page=1").get_json()["rows"]]
        for page in (1, 2):
            html = client.get(f"/?{query}page={page}").text
            shown = re.findall(r'<td class="id">([^<]+)</td>', html)
            assert shown == every[(page - 1) * 4:page * 4]


def test_a_new_release_is_served_at_once_not_from_the_cache(tmp_path: Path, fixture_raw: Path) -> None:
    from pipeline.release import cut_release

    releases = tmp_path / "releases"
    cut_release(fixture_raw, releases, "0.1.0")
    app = create_app({"RELEASES_DIR": str(releases)})
    client = app.test_client()
    first = client.get("/families")
    assert "Data release 0.1.0" in first.text
    path = fixture_raw / "families" / "betaformer.yaml"
    path.write_text(path.read_text().replace("  name: BetaFormer\n", "  name: BetaFormer Renamed\n"))
    cut_release(fixture_raw, releases, "0.1.1")
    second = client.get("/families", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert "BetaFormer Renamed" in second.text and "Data release 0.1.1" in second.text
