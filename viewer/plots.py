"""Bokeh figure builders: data in, figure out. No Flask, no I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem, OpenURL, TapTool  # type: ignore[attr-defined]
from bokeh.palettes import Category10_10, Category20_20, Category20b_20, Category20c_20
from bokeh.plotting import figure

MARKERS = ("circle", "square", "triangle", "diamond", "inverted_triangle", "hex", "star", "square_pin",
           "triangle_pin", "plus", "circle_cross", "square_x")
FAMILY_PALETTE = tuple(Category20_20[0::2] + Category20_20[1::2] + Category20b_20[0::4] + Category20c_20[0::4]
                       + Category20b_20[2::4] + Category20c_20[2::4])
PALETTE = tuple(Category10_10 + Category20_20[1::2])
TOOLTIP_FIELDS = (
    ("Backbone", "backbone"), ("Checkpoint", "checkpoint"), ("Pretraining", "pretraining"),
    ("Fine-tuning chain", "chain"), ("Head", "head"), ("Schedule", "schedule"), ("Protocol", "protocol"),
)


def family_color(family_id: str, all_families: Sequence[str]) -> str:
    """A family's colour: fixed by its place among every family of the release, so the same on every page."""
    ordered = sorted(all_families)
    if family_id in ordered:
        return FAMILY_PALETTE[ordered.index(family_id) % len(FAMILY_PALETTE)]
    digest = int(hashlib.sha256(family_id.encode()).hexdigest(), 16)
    return FAMILY_PALETTE[digest % len(FAMILY_PALETTE)]


def group_colors(groups: Sequence[str], universe: Sequence[str], by_family: bool) -> dict[str, str]:
    """Colours for legend groups, stable for a given universe of categories."""
    if by_family:
        return {g: family_color(g, universe) for g in groups}
    ordered = sorted(set(universe) | set(groups))
    return {g: PALETTE[ordered.index(g) % len(PALETTE)] for g in groups}


def group_markers(groups: Sequence[str], universe: Sequence[str]) -> dict[str, str]:
    ordered = sorted(set(universe) | set(groups))
    return {g: MARKERS[ordered.index(g) % len(MARKERS)] for g in groups}


def build_scatter(
    data: dict[str, list],
    *,
    x_label: str,
    y_label: str,
    x_type: str,
    y_type: str,
    color_labels: dict[str, str],
    colors: dict[str, str],
    marker_labels: dict[str, str],
    markers: dict[str, str],
    pareto: bool,
    link_template: str = "/backbones/@backbone_id",
    pareto_step: str = "after",
    width: int = 900,
    height: int = 560,
) -> figure:
    """Scatter of result points: one renderer per colour group (a legend click hides it),
    markers by a second category, hover with provenance, click to the backbone page.

    `data` columns: x, y, color_group, marker_group, on_pareto, backbone_id, x_text, y_text, source,
    and the TOOLTIP_FIELDS columns; only the plotted and tooltip columns reach the browser.
    """
    fig = figure(width=width, height=height, x_axis_type=x_type, y_axis_type=y_type,  # type: ignore[arg-type]
                 x_axis_label=x_label, y_axis_label=y_label, tools="pan,wheel_zoom,box_zoom,reset,save",
                 toolbar_location="above", sizing_mode="stretch_width")
    items = []
    renderers = []
    groups = sorted(set(data["color_group"]), key=lambda g: color_labels.get(g, g))
    for group in groups:
        idx = [i for i, g in enumerate(data["color_group"]) if g == group]
        sub = {k: [data[k][i] for i in idx] for k in _DATA_COLUMNS}
        sub["marker"] = [markers.get(data["marker_group"][i], "circle") for i in idx]
        source = ColumnDataSource(sub, name=f"group:{group}")
        r = fig.scatter("x", "y", source=source, marker="marker", size=10, fill_alpha=0.75,
                        color=colors.get(group, "#444444"), line_color="#222222", line_width=0.5,
                        name=f"points:{group}")
        renderers.append(r)
        items.append(LegendItem(label=f"{color_labels.get(group, group)} ({len(idx)})", renderers=[r]))
    if pareto:
        front = [i for i, on in enumerate(data["on_pareto"]) if on]
        front.sort(key=lambda i: (data["x"][i], data["y"][i]))
        fsrc = ColumnDataSource({"x": [data["x"][i] for i in front], "y": [data["y"][i] for i in front]}, name="pareto")
        # "after" when lower x is better (cost axes), "before" when higher x is better (throughput)
        line = fig.step("x", "y", source=fsrc, mode=pareto_step, line_color="#d62728", line_width=2, line_dash="dashed",  # type: ignore[arg-type]
                        name="pareto-line")
        ring = fig.scatter("x", "y", source=fsrc, marker="circle", size=17, fill_alpha=0, line_color="#d62728",
                           line_width=2, name="pareto-points")
        items.append(LegendItem(label=f"Pareto frontier ({len(front)})", renderers=[line, ring]))
    tooltips = [(label, f"@{field}") for label, field in TOOLTIP_FIELDS]
    tooltips += [(y_label, "@y_text"), (x_label, "@x_text"), ("Source", "@source"), ("Other axis from", "@x_source")]
    fig.add_tools(HoverTool(renderers=renderers, tooltips=tooltips))  # type: ignore[arg-type]
    fig.add_tools(TapTool(renderers=renderers, callback=OpenURL(url=link_template, same_tab=True)))  # type: ignore[arg-type]
    if items:
        legend = Legend(items=items, click_policy="hide", location="top_left", title="Click to hide")
        fig.add_layout(legend, "right")
    fig.title.text = f"{y_label} vs {x_label}"  # type: ignore[union-attr]
    return fig


class ScatterTemplates:
    """Fast serialisation of build_scatter figures.

    Building and serialising a Bokeh figure costs tens of milliseconds whatever its data, so the
    figure for each shape (axis types, number of colour groups, frontier or not) is built and
    serialised once, with placeholder data; each request copies it and fills in its data, labels
    and colours. The result equals json_item(build_scatter(...)) up to model ids (a test checks).
    """

    def __init__(self) -> None:
        self._skeletons: dict[tuple, str] = {}

    def _skeleton(self, key: tuple) -> str:
        if key not in self._skeletons:
            from bokeh.embed import json_item

            x_type, y_type, n_groups, pareto, link_template, pareto_step = key
            placeholder: dict[str, list] = {name: [] for name in (*_DATA_COLUMNS, "color_group", "marker_group", "on_pareto")}
            for i in range(n_groups):
                for name in _DATA_COLUMNS:
                    placeholder[name].append(0.0 if name in ("x", "y") else "")
                placeholder["color_group"].append(f"__g{i}")
                placeholder["marker_group"].append("")
                placeholder["on_pareto"].append(True)
            fig = build_scatter(
                placeholder, x_label="__X__", y_label="__Y__", x_type=x_type, y_type=y_type,
                color_labels={f"__g{i}": f"__label{i:04d}" for i in range(n_groups)},  # padded: sorts as numbered
                colors={f"__g{i}": f"#{i:06x}" for i in range(n_groups)}, marker_labels={}, markers={}, pareto=pareto,
                link_template=link_template, pareto_step=pareto_step,
            )
            self._skeletons[key] = json.dumps(json_item(fig, "plot"))  # type: ignore[arg-type]
        return self._skeletons[key]

    def render(self, data: dict[str, list], *, x_label: str, y_label: str, x_type: str, y_type: str,
               color_labels: dict[str, str], colors: dict[str, str], markers: dict[str, str], pareto: bool,
               link_template: str = "/backbones/@backbone_id", pareto_step: str = "after") -> dict:
        """The json_item of build_scatter(data, ...), filled into a cached skeleton."""
        groups = sorted(set(data["color_group"]), key=lambda g: color_labels.get(g, g))
        doc = json.loads(self._skeleton((x_type, y_type, len(groups), pareto, link_template, pareto_step)))
        by_group: dict[str, list[int]] = {g: [] for g in groups}
        for i, g in enumerate(data["color_group"]):
            by_group[g].append(i)
        slots = {f"__g{i}": g for i, g in enumerate(groups)}
        front = sorted((i for i, on in enumerate(data["on_pareto"]) if on), key=lambda i: (data["x"][i], data["y"][i]))

        def columns(group: str) -> list:
            idx = by_group[group]
            sub = [[name, [data[name][i] for i in idx]] for name in _DATA_COLUMNS]
            sub.append(["marker", [markers.get(data["marker_group"][i], "circle") for i in idx]])
            return sub

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
                name = attrs.get("name")
                kind = node.get("name")
                if isinstance(name, str) and name.startswith("group:__g"):
                    group = slots[name[len("group:"):]]
                    attrs["name"] = f"group:{group}"
                    attrs["data"] = {"type": "map", "entries": columns(group)}
                elif isinstance(name, str) and name.startswith("points:__g"):
                    group = slots[name[len("points:"):]]
                    attrs["name"] = f"points:{group}"
                    for role in ("glyph", "selection_glyph", "nonselection_glyph", "hover_glyph", "muted_glyph"):
                        glyph = attrs.get(role)
                        if isinstance(glyph, dict) and "attributes" in glyph:
                            for prop in ("fill_color", "hatch_color"):
                                if prop in glyph["attributes"]:
                                    glyph["attributes"][prop] = {"type": "value", "value": colors.get(group, "#444444")}
                elif name == "pareto":
                    attrs["data"] = {"type": "map", "entries": [["x", [data["x"][i] for i in front]], ["y", [data["y"][i] for i in front]]]}
                elif kind == "LegendItem":
                    label = attrs["label"]["value"]
                    if label.startswith("__label"):
                        group = groups[int(label[len("__label"):].split(" ")[0])]
                        attrs["label"] = {"type": "value", "value": f"{color_labels.get(group, group)} ({len(by_group[group])})"}
                    else:
                        attrs["label"] = {"type": "value", "value": f"Pareto frontier ({len(front)})"}
                elif kind == "Title" and attrs.get("text") == "__Y__ vs __X__":
                    attrs["text"] = f"{y_label} vs {x_label}"
                elif attrs.get("axis_label") in ("__X__", "__Y__"):
                    attrs["axis_label"] = x_label if attrs["axis_label"] == "__X__" else y_label
                elif kind == "HoverTool":
                    attrs["tooltips"] = [[{"__X__": x_label, "__Y__": y_label}.get(label, label), field] for label, field in attrs["tooltips"]]
            for key, value in node.items():
                if key != "data" and isinstance(value, (dict, list)):  # filled data holds no models
                    patch(value)

        patch(doc)
        return doc


_DATA_COLUMNS = ("x", "y", "backbone_id", "x_text", "y_text", "source", "x_source",
                 *(field for _, field in TOOLTIP_FIELDS))
