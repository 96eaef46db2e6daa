"""Plot builders: the cached fast path serialises exactly what build_scatter builds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bokeh.embed import json_item
from flask import Flask
from werkzeug.datastructures import MultiDict

from viewer.app import create_app, get_release
from viewer.explorer import build_figure, plot_item
from viewer.plots import FAMILY_PALETTE, family_color
from viewer.query import parse_spec
from viewer.select import limit_points, pareto_mask, select_points


@pytest.fixture(scope="module")
def app(fixture_release: Path) -> Flask:
    return create_app({"RELEASES_DIR": str(fixture_release.parent)})


def normalised(item: dict) -> str:
    """JSON text with model ids renumbered in order of appearance."""
    text = json.dumps(item)
    ids: dict[str, str] = {}
    return re.sub(r'"(p\d+)"', lambda m: '"' + ids.setdefault(m.group(1), f"m{len(ids)}") + '"', text)


@pytest.mark.parametrize("query", ["", "pareto=1", "x=date&pareto=1", "x=throughput&x_gpu=v100&x_precision=fp32",
                                   "color=pretrain_method&marker=head&y_scale=log", "x=result&x_task=detection&color=none"])
def test_the_cached_plot_equals_a_freshly_built_figure(app: Flask, query: str) -> None:
    with app.test_request_context(f"/?{query}"):
        rel = get_release()
        spec = parse_spec(MultiDict(list(MultiDict(__import__("urllib.parse").parse.parse_qsl(query)).items(multi=True))), rel)
        sel = select_points(rel, spec)
        fast, _ = plot_item(rel, sel, spec)
        again, _ = plot_item(rel, sel, spec)
        fig, _ = build_figure(rel, sel, spec)
        assert normalised(fast) == normalised(json_item(fig, "plot"))
        assert normalised(again) == normalised(fast)


def test_a_family_keeps_its_colour_whatever_else_is_plotted() -> None:
    families = ["alphanet", "betaformer", "convnext", "swin"]
    assert family_color("swin", families) == family_color("swin", families + ["zeta"]) == FAMILY_PALETTE[3]
    assert len(set(FAMILY_PALETTE)) == len(FAMILY_PALETTE)


def test_pareto_mask_keeps_ties_and_drops_dominated_points() -> None:
    import polars as pl

    x = pl.Series([1.0, 1.0, 2.0, 2.0, 3.0, 0.5])
    y = pl.Series([5.0, 5.0, 6.0, 4.0, 6.0, 1.0])
    # lower x is better, higher y is better: (2, 4) is beaten by (1, 5); (3, 6) by (2, 6)
    assert pareto_mask(x, y, x_higher=False, y_higher=True).to_list() == [True, True, True, False, False, True]


def test_large_selections_keep_the_frontier_then_the_best(app: Flask) -> None:
    with app.test_request_context("/"):
        rel = get_release()
        sel = select_points(rel, parse_spec(MultiDict(), rel))
        small, total = limit_points(sel, 2)
        assert (total, small.points.height) == (5, 2)
        assert small.points["pareto"].to_list() == [True, True]
        assert sorted(small.points["y"].to_list()) == [83.6, 86.0]


@pytest.mark.parametrize(("query", "mode"), [("pareto=1", "after"), ("pareto=1&x=throughput&x_gpu=v100&x_precision=fp32", "before")])
def test_the_frontier_steps_the_right_way_for_the_x_axis(app: Flask, query: str, mode: str) -> None:
    from urllib.parse import parse_qsl

    with app.test_request_context(f"/?{query}"):
        rel = get_release()
        spec = parse_spec(MultiDict(parse_qsl(query)), rel)
        item, _ = plot_item(rel, select_points(rel, spec), spec)
        text = json.dumps(item)
        # "before" is Bokeh's default for step glyphs, so only "after" is written out
        assert ('"name": "Step"' in text, '"mode": "after"' in text) == (True, mode == "after")


def test_the_cached_plot_keeps_the_legend_order_with_many_groups() -> None:
    from viewer.plots import ScatterTemplates, build_scatter

    groups = [f"fam{i:02d}" for i in range(12)]
    data: dict[str, list] = {"x": [], "y": [], "color_group": [], "marker_group": [], "on_pareto": [], "backbone_id": [],
                             "x_text": [], "y_text": [], "source": [], "backbone": [], "checkpoint": [], "pretraining": [],
                             "chain": [], "head": [], "schedule": [], "protocol": [], "x_source": []}
    for i, g in enumerate(groups):
        for name, value in (("x", float(i)), ("y", float(12 - i)), ("color_group", g), ("marker_group", "m"),
                            ("on_pareto", i % 2 == 0), ("backbone_id", f"b{i}")):
            data[name].append(value)
        for name in ("x_text", "y_text", "source", "backbone", "checkpoint", "pretraining", "chain", "head", "schedule",
                     "protocol", "x_source"):
            data[name].append(f"{name}{i}")
    options = {"x_label": "X", "y_label": "Y", "x_type": "linear", "y_type": "log",
               "color_labels": {g: f"Family {g[-2:]}" for g in groups}, "colors": {g: f"#0000{i:02d}" for i, g in enumerate(groups)},
               "markers": {"m": "square"}, "pareto": True}
    fast = ScatterTemplates().render(data, **options)
    assert normalised(fast) == normalised(json_item(build_scatter(data, marker_labels={}, **options), "plot"))
