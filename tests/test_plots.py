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
from viewer.plots import GLASBEY, GLASBEY_KEPT, MARKERS, MIN_DELTA_E, OTHER_COLOR, PALETTE, assign, fold
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
        fig, legend = build_figure(rel, sel, spec)
        assert fast.pop("legend") == legend
        again.pop("legend")
        assert normalised(fast) == normalised(json_item(fig, "plot"))
        assert normalised(again) == normalised(fast)


def test_the_palette_is_the_glasbey_entries_the_documented_rule_keeps() -> None:
    import colorcet
    from coloraide import Color

    kept: list[int] = []
    chosen = [Color(OTHER_COLOR)]
    for i, hex_ in enumerate(colorcet.palette[GLASBEY]):
        colour = Color(hex_)
        lch = colour.convert("lch")
        if lch["lightness"] > 80 or lch["chroma"] < 10:
            continue
        if all(colour.delta_e(c, method="2000") >= MIN_DELTA_E for c in chosen):
            kept.append(i)
            chosen.append(colour)
    assert tuple(kept) == GLASBEY_KEPT
    assert len(PALETTE) == 33


def test_any_two_palette_colours_differ_by_at_least_15_ciede2000() -> None:
    from itertools import combinations

    from coloraide import Color

    colours = [*PALETTE, OTHER_COLOR]
    smallest = min(Color(a).delta_e(Color(b), method="2000") for a, b in combinations(colours, 2))
    assert smallest >= MIN_DELTA_E


def test_a_top_ranked_group_keeps_its_colour_and_others_take_free_ones() -> None:
    rank = {"swin": 0, "convnext": 1, "vit": 2, "rare": 40}
    assert assign(["convnext", "swin"], rank, PALETTE) == {"convnext": PALETTE[1], "swin": PALETTE[0]}
    assert assign(["rare", "vit"], rank, PALETTE) == {"rare": PALETTE[0], "vit": PALETTE[2]}
    assert assign(["rare", "swin"], rank, PALETTE) == {"rare": PALETTE[1], "swin": PALETTE[0]}
    with pytest.raises(ValueError, match="15 groups for 14 choices"):
        assign([f"g{i}" for i in range(15)], {}, MARKERS)


def test_fold_keeps_the_largest_groups_and_gathers_the_rest() -> None:
    groups = ["a"] * 3 + ["b"] * 2 + ["c", "d"]
    assert fold(groups, 4, "other") == groups
    assert fold(groups, 3, "other") == ["a"] * 3 + ["b"] * 2 + ["other", "other"]


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


def test_the_cached_plot_fills_data_filter_and_frontier() -> None:
    from viewer.plots import DATA_COLUMNS, ScatterTemplates, build_scatter

    data: dict[str, list] = {name: [] for name in DATA_COLUMNS}
    for i in range(12):
        for name in DATA_COLUMNS:
            data[name].append(float(i) if name in ("x", "y") else f"{name}{i}")
    options = {"x_label": "X", "y_label": "Y", "x_type": "linear", "y_type": "log", "shown": [i % 3 != 0 for i in range(12)],
               "colors": {f"group{i}": f"#0000{i:02d}" for i in range(12)}, "markers": {f"marker_group{i}": "square" for i in range(12)},
               "pareto": True, "pareto_x": [1.0, 2.0], "pareto_y": [3.0, 4.0]}
    fast = ScatterTemplates().render(data, **options)  # type: ignore[arg-type]
    assert normalised(fast) == normalised(json_item(build_scatter(data, **options), "plot"))  # type: ignore[arg-type]
    text = json.dumps(fast)
    assert '"booleans": [false, true, true, false' in text
    assert '"palette": ["#000000", "#000001", "#000002"' in text
