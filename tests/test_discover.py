"""Search, leaderboards, compare, presets, glossary and explorer highlighting, on the fixture release."""

from __future__ import annotations

import html

import pytest
from flask import Flask
from flask.testing import FlaskClient


def get_json(client: FlaskClient, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.get_json()  # type: ignore[no-any-return]


# ------------------------------------------------------------------ search

def test_search_finds_a_backbone_by_a_partial_name_ignoring_case_and_punctuation(client: FlaskClient) -> None:
    for query in ("alphanet s", "ALPHANET-S", "alphanet_s", "AlphaNet-S"):
        body = get_json(client, f"/search.json?q={query}")
        assert body["results"][0]["id"] == "alphanet_s", query
        assert body["results"][0]["url"] == "/backbones/alphanet_s"
    partial = get_json(client, "/search.json?q=alph")
    assert [(r["kind"], r["id"]) for r in partial["results"]] == [
        ("backbone", "alphanet_l"), ("backbone", "alphanet_s"), ("family", "alphanet"),
        ("checkpoint", "alphanet_l.in1k"), ("checkpoint", "alphanet_s.in1k"), ("checkpoint", "alphanet_l.in22k"),
        ("source", "alpha2021net"),
    ]
    assert partial["counts"] == {"backbone": 2, "family": 1, "checkpoint": 3, "dataset": 0, "head": 0, "source": 1}


def test_search_json_is_a_whole_document_with_links_to_every_kind_of_page(client: FlaskClient) -> None:
    assert get_json(client, "/search.json?q=upernet") == {
        "query": "upernet", "kind": None, "total": 1,
        "counts": {"backbone": 0, "family": 0, "checkpoint": 0, "dataset": 0, "head": 1, "source": 0},
        "results": [{"kind": "head", "id": "upernet", "name": "UperNet", "detail": "head for semantic segmentation",
                     "url": "/heads/upernet", "match": 0}],
    }
    checkpoint = get_json(client, "/search.json?q=betaformer_b.mae")["results"][0]
    assert (checkpoint["kind"], checkpoint["url"]) == ("checkpoint", "/backbones/betaformer_b#checkpoint-betaformer_b.mae_in1k")


def test_search_can_be_limited_to_one_kind(client: FlaskClient) -> None:
    body = get_json(client, "/search.json?q=alpha&kind=checkpoint")
    assert [r["id"] for r in body["results"]] == ["alphanet_l.in1k", "alphanet_s.in1k", "alphanet_l.in22k"]


def test_the_search_page_groups_hits_and_lets_backbones_be_ticked_for_comparison(client: FlaskClient) -> None:
    html = client.get("/search?q=beta").text
    assert '<a class="hit" href="/backbones/betaformer_b">BetaFormer-B</a>' in html
    assert '<input type="checkbox" name="m" value="betaformer_b" form="compare-picks"' in html
    assert '<section class="search-group" id="kind-family">' in html
    assert "<title>Search: beta · Heedless Backbones</title>" in html


def test_an_empty_search_is_a_page_not_an_error(client: FlaskClient) -> None:
    response = client.get("/search")
    assert response.status_code == 200
    assert get_json(client, "/search.json?q=")["results"] == []


@pytest.mark.parametrize(("query", "param", "choices"), [
    ("q=alpha&kind=model", "kind", "backbone, family, checkpoint, dataset, head, source"),
    ("q=alpha&limit=0", "limit", "a whole number from 1 to 200"),
    ("q=" + "x" * 101, "q", "at most 100 characters"),
    ("query=alpha", "query", "known parameters: q, kind, limit"),
])
def test_bad_search_parameters_are_400s_that_say_why(client: FlaskClient, query: str, param: str, choices: str) -> None:
    response = client.get(f"/search.json?{query}")
    assert response.status_code == 400
    assert (response.get_json()["parameter"], response.get_json()["choices"]) == (param, choices)
    assert client.get(f"/search?{query}").status_code == 400


def test_every_page_has_the_search_box_and_the_new_sections_in_its_header(client: FlaskClient) -> None:
    for path in ("/", "/families", "/backbones/alphanet_s", "/glossary"):
        html = client.get(path).text
        assert 'id="site-search-input" name="q"' in html, path
        for href in ('href="/leaderboards"', 'href="/compare"', 'href="/presets"', 'href="/glossary"'):
            assert href in html, (path, href)


# ------------------------------------------------------------------ leaderboards

def ranked(body: dict) -> list[tuple]:
    return [(r["rank"], r["checkpoint_id"], r["value"], r["source_id"]) for r in body["rows"]]


def test_a_leaderboard_ranks_like_with_like_by_default(client: FlaskClient) -> None:
    body = get_json(client, "/leaderboards/imagenet_1k/top1.json")
    assert body["protocol"] == {"adaptation": "fine_tune", "test_time": "standard", "split": "val", "extra": "either"}
    # the linear probe (70.5) stays out; the two documents that disagree on AlphaNet-L keep both rows
    assert ranked(body) == [
        (1, "alphanet_l.in22k", 86.0, "alpha2021net"),
        (2, "betaformer_b.mae_in1k", 83.6, "beta2022former"),
        (3, "alphanet_l.in1k", 83.0, "alpha2021net"),
        (4, "alphanet_l.in1k", 82.0, "beta2022former"),
        (5, "alphanet_s.in1k", 80.0, "alpha2021net"),
    ]
    assert [(r["conflict"], r["extra"]) for r in body["rows"]] == [
        (False, "yes: ImageNet-22k"), (False, "no"), (True, "no"), (True, "no"), (False, "no")]
    # AlphaNet-S's 80.0 is printed by both documents: one row citing two
    assert body["rows"][4]["citations"] == 2


def test_the_leaderboard_shows_throughput_from_one_gpu_and_precision_and_filters_by_it(client: FlaskClient) -> None:
    body = get_json(client, "/leaderboards/imagenet_1k/top1.json")
    assert body["throughput_context"] == {"gpu": "v100", "precision": "fp32"}
    assert [(r["checkpoint_id"], r["images_per_s"], r["tp_batch_size"]) for r in body["rows"]] == [
        ("alphanet_l.in22k", None, None), ("betaformer_b.mae_in1k", None, None), ("alphanet_l.in1k", 400.0, 64),
        ("alphanet_l.in1k", 400.0, 64), ("alphanet_s.in1k", 1200.0, 64)]
    fast = get_json(client, "/leaderboards/imagenet_1k/top1.json?min_ips=1000")
    assert ranked(fast) == [(1, "alphanet_s.in1k", 80.0, "alpha2021net")]
    amp = get_json(client, "/leaderboards/imagenet_1k/top1.json?gpu=v100&precision=amp_fp16&min_ips=1000")
    assert ranked(amp) == [(1, "betaformer_b.mae_in1k", 83.6, "beta2022former")]


def test_leaderboard_filters_narrow_and_rank_again(client: FlaskClient) -> None:
    assert ranked(get_json(client, "/leaderboards/imagenet_1k/top1.json?adaptation=linear_probe")) == [
        (1, "alphanet_s.in1k", 70.5, "alpha2021net")]
    assert ranked(get_json(client, "/leaderboards/imagenet_1k/top1.json?extra=no&max_gmacs=16")) == [
        (1, "alphanet_l.in1k", 83.0, "alpha2021net"), (2, "alphanet_s.in1k", 80.0, "alpha2021net")]
    assert ranked(get_json(client, "/leaderboards/imagenet_1k/top1.json?best=backbone")) == [
        (1, "alphanet_l.in22k", 86.0, "alpha2021net"), (2, "betaformer_b.mae_in1k", 83.6, "beta2022former"),
        (3, "alphanet_s.in1k", 80.0, "alpha2021net")]
    assert ranked(get_json(client, "/leaderboards/imagenet_1k/top1.json?family=betaformer")) == [
        (1, "betaformer_b.mae_in1k", 83.6, "beta2022former")]
    coco = get_json(client, "/leaderboards/coco/box_ap.json?head=mask_rcnn&schedule=36")
    assert ranked(coco) == [(1, "betaformer_b.mae_in1k", 50.3, "beta2022former"), (2, "alphanet_s.in1k", 46.0, "alpha2021net")]


def test_a_leaderboard_mixing_protocols_says_so_and_offers_each_alone(client: FlaskClient) -> None:
    html = client.get("/leaderboards/imagenet_1k/top1?adaptation=any").text
    assert "This board mixes evaluation protocols" in html
    assert 'href="?adaptation=linear_probe&amp;test_time=standard&amp;split=val&amp;gpu=v100&amp;precision=fp32">only Linear probe (1)</a>' in html
    assert "This board mixes" not in client.get("/leaderboards/imagenet_1k/top1").text


def test_a_leaderboard_page_links_its_rows_and_states_its_protocol(client: FlaskClient) -> None:
    html = client.get("/leaderboards/imagenet_1k/top1").text
    assert "<title>ImageNet-1k Top-1 accuracy leaderboard · Heedless Backbones</title>" in html
    assert '<a href="/backbones/alphanet_l#checkpoint-alphanet_l.in22k">alphanet_l.in22k</a>' in html
    assert "Full fine-tune, standard test-time procedure, val split." in " ".join(html.split())
    assert 'id="explorer-link" href="/?y=result' in html and "highlight=alphanet_l.in22k" in html


def test_the_leaderboards_index_lists_every_dataset_and_metric_with_results(client: FlaskClient) -> None:
    html = client.get("/leaderboards").text
    for board in ("/leaderboards/imagenet_1k/top1", "/leaderboards/imagenet_a/top1", "/leaderboards/coco/box_ap",
                  "/leaderboards/coco/mask_ap", "/leaderboards/ade20k/miou_ss", "/leaderboards/ade20k/miou_ms"):
        assert f'href="{board}"' in html, board


def test_leaderboard_pages_through_its_rows(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import viewer.ranking

    monkeypatch.setattr(viewer.ranking, "PAGE_SIZE", 2)
    second = get_json(client, "/leaderboards/imagenet_1k/top1.json?page=2")
    assert (second["page"], second["pages"], [r["rank"] for r in second["rows"]]) == (2, 3, [3, 4])
    bad = client.get("/leaderboards/imagenet_1k/top1.json?page=4")
    assert (bad.status_code, bad.get_json()["choices"]) == (400, "a page number from 1 to 3")


@pytest.mark.parametrize(("path", "message"), [
    ("/leaderboards/mnist/top1", "There is no dataset 'mnist'"),
    ("/leaderboards/imagenet_1k/accuracy", "There is no metric 'accuracy'"),
    ("/leaderboards/imagenet_1k/box_ap", "No result in release 0.1.0 reports Box AP on ImageNet-1k"),
])
def test_an_unknown_board_is_a_404_that_says_why(client: FlaskClient, path: str, message: str) -> None:
    for suffix in ("", ".json"):
        response = client.get(path + suffix)
        assert response.status_code == 404
        assert message in html.unescape(response.text)


@pytest.mark.parametrize(("query", "param"), [
    ("adaptation=finetune", "adaptation"), ("split=train", "split"), ("head=yolo", "head"), ("min_ips=fast", "min_ips"),
    ("max_gmacs=-1", "max_gmacs"), ("best=family", "best"), ("family=gammanet", "family"), ("page=0", "page"),
    ("sort=value", "sort"), ("gpu=v100&gpu=a100", "gpu"),
])
def test_bad_leaderboard_parameters_are_400s_naming_the_parameter(client: FlaskClient, query: str, param: str) -> None:
    response = client.get(f"/leaderboards/imagenet_1k/top1.json?{query}")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == param
    html = client.get(f"/leaderboards/imagenet_1k/top1?{query}")
    assert html.status_code == 400 and f"<code>{param}</code>" in html.text


# ------------------------------------------------------------------ compare

def cells(row: dict) -> list:
    return [None if c is None else (c["value"], c["best"]) for c in row["cells"]]


def test_compare_puts_like_with_like_numbers_side_by_side_with_their_provenance(client: FlaskClient) -> None:
    body = get_json(client, "/compare.json?m=alphanet_s&m=betaformer_b")
    assert [m["name"] for m in body["models"]] == ["AlphaNet-S", "BetaFormer-B"]
    assert body["facts"][1] == {"label": "Parameters (M)", "cells": ["25", "86"]}
    results = {s["task"]: s["rows"] for s in body["results"]}
    top1 = [(r["dataset_id"], r["adaptation_id"], cells(r)) for r in results["classification"]]
    assert top1 == [
        ("imagenet_1k", "fine_tune", [(80.0, False), (83.6, True)]),
        ("imagenet_1k", "linear_probe", [(70.5, False), None]),
        ("imagenet_a", "fine_tune", [(20.5, False), None]),
    ]
    detection = results["detection"][0]
    assert (detection["head_id"], detection["schedule"], cells(detection)) == ("mask_rcnn", 36, [(46.0, False), (50.3, True)])
    assert detection["cells"][1]["source_id"] == "beta2022former" and detection["cells"][1]["where"] == "Table 4"
    seg = {r["metric_id"]: cells(r) for r in results["semantic_segmentation"]}
    assert seg == {"miou_ss": [(45.0, False), (48.1, True)], "miou_ms": [(46.0, False), None]}
    assert [(r["gpu_id"], r["precision_id"], cells(r)) for r in body["throughput"]] == [
        ("v100", "amp_fp16", [None, (1100.0, False)]), ("v100", "fp32", [(1200.0, False), None])]


def test_compare_marks_values_two_documents_disagree_on(client: FlaskClient) -> None:
    body = get_json(client, "/compare.json?m=alphanet_l.in1k&m=alphanet_s.in1k")
    row = body["results"][0]["rows"][0]
    assert cells(row) == [(83.0, True), (80.0, False)]
    assert row["cells"][0]["conflict"] is True
    assert row["cells"][0]["conflicts_with"] == "beta2022former/classification/alphanet_l.in1k/none/imagenet_1k@224"
    assert row["cells"][0]["candidates"] == 2  # the 82.0 of the other document competed for this cell


def test_the_compare_page_links_each_number_and_the_explorer_with_the_models_highlighted(client: FlaskClient) -> None:
    html = client.get("/compare?m=alphanet_s.in1k&m=alphanet_l.in22k&m=betaformer_b.mae_in1k").text
    assert "<title>Compare AlphaNet-S · in1k, AlphaNet-L · in22k, BetaFormer-B · mae_in1k · Heedless Backbones</title>" in html
    assert '<span class="value best">83.6</span>' in html  # at 224px; AlphaNet-L's 86 at 384px is a row of its own
    assert 'href="/?y=result&amp;y_task=classification&amp;y_dataset=imagenet_1k&amp;y_metric=top1&amp;x=gmacs' in html
    assert "highlight=alphanet_l.in22k&amp;highlight=alphanet_s.in1k&amp;highlight=betaformer_b.mae_in1k" in html


def test_compare_adds_a_model_by_name_and_redirects_to_the_shareable_address(client: FlaskClient) -> None:
    response = client.get("/compare?m=alphanet_s&add=BetaFormer-B")
    assert response.status_code == 302
    assert response.headers["Location"] == "/compare?m=alphanet_s&m=betaformer_b"
    several = client.get("/compare?m=betaformer_b&add=alphanet")
    assert several.status_code == 200 and "matches several models; pick one" in several.text
    assert 'href="/compare?m=betaformer_b&amp;m=alphanet_l">AlphaNet-L</a>' in several.text


def test_compare_with_fewer_than_two_models_asks_for_more(client: FlaskClient) -> None:
    assert "Nothing chosen yet." in client.get("/compare").text
    assert "Add at least one more model to compare." in client.get("/compare?m=alphanet_s").text
    assert client.get("/compare.json?m=alphanet_s").status_code == 400


@pytest.mark.parametrize(("query", "choices"), [
    ("m=alphanet_x", "backbone or checkpoint ids of this release (find them with search), e.g. alphanet_l, alphanet_s, betaformer_b"),
    ("m=alphanet_s,alphanet_l,betaformer_b,alphanet_s.in1k,alphanet_l.in1k,alphanet_l.in22k,betaformer_b.mae_in1k",
     "at most 6 backbones or checkpoints at once"),
])
def test_bad_compare_parameters_are_400s(client: FlaskClient, query: str, choices: str) -> None:
    response = client.get(f"/compare.json?{query}")
    assert (response.status_code, response.get_json()["choices"]) == (400, choices)
    assert client.get(f"/compare?{query}").status_code == 400


# ------------------------------------------------------------------ explorer highlight

def test_the_explorer_highlights_models_named_in_the_url_and_keeps_them_in_the_permalink(client: FlaskClient) -> None:
    body = get_json(client, "/plot.json?highlight=alphanet_l&highlight=betaformer_b.mae_in1k")
    assert body["query"].endswith("&highlight=alphanet_l&highlight=betaformer_b.mae_in1k&color=family&marker=pretrain_dataset&x_scale=log&y_scale=linear")
    assert body["count"] == 5  # highlighting filters nothing
    html = body["main_html"]
    assert 'data-ids="alphanet_l,betaformer_b.mae_in1k">Highlighted:' in html
    assert "(4 of the plotted points)" in html
    assert '<input type="hidden" name="highlight" value="alphanet_l">' in html
    assert 'href="/compare?m=alphanet_l&amp;m=betaformer_b.mae_in1k">Compare them side by side</a>' in html


def test_a_bad_highlight_is_a_400(client: FlaskClient) -> None:
    response = client.get("/plot.json?highlight=gammanet_x")
    assert (response.status_code, response.get_json()["parameter"]) == (400, "highlight")


# ------------------------------------------------------------------ presets and glossary

def test_the_glossary_defines_every_metric_and_protocol_of_the_release(app: Flask, client: FlaskClient) -> None:
    from viewer import glossary

    with app.app_context():
        from viewer.app import get_release

        rel = get_release()
        assert sorted(m for m in rel.tables["metrics"]["metric_id"].to_list() if not glossary.METRIC_DEFINITIONS.get(m)) == []
    html = client.get("/glossary").text
    for anchor in ('id="top1"', 'id="box_ap"', 'id="miou_ms"', 'id="fine_tune"', 'id="multi_scale_flip"', 'id="extra-data"'):
        assert anchor in html


def test_the_presets_page_lists_every_preset_with_its_links(client: FlaskClient) -> None:
    from viewer.presets import PRESETS

    html = client.get("/presets").text
    assert html.count('<li class="preset"') == len(PRESETS)
    assert 'href="/leaderboards/imagenet_1k/top1?gpu=v100&amp;min_ips=1000"' in html
