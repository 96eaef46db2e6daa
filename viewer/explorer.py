"""The plot explorer: `/` (HTML), `/plot.json` (its JSON twin) and `/plot.csv` (the table's rows)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from typing import Any
from urllib.parse import quote, urlencode

import polars as pl
from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup

from viewer.app import get_release
from viewer.data import TASK_METRICS, Release
from viewer.formatting import csv_cell, fmt
from viewer.plots import CODED, MARKER_SVG, MARKERS, OTHER_COLOR, OTHER_MARKER, PALETTE, assign, build_scatter, fold
from viewer.query import (
    ANY,
    CATEGORIES,
    CATEGORY_COLUMN,
    DEFAULT_ADAPTATION,
    DEFAULT_SPLIT,
    OTHER_GROUP,
    STANDARD_TEST_TIME,
    TABLE_COLUMNS,
    BadQuery,
    Spec,
    metric_counts,
    parse_spec,
)
from viewer.select import Selection, category_value, limit_points, mixed_contexts, select_points, unconcerned_filters

MARKER_ORDER = (*MARKERS, OTHER_MARKER)

bp = Blueprint("explorer", __name__)
DATASETTE_ID_LIMIT = 300
MAX_POINTS = 1500  # more points than this are unreadable and slow; the CSV always has them all
TABLE_PAGE = 50  # table rows per page; the CSV and the JSON twin have every row
CATEGORY_TITLE = {"family": "Family", "pretrain_dataset": "Pretraining data", "pretrain_method": "Pretraining method",
                  "head": "Head", "resolution": "Resolution", "schedule": "Schedule", "token_mixer": "Token mixer",
                  "none": "All points"}


def _category_label(rel: Release, category: str, value: str) -> str:
    if value == OTHER_GROUP:
        return "Other (smaller groups)"
    kinds = {"family": "families", "pretrain_dataset": "datasets", "pretrain_method": "pretraining_methods",
             "head": "heads", "token_mixer": "token_mixers"}
    if category in kinds:
        return rel.name(kinds[category], value) if value != "-" else "(none)"
    if category == "resolution":
        return f"{value}px" if value != "-" else "(none)"
    if category == "schedule":
        return value if value != "-" else "(none)"
    return value


def _rank(rel: Release, category: str) -> dict[str, int]:
    """Each group value's place in the release, by number of results (most first): the first ones keep
    one colour and one marker on every plot."""
    key = ("group_rank", category)
    if key not in rel._memo:
        if category == "none":
            rel._memo[key] = {"all": 0}
        else:
            counts = (rel.values.select(pl.col(CATEGORY_COLUMN[category]).cast(pl.String).fill_null("-").alias("g"),
                                        "result_id").unique().group_by("g").len())
            ordered = sorted(counts.iter_rows(), key=lambda row: (-row[1], row[0]))
            rel._memo[key] = {g: i for i, (g, _) in enumerate(ordered)}
    return rel._memo[key]  # type: ignore[no-any-return]


def _url_maker(endpoint: str, arg: str) -> Any:
    """A fast url_for for one endpoint: built once, filled per row."""
    template = url_for(endpoint, **{arg: "__ID__"})  # type: ignore[arg-type]
    return lambda value: template.replace("__ID__", quote(str(value), safe="")) if value is not None else None


_ROW_COLUMNS = ("family_id", "backbone_id", "checkpoint_id", "pretrain_dataset_id", "pretrain_method_id", "chain",
                "head_id", "dataset_id", "resolution_px", "schedule", "adaptation_id", "test_time_id", "eval_split", "y",
                "x", "source_id", "where", "first_published", "result_id", "pareto", "citations", "conflict",
                "x_source_id", "x_where", "x_result_id", "x_head_id", "x_schedule", "x_adaptation_id", "x_test_time_id",
                "x_split", "batch_size", "tp_context")


def table_rows(rel: Release, sel: Selection, spec: Spec, window: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """The plotted points as table rows (display values, ids, sort keys), sorted as asked; only the rows
    window[0]:window[1] of that order when a window is given (a page of the table)."""
    if window is not None and not spec.sort:  # the points' own order: build only the rows asked for
        return table_rows(rel, dataclasses.replace(sel, points=sel.points.slice(window[0], window[1] - window[0])), spec)
    cols = sel.points.select(_ROW_COLUMNS).to_dict(as_series=False)
    names = rel.names
    families, backbones, datasets, heads = names["families"], names["backbones"], names["datasets"], names["heads"]
    methods = names["pretraining_methods"]
    protocols: dict[tuple, str] = {}  # a few distinct protocols: each put in words once

    def protocol(a: str | None, t: str | None, sp: str | None) -> str:
        key = (a, t, sp)
        if key not in protocols:
            protocols[key] = protocol_text(rel, a, t, sp)
        return protocols[key]

    rows = []
    for i in range(sel.points.height):
        r = {c: cols[c][i] for c in _ROW_COLUMNS}
        rows.append({
            "family": families.get(r["family_id"], r["family_id"]), "family_id": r["family_id"],
            "backbone": backbones.get(r["backbone_id"], r["backbone_id"]), "backbone_id": r["backbone_id"],
            "checkpoint": r["checkpoint_id"],
            "pretraining": f"{datasets.get(r['pretrain_dataset_id'], r['pretrain_dataset_id'])}, "
                           f"{methods.get(r['pretrain_method_id'], r['pretrain_method_id'])}",
            "pretrain_dataset_id": r["pretrain_dataset_id"],
            "chain": r["chain"], "head": heads.get(r["head_id"], r["head_id"]) if r["head_id"] is not None else "",
            "head_id": r["head_id"],
            "dataset": datasets.get(r["dataset_id"], r["dataset_id"]),
            "resolution": r["resolution_px"], "schedule": r["schedule"],
            "protocol": protocol(r["adaptation_id"], r["test_time_id"], r["eval_split"]),
            "y": r["y"], "x": r["x"], "source": r["source_id"],
            "where": r["where"], "date": r["first_published"], "result_id": r["result_id"], "pareto": r["pareto"],
            "citations": r["citations"], "conflict": r["conflict"],
            "x_source": r["x_source_id"], "x_where": r["x_where"], "x_result_id": r["x_result_id"],
            "x_head": heads.get(r["x_head_id"], r["x_head_id"]) if r["x_head_id"] is not None else "",
            "x_schedule": r["x_schedule"],
            "x_protocol": protocol(r["x_adaptation_id"], r["x_test_time_id"], r["x_split"]) if r["x_result_id"] else "",
            "batch_size": r["batch_size"],
            "tp_context": r["tp_context"],
        })
    if spec.sort:
        present = [row for row in rows if row[spec.sort] is not None]
        missing = [row for row in rows if row[spec.sort] is None]
        present.sort(key=lambda row: row[spec.sort], reverse=spec.order == "desc")
        rows = present + missing
    return rows if window is None else rows[window[0]:window[1]]


def protocol_text(rel: Release, adaptation: str | None, test_time: str | None, split: str | None) -> str:
    """How a number was measured, in words: 'Full fine-tune, single crop, val'."""
    parts = [rel.name("adaptations", adaptation), rel.name("test_time_procedures", test_time), split or ""]
    return ", ".join(p for p in parts if p)


def with_links(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of one table page, with the addresses of their family, backbone, dataset, head and source pages."""
    family_url, backbone_url = _url_maker("pages.family", "family_id"), _url_maker("pages.backbone", "backbone_id")
    dataset_url, head_url = _url_maker("pages.dataset", "dataset_id"), _url_maker("pages.head", "head_id")
    source_url = _url_maker("pages.source", "source_id")
    return [{**r, "family_url": family_url(r["family_id"]), "backbone_url": backbone_url(r["backbone_id"]),
             "pretraining_url": dataset_url(r["pretrain_dataset_id"]), "head_url": head_url(r["head_id"]),
             "source_url": source_url(r["source"])} for r in rows]


def _axis_value_text(value: Any, kind: str) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return fmt(value)


def _epoch_ms(values: list) -> list:
    return [dt.datetime.combine(v, dt.time()).replace(tzinfo=dt.UTC).timestamp() * 1000
            if isinstance(v, dt.date) else v for v in values]


def figure_inputs(rel: Release, sel: Selection, spec: Spec) -> tuple[dict[str, Any], dict[str, Any]]:
    """The data and options of the explorer's figure (for build_scatter), and its legend."""
    color_groups = fold(category_value(sel.points, spec.color).to_list(), len(PALETTE), OTHER_GROUP)
    # the grey "other" points first, so that the coloured groups are drawn over them
    order = sorted(range(len(color_groups)), key=lambda i: color_groups[i] != OTHER_GROUP)
    points = sel.points[order]
    color_groups = [color_groups[i] for i in order]
    marker_groups = fold(category_value(points, spec.marker).to_list(), len(MARKERS), OTHER_GROUP)
    colors = assign(sorted(set(color_groups) - {OTHER_GROUP}), _rank(rel, spec.color), PALETTE) | {OTHER_GROUP: OTHER_COLOR}
    markers = assign(sorted(set(marker_groups) - {OTHER_GROUP}), _rank(rel, spec.marker), MARKERS) | {OTHER_GROUP: OTHER_MARKER}
    xs, ys = _epoch_ms(points["x"].to_list()), _epoch_ms(points["y"].to_list())
    data: dict[str, list] = {
        "x": xs, "y": ys, "group": color_groups, "marker_group": marker_groups,
        "backbone_id": points["backbone_id"].to_list(),
        "x_text": [_axis_value_text(v, spec.x.kind) for v in points["x"].to_list()],
        "y_text": [_axis_value_text(v, spec.y.kind) for v in points["y"].to_list()],
        "source": [f"{s}, {w}" for s, w in zip(points["source_id"].to_list(), points["where"].to_list(), strict=True)],
        "x_source": _x_provenance(rel, points, spec),
        "backbone": [rel.name("backbones", b) for b in points["backbone_id"].to_list()],
        "checkpoint": points["checkpoint_id"].to_list(),
        "pretraining": _each_distinct(lambda d, m: f"{rel.name('datasets', d)}, {rel.name('pretraining_methods', m)}",
                                      points["pretrain_dataset_id"].to_list(), points["pretrain_method_id"].to_list()),
        "chain": points["chain"].to_list(),
        "head": _each_distinct(lambda h: rel.name("heads", h) or "-", points["head_id"].to_list()),
        "schedule": _each_distinct(lambda s: fmt(s) or "-", points["schedule"].to_list()),
        "protocol": _each_distinct(
            lambda a, t, sp, c: protocol_text(rel, a, t, sp) + (" · values differ between documents" if c else ""),
            points["adaptation_id"].to_list(), points["test_time_id"].to_list(), points["eval_split"].to_list(),
            points["conflict"].to_list()),
    }
    if spec.x.kind in ("throughput", "latency") or spec.y.kind in ("throughput", "latency"):
        bs = [(f"batch {b}" if b is not None else "batch not stated") + (f", {c}" if c else "")
              for b, c in zip(points["batch_size"].to_list(), points["tp_context"].to_list(), strict=True)]
        key = "x_text" if spec.x.kind in ("throughput", "latency") else "y_text"
        data[key] = [f"{t} ({b})" for t, b in zip(data[key], bs, strict=True)]
    codes: dict[str, list[str]] = {}
    for name in CODED:  # a few distinct values each: send each once, and an index per point
        distinct = list(dict.fromkeys(data[name]))
        where = {v: i for i, v in enumerate(distinct)}
        codes[name], data[name] = distinct, [where[v] for v in data[name]]
    hidden = set(spec.hide)
    front = sorted((i for i, on in enumerate(points["pareto"].to_list()) if on), key=lambda i: (xs[i], ys[i]))
    options = {
        "x_label": sel.x_label, "y_label": sel.y_label,
        "x_type": "datetime" if spec.x.kind == "date" else spec.x_scale,
        "y_type": "datetime" if spec.y.kind == "date" else spec.y_scale,
        "colors": {g: colors[g] for g in sorted(set(color_groups))},
        "markers": {g: markers[g] for g in sorted(set(marker_groups))},
        "shown": [g not in hidden for g in color_groups],
        "pareto": spec.pareto, "pareto_x": [xs[i] for i in front], "pareto_y": [ys[i] for i in front],
        "link_template": url_for("pages.backbone", backbone_id="BACKBONE").replace("BACKBONE", "@backbone_id"),
        "pareto_step": "before" if sel.x_higher_is_better else "after",
    }
    return {"data": data, **options}, {**_legend(rel, spec, color_groups, marker_groups, colors, markers), "codes": codes}


def _legend(rel: Release, spec: Spec, color_groups: list[str], marker_groups: list[str], colors: dict[str, str],
            markers: dict[str, str]) -> dict[str, Any]:
    """What the page's legend lists: each colour group with its count and the markers its points use,
    then the markers; hidden groups stay listed, marked hidden."""
    counts: dict[str, int] = {}
    shapes: dict[str, set[str]] = {}
    for g, m in zip(color_groups, marker_groups, strict=True):
        counts[g] = counts.get(g, 0) + 1
        shapes.setdefault(g, set()).add(markers[m])
    order = sorted(counts, key=lambda g: (g == OTHER_GROUP, _category_label(rel, spec.color, g).lower()))
    marker_order = sorted(set(marker_groups), key=lambda g: (g == OTHER_GROUP, _category_label(rel, spec.marker, g).lower()))
    used = sorted({markers[m] for m in marker_groups}, key=MARKER_ORDER.index)
    return {
        "title": CATEGORY_TITLE[spec.color], "marker_title": CATEGORY_TITLE[spec.marker],
        "colors": [{"key": g, "label": _category_label(rel, spec.color, g), "color": colors[g], "count": counts[g],
                    "markers": sorted(shapes[g], key=MARKER_ORDER.index), "hidden": g in spec.hide} for g in order],
        "markers": [{"key": g, "label": _category_label(rel, spec.marker, g), "marker": markers[g]} for g in marker_order]
        if len(marker_order) > 1 else [],
        "svg": {m: MARKER_SVG[m] for m in used},
    }


def _each_distinct(text: Any, *columns: list) -> list[str]:
    """text(*values) for each row of the columns, computed once per distinct combination of values."""
    done: dict[tuple, str] = {}
    out = []
    for key in zip(*columns, strict=True):
        if key not in done:
            done[key] = text(*key)
        out.append(done[key])
    return out


def _x_provenance(rel: Release, points: pl.DataFrame, spec: Spec) -> list[str]:
    """The other axis's provenance for the tooltip: source and where, head, schedule, protocol; or the
    throughput figure's source, GPU, precision and batch size."""
    if points["x_source_id"].null_count() == points.height:
        return [""] * points.height  # the other axis is the result's own (params, GMACs, date)
    out = []
    tp_axis = next((a for a in (spec.x, spec.y) if a.kind in ("throughput", "latency")), None)
    for r in points.iter_rows(named=True):
        if r["x_source_id"] is None:
            out.append("")
            continue
        text = f"{r['x_source_id']}, {r['x_where']}"
        if r["x_result_id"]:
            head = rel.name("heads", r["x_head_id"]) or "no head"
            sched = f", {fmt(r['x_schedule'])}" if r["x_schedule"] is not None else ""
            text += f" ({head}{sched}; {protocol_text(rel, r['x_adaptation_id'], r['x_test_time_id'], r['x_split'])})"
        elif tp_axis is not None:
            batch = f"batch {r['batch_size']}" if r["batch_size"] is not None else "batch not stated"
            if r.get("tp_context"):
                batch += f", {r['tp_context']}"
            where = rel.name("gpus", tp_axis.gpu) if tp_axis.kind == "throughput" else (
                f"{rel.name('devices', tp_axis.device)}, {rel.name('runtimes', tp_axis.runtime)}")
            text += f" ({where}, {rel.name('precisions', tp_axis.precision)}, {batch})"
        out.append(text)
    return out


def build_figure(rel: Release, sel: Selection, spec: Spec):  # type: ignore[no-untyped-def]
    """The explorer's Bokeh figure for a selection (the reference the fast path must equal)."""
    inputs, legend = figure_inputs(rel, sel, spec)
    data = inputs.pop("data")
    return build_scatter(data, **inputs), legend


def plot_item(rel: Release, sel: Selection, spec: Spec) -> tuple[dict[str, Any], dict[str, Any]]:
    """The figure's embeddable JSON (through the app's cached skeletons), carrying its legend, which the
    page draws beside the plot."""
    inputs, legend = figure_inputs(rel, sel, spec)
    data = inputs.pop("data")
    item = current_app.extensions["heedless_plots"].render(data, **inputs)
    item["legend"] = legend
    return item, legend


DATASETTE_VIEWS = {"classification": "classification", "detection": "detection",
                   "semantic_segmentation": "semantic_segmentation"}


def datasette_link(rel: Release, sel: Selection, spec: Spec) -> str:
    """A Datasette page with the same results: the exact result ids for a small selection, the
    release view under the same filters (dataset, metric, protocol, families, ...) for a large one."""
    base = current_app.config["DATASETTE_URL"].rstrip("/")
    if not base:
        return ""
    ids = sel.points["result_id"].unique().sort().to_list()
    if not ids:
        return ""
    task = sel.points["task_id"][0]
    if len(ids) <= DATASETTE_ID_LIMIT:
        quoted = ", ".join("'" + i.replace("'", "''") + "'" for i in ids)
        sql = f"select * from {DATASETTE_VIEWS[task]} where result_id in ({quoted}) order by result_id"
        return f"{base}/heedless-backbones?" + urlencode({"sql": sql})
    return f"{base}/heedless-backbones/{DATASETTE_VIEWS[task]}?" + urlencode(_datasette_filters(rel, spec, task))


def _datasette_filters(rel: Release, spec: Spec, task: str) -> list[tuple[str, str]]:
    """Datasette table filters on a release view that select what the explorer's filters select."""
    axis = next((a for a in (spec.y, spec.x) if a.kind == "result"), None)
    out: list[tuple[str, str]] = []

    def among(column: str, kind: str, values: tuple) -> None:
        if values:
            out.append((f"{column}__in", json.dumps([rel.name(kind, str(v)) if kind else v for v in values])))

    if axis is not None:
        out += [("eval_dataset__exact", rel.name("datasets", axis.dataset)), (f"{axis.metric}__notblank", "1")]
        if axis.head:
            out.append(("head__exact", rel.name("heads", axis.head)))
    for other in (spec.x, spec.y):
        column = {"gmacs": "gmacs", "params": "params_m"}.get(other.kind)
        if column:
            out.append((f"{column}__notblank", "1"))
    adaptation = spec.adaptation or DEFAULT_ADAPTATION
    if adaptation != (ANY,):
        among("adaptation", "adaptations", adaptation)
    split = spec.split or DEFAULT_SPLIT
    if split != (ANY,):
        out.append(("split_kind__in", json.dumps(list(split))))
    chosen_tt = [t for t in spec.test_time if t not in (ANY, STANDARD_TEST_TIME)]
    if chosen_tt:
        among("test_time", "test_time_procedures", tuple(chosen_tt))
    among("family", "families", spec.family)
    among("pretrain_dataset", "datasets", spec.pretrain_dataset)
    among("pretrain_method", "pretraining_methods", spec.pretrain_method)
    if task != "classification":
        among("head", "heads", spec.head)
    if spec.res:
        column = {"classification": "eval_resolution_px", "semantic_segmentation": "crop_px"}.get(task)
        if column:
            out.append((f"{column}__in", json.dumps(list(spec.res))))
    if spec.extra:
        out.append(("extra_training_data__exact", "1" if spec.extra == "yes" else "0"))
    if spec.date_from:
        out.append(("backbone_first_published__gte", spec.date_from.isoformat()))
    if spec.date_to:
        out.append(("backbone_first_published__lte", spec.date_to.isoformat()))
    return out


def _form_options(rel: Release, spec: Spec) -> dict[str, Any]:
    present = rel.present

    axes = {}
    for name, axis in (("y", spec.y), ("x", spec.x)):
        task = axis.task if axis.kind == "result" else "classification"
        dataset = axis.dataset if axis.kind == "result" else "imagenet_1k"
        tp = rel.tables["throughput"]
        axes[name] = {
            "datasets": [(d, rel.name("datasets", d)) for d in present("dataset_id", task)],
            "metrics": [(m, rel.name("metrics", m)) for m in TASK_METRICS[task] if m in metric_counts(rel, task, dataset)]
            or [(m, rel.name("metrics", m)) for m in TASK_METRICS[task]],
            "heads": [(h, rel.name("heads", h)) for h in present("head_id", task, dataset)],
            "res": present("resolution_px", task, dataset),
            "schedules": present("schedule", task, dataset),
            "gpus": [(x, rel.name("gpus", x)) for x in sorted(set(tp["gpu_id"].to_list()))],
            "precisions": [(x, rel.name("precisions", x)) for x in sorted(set(tp.filter(pl.col("gpu_id") == (axis.gpu or "")).get_column("precision_id").to_list()) or set(tp["precision_id"].to_list()))],
            **_latency_options(rel, axis),
        }
    return {
        "axes": axes,
        "axis_kinds": [("result", "Result"), ("params", "Parameters (M)"), ("gmacs", "GMACs"), ("throughput", "Throughput"),
                       ("latency", "Latency"), ("date", "Backbone first public")],
        "tasks": [(t, rel.name("tasks", t)) for t in TASK_METRICS],
        "families": sorted(rel.names["families"].items(), key=lambda kv: kv[1]),
        "pretrain_datasets": [(d, rel.name("datasets", d)) for d in present("pretrain_dataset_id")],
        "pretrain_methods": [(m, rel.name("pretraining_methods", m)) for m in present("pretrain_method_id")],
        "token_mixers": sorted(rel.names["token_mixers"].items(), key=lambda kv: kv[1]),
        "heads": [(h, rel.name("heads", h)) for h in present("head_id")],
        "res": present("resolution_px"),
        "categories": [(c, c.replace("_", " ").capitalize()) for c in CATEGORIES],
        "adaptations": [("any", "any protocol"), *((a, rel.name("adaptations", a)) for a in sorted(rel.names["adaptations"]))],
        "test_times": [("any", "any procedure"), ("standard", "standard for the metric"),
                       *((t, rel.name("test_time_procedures", t)) for t in sorted(rel.names["test_time_procedures"]))],
        "splits": [("any", "any split"), ("val", "val"), ("test_dev", "test-dev"), ("test", "test")],
        "seen": [(d, rel.name("datasets", d)) for d in rel.seen_datasets()],
    }


def _latency_options(rel: Release, axis: Any) -> dict[str, list]:
    lat = rel.tables["latency"]
    on_device = lat.filter(pl.col("device_id") == axis.device)
    here = on_device.filter(pl.col("runtime_id") == axis.runtime)
    return {
        "devices": [(d, rel.name("devices", d)) for d in sorted(set(lat["device_id"].to_list()))],
        "runtimes": [(r, rel.name("runtimes", r)) for r in sorted(set(on_device["runtime_id"].to_list()))],
        "lat_precisions": [(p, rel.name("precisions", p)) for p in sorted(set(here["precision_id"].to_list()))],
    }


def _context(rel: Release, spec: Spec, every_row: bool = False) -> dict[str, Any]:
    """What the explorer's templates show; `every_row` adds every table row (the JSON twin's list), not only
    the page's."""
    sel, total = limit_points(select_points(rel, spec), MAX_POINTS)
    count = sel.points.height
    pages = max(1, -(-count // TABLE_PAGE))
    if spec.page > pages:
        raise BadQuery("page", str(spec.page), f"a page number from 1 to {pages}")
    start = (spec.page - 1) * TABLE_PAGE
    rows = table_rows(rel, sel, spec) if every_row else None
    page_rows = rows[start:start + TABLE_PAGE] if rows is not None else table_rows(rel, sel, spec, (start, start + TABLE_PAGE))
    ctx: dict[str, Any] = {"spec": spec, "sel": sel, "rows": rows, "count": count, "total": total, "query": spec.query(),
                           "page_rows": with_links(page_rows), "pages": pages, "first_row": start + 1,
                           "pareto_count": int(sel.points["pareto"].sum()) if count else 0,
                           "options": _form_options(rel, spec), "columns": TABLE_COLUMNS, "release": rel,
                           "datasette_link": datasette_link(rel, sel, spec) if count else "",
                           "mixed": mixed_contexts(rel, sel, spec),
                           "notices": [*spec.notices, *unconcerned_filters(rel, spec)],
                           "title": f"{sel.y_label} vs {sel.x_label}",
                           "reset_query": Spec(y=spec.y, x=spec.x, x_scale=spec.x_scale, y_scale=spec.y_scale,
                                               color=spec.color, marker=spec.marker, pareto=spec.pareto).query()}
    if count:
        ctx["plot_item"], ctx["legend"] = plot_item(rel, sel, spec)
    else:
        ctx["plot_item"] = None
        ctx["legend"] = None
    return ctx


def sort_link(spec: Spec, column: str) -> str:
    order = "asc" if spec.sort == column and spec.order == "desc" else "desc"
    return "?" + spec.query(sort=column, order=order, page=1)


@bp.app_template_global()
def explorer_page_link(spec: Spec, page: int) -> str:
    return "?" + spec.query(page=page)


@bp.app_template_filter("script_json")
def script_json(value: Any) -> Markup:
    """JSON for a <script type="application/json"> block: key order kept (Bokeh defines models
    at first use, so sorting keys would put references before definitions), HTML-significant
    characters escaped so data can never close the block."""
    text = json.dumps(value, separators=(",", ":"))
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("'", "\\u0027")):
        text = text.replace(char, escaped)
    return Markup(text)  # noqa: S704 - JSON with every HTML-significant character escaped above


@bp.app_template_global()
def explorer_sort_link(spec: Spec, column: str) -> str:
    return sort_link(spec, column)


@bp.app_context_processor
def release_in_footer() -> dict[str, Any]:
    """The release every page is read from, for the footer of every page (error pages included)."""
    try:
        return {"release_version": get_release().version}
    except (FileNotFoundError, OSError, ValueError):
        return {}


@bp.route("/")
def index() -> str:
    rel = get_release()
    spec = parse_spec(request.args, rel)
    return render_template("explorer.html", **_context(rel, spec))


@bp.route("/plot.json")
def plot_json() -> Response:
    rel = get_release()
    spec = parse_spec(request.args, rel)
    ctx = _context(rel, spec, every_row=True)
    return jsonify({
        "query": ctx["query"], "title": ctx["title"], "notices": ctx["notices"],
        "count": ctx["count"], "total": ctx["total"], "x_label": ctx["sel"].x_label, "y_label": ctx["sel"].y_label,
        "pairing": ctx["sel"].pairing, "plot": ctx["plot_item"],
        "main_html": render_template("_explorer_main.html", **ctx),
        "rows": [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()} for r in ctx["rows"]],
    })


@bp.route("/plot-region.json")
def plot_region() -> Response:
    """What the page redraws after a form change: its server-rendered region (the plot's item included),
    without the JSON twin's every-row list and second copy of the plot."""
    rel = get_release()
    spec = parse_spec(request.args, rel)
    ctx = _context(rel, spec)
    return jsonify({"query": ctx["query"], "title": ctx["title"], "main_html": render_template("_explorer_main.html", **ctx)})


CSV_COLUMNS = ("family", "backbone", "checkpoint", "pretraining", "chain", "head", "resolution", "schedule",
               "protocol", "y", "x", "source", "where", "citations", "date", "result_id",
               "x_source", "x_where", "x_head", "x_schedule", "x_protocol", "x_result_id", "batch_size", "tp_context")
CSV_HEADER = {"date": "backbone first public", "batch_size": "throughput batch size",
              "tp_context": "throughput layout, compile mode and framework",
              "x_source": "x source", "x_where": "x where", "x_head": "x head", "x_schedule": "x schedule",
              "x_protocol": "x protocol", "x_result_id": "x result_id"}


@bp.route("/plot.csv")
def plot_csv() -> Response:
    rel = get_release()
    spec = parse_spec(request.args, rel)
    sel = select_points(rel, spec)
    rows = table_rows(rel, sel, spec)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = [CSV_HEADER.get(c, c) for c in CSV_COLUMNS]
    header[CSV_COLUMNS.index("y")], header[CSV_COLUMNS.index("x")] = sel.y_label, sel.x_label
    writer.writerow([csv_cell(h) for h in header])
    for r in rows:
        writer.writerow([csv_cell(r[c]) for c in CSV_COLUMNS])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=heedless-backbones-{rel.version}.csv"})
