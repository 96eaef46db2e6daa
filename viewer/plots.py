"""Bokeh figure builders: data in, figure out. No Flask, no I/O.

Colours come from colorcet's Glasbey palette (glasbey_category10: Category10 first, then colours
chosen to be as far as possible from every earlier one). The legend, the hover card and the
visibility of groups live in the page (static/explorer.js), so the figure holds one scatter
renderer whatever the number of groups.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import colorcet
from bokeh.models import (  # type: ignore[attr-defined]
    BooleanFilter,
    CategoricalColorMapper,
    CategoricalMarkerMapper,
    CDSView,
    ColumnDataSource,
    OpenURL,
    TapTool,
)
from bokeh.plotting import figure

GLASBEY = "glasbey_category10"
# The entries of colorcet's glasbey_category10 kept, in order, by the rule that tests/test_plots.py
# re-applies with a colour library: skip entries lighter than L* 80 (faint on white) or with chroma
# under 10 (they read as the grey of "other"), and keep an entry only when it differs by CIEDE2000
# >= 15 from OTHER_COLOR and from every entry kept before it.
GLASBEY_KEPT = (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 22, 23, 25, 28, 29, 31, 32, 33,
                35, 40, 50, 126, 159, 247)
PALETTE = tuple(colorcet.palette[GLASBEY][i] for i in GLASBEY_KEPT)
OTHER_COLOR = "#bdbdbd"
MIN_DELTA_E = 15
# filled Bokeh markers that stay distinct at 10 px; the last one marks the folded "other" group
MARKERS = ("circle", "square", "triangle", "diamond", "inverted_triangle", "hex", "star", "plus", "square_pin",
           "triangle_pin", "circle_cross", "square_x", "diamond_cross", "square_cross")
OTHER_MARKER = "circle_dot"
TOOLTIP_FIELDS = (
    ("Backbone", "backbone"), ("Checkpoint", "checkpoint"), ("Pretraining", "pretraining"),
    ("Fine-tuning chain", "chain"), ("Head", "head"), ("Schedule", "schedule"), ("Protocol", "protocol"),
)
# Columns of the plot's data source. The columns in CODED repeat a few values: they hold each value's
# index into the item's "codes" lists, which keeps the page small and BokehJS quick.
CODED = ("backbone", "source", "x_source", "pretraining", "chain", "head", "schedule", "protocol")
DATA_COLUMNS = ("x", "y", "group", "marker_group", "backbone_id", "checkpoint", "x_text", "y_text", *CODED)


def assign(groups: Sequence[str], rank: Mapping[str, int], choices: Sequence[str]) -> dict[str, str]:
    """A colour (or marker) for each group of one plot, at most one group per choice.

    A group ranked among the first len(choices) of the release (by how many results it has) always
    gets choices[rank], so it looks the same on every plot; any other group takes the first choice
    no group of this plot holds. `groups` must not outnumber `choices`."""
    if len(groups) > len(choices):
        raise ValueError(f"{len(groups)} groups for {len(choices)} choices: fold the smallest first")
    fixed = {g: choices[rank[g]] for g in groups if rank.get(g, len(choices)) < len(choices)}
    free = iter(c for c in choices if c not in set(fixed.values()))
    return {g: fixed[g] if g in fixed else next(free) for g in groups}


def fold(groups: Sequence[str], keep: int, other: str) -> list[str]:
    """Each point's group, with all but the `keep` largest groups (ties by name) folded into `other`."""
    counts: dict[str, int] = {}
    for g in groups:
        counts[g] = counts.get(g, 0) + 1
    if len(counts) <= keep:
        return list(groups)
    kept = set(sorted(counts, key=lambda g: (-counts[g], g))[: keep - 1])
    return [g if g in kept else other for g in groups]


def build_scatter(
    data: dict[str, list],
    *,
    x_label: str,
    y_label: str,
    x_type: str,
    y_type: str,
    colors: Mapping[str, str],
    markers: Mapping[str, str],
    shown: list[bool] | None = None,
    pareto: bool = False,
    pareto_x: Sequence[float] = (),
    pareto_y: Sequence[float] = (),
    link_template: str = "/backbones/@backbone_id",
    pareto_step: str = "after",
    height: int = 470,
) -> figure:
    """Scatter of result points: one renderer, each point's colour from its group and its marker from
    its marker group (`colors` and `markers` map groups to them), points of hidden groups filtered out
    by `shown`, the Pareto frontier as a dashed step line, a click opens the point's backbone page.
    `data` holds DATA_COLUMNS, one value per point."""
    fig = figure(height=height, x_axis_type=x_type, y_axis_type=y_type,  # type: ignore[arg-type]
                 x_axis_label=x_label, y_axis_label=y_label, tools="pan,wheel_zoom,box_zoom,reset,save",
                 toolbar_location="above", sizing_mode="stretch_width", min_border_left=10, min_border_right=10)
    source = ColumnDataSource({k: data[k] for k in DATA_COLUMNS}, name="point-data")
    view = CDSView(filter=BooleanFilter(booleans=shown if shown is not None else [True] * len(data["x"]), name="shown"))
    color_map = CategoricalColorMapper(factors=list(colors) or ["-"], palette=list(colors.values()) or [OTHER_COLOR],
                                       name="colors")
    marker_map = CategoricalMarkerMapper(factors=list(markers) or ["-"],
                                         markers=list(markers.values()) or ["circle"], name="markers")  # type: ignore[arg-type]
    points = fig.scatter("x", "y", source=source, view=view, marker={"field": "marker_group", "transform": marker_map},
                         size=10, fill_alpha=0.8, fill_color={"field": "group", "transform": color_map},
                         line_color="#222222", line_width=0.5, name="points")
    if pareto:
        fsrc = ColumnDataSource({"x": list(pareto_x), "y": list(pareto_y)}, name="pareto")
        # "after" when lower x is better (cost axes), "before" when higher x is better (throughput)
        fig.step("x", "y", source=fsrc, mode=pareto_step, line_color="#d62728", line_width=2, line_dash="dashed",  # type: ignore[arg-type]
                 name="pareto-line")
        fig.scatter("x", "y", source=fsrc, marker="circle", size=17, fill_alpha=0, line_color="#d62728",
                    line_width=2, name="pareto-points")
    fig.add_tools(TapTool(renderers=[points], callback=OpenURL(url=link_template, same_tab=True)))  # type: ignore[arg-type]
    return fig


class ScatterTemplates:
    """Fast serialisation of build_scatter figures.

    Building and serialising a Bokeh figure costs tens of milliseconds whatever its data, so the
    figure for each shape (axis types, frontier or not) is built and serialised once, with
    placeholder data; each request copies it and fills in its data and labels. The result equals
    json_item(build_scatter(...)) up to model ids (a test checks).
    """

    def __init__(self) -> None:
        self._skeletons: dict[tuple, str] = {}

    def _skeleton(self, key: tuple) -> str:
        if key not in self._skeletons:
            from bokeh.embed import json_item

            x_type, y_type, pareto, link_template, pareto_step = key
            fig = build_scatter({name: [] for name in DATA_COLUMNS}, x_label="__X__", y_label="__Y__", x_type=x_type,
                                y_type=y_type, colors={"__g": "#000000"}, markers={"__m": "circle"}, shown=[],
                                pareto=pareto, link_template=link_template, pareto_step=pareto_step)
            self._skeletons[key] = json.dumps(json_item(fig, "plot"))  # type: ignore[arg-type]
        return self._skeletons[key]

    def render(self, data: dict[str, list], *, x_label: str, y_label: str, x_type: str, y_type: str,
               colors: Mapping[str, str], markers: Mapping[str, str], shown: list[bool] | None = None, pareto: bool = False, pareto_x: Sequence[float] = (),
               pareto_y: Sequence[float] = (), link_template: str = "/backbones/@backbone_id",
               pareto_step: str = "after") -> dict:
        """The json_item of build_scatter(data, ...), filled into a cached skeleton."""
        doc = json.loads(self._skeleton((x_type, y_type, pareto, link_template, pareto_step)))
        booleans = shown if shown is not None else [True] * len(data["x"])

        def patch(node: object) -> None:
            if isinstance(node, list):
                for item in node:
                    if isinstance(item, (dict, list)):
                        patch(item)
                return
            if not isinstance(node, dict):
                return
            attrs = node.get("attributes") if node.get("type") == "object" else None
            if attrs is not None:
                name, kind = attrs.get("name"), node.get("name")
                if kind == "ColumnDataSource" and name == "point-data":
                    attrs["data"] = {"type": "map", "entries": [[k, data[k]] for k in DATA_COLUMNS]}
                elif kind == "ColumnDataSource" and name == "pareto":
                    attrs["data"] = {"type": "map", "entries": [["x", list(pareto_x)], ["y", list(pareto_y)]]}
                elif kind == "BooleanFilter" and name == "shown":
                    attrs["booleans"] = booleans
                elif kind == "CategoricalColorMapper" and name == "colors":
                    attrs["factors"], attrs["palette"] = list(colors) or ["-"], list(colors.values()) or [OTHER_COLOR]
                elif kind == "CategoricalMarkerMapper" and name == "markers":
                    attrs["factors"], attrs["markers"] = list(markers) or ["-"], list(markers.values()) or ["circle"]
                elif attrs.get("axis_label") in ("__X__", "__Y__"):
                    attrs["axis_label"] = x_label if attrs["axis_label"] == "__X__" else y_label
            for key, value in node.items():
                if key not in ("data", "booleans", "factors", "palette", "markers") and isinstance(value, (dict, list)):
                    # filled data holds no models
                    patch(value)

        patch(doc)
        return doc


# SVG for each marker in a 16 x 16 box: the legend's swatches draw the shapes the plot draws
_C, _R = 8, 6
MARKER_SVG = {
    "circle": f'<circle cx="{_C}" cy="{_C}" r="{_R}"/>',
    "square": '<rect x="2.5" y="2.5" width="11" height="11"/>',
    "triangle": '<polygon points="8,1.5 14.5,13.5 1.5,13.5"/>',
    "diamond": '<polygon points="8,1 15,8 8,15 1,8"/>',
    "inverted_triangle": '<polygon points="1.5,2.5 14.5,2.5 8,14.5"/>',
    "hex": '<polygon points="2,8 5,2.8 11,2.8 14,8 11,13.2 5,13.2"/>',
    "star": '<polygon points="8,1 9.8,6 15,6.2 10.9,9.4 12.3,14.6 8,11.6 3.7,14.6 5.1,9.4 1,6.2 6.2,6"/>',
    "plus": '<polygon points="6,1.5 10,1.5 10,6 14.5,6 14.5,10 10,10 10,14.5 6,14.5 6,10 1.5,10 1.5,6 6,6"/>',
    "square_pin": '<path d="M2 2 Q8 5 14 2 Q11 8 14 14 Q8 11 2 14 Q5 8 2 2Z"/>',
    "triangle_pin": '<path d="M8 1.5 Q9.5 8 14.5 13.5 Q8 11 1.5 13.5 Q6.5 8 8 1.5Z"/>',
    "circle_cross": f'<circle cx="{_C}" cy="{_C}" r="{_R}"/><path class="mark" d="M8 2v12M2 8h12"/>',
    "square_x": '<rect x="2.5" y="2.5" width="11" height="11"/><path class="mark" d="M2.5 2.5l11 11M13.5 2.5l-11 11"/>',
    "diamond_cross": '<polygon points="8,1 15,8 8,15 1,8"/><path class="mark" d="M8 1v14M1 8h14"/>',
    "square_cross": '<rect x="2.5" y="2.5" width="11" height="11"/><path class="mark" d="M8 2.5v11M2.5 8h11"/>',
    "circle_dot": f'<circle cx="{_C}" cy="{_C}" r="{_R}"/><circle class="dot" cx="{_C}" cy="{_C}" r="1.6"/>',
}
