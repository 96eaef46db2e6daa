"""From a validated explorer state to the frame of plotted points (pure: no Flask, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from viewer.data import Release
from viewer.query import Axis, Spec

CATEGORY_COLUMN = {
    "family": "family_id",
    "pretrain_dataset": "pretrain_dataset_id",
    "pretrain_method": "pretrain_method_id",
    "head": "head_id",
    "resolution": "resolution_px",
    "schedule": "schedule",
    "token_mixer": "token_mixer_id",
}


@dataclass(frozen=True)
class Selection:
    """The plotted points, and how they were chosen."""

    points: pl.DataFrame  # one row per point: x, y, and the base result's attributes
    x_label: str
    y_label: str
    pairing: str
    x_higher_is_better: bool
    y_higher_is_better: bool


def _higher_is_better(rel: Release, axis: Axis) -> bool:
    if axis.kind == "result":
        metrics = rel.tables["metrics"]
        row = metrics.filter(pl.col("metric_id") == axis.metric)
        return bool(row.get_column("higher_is_better")[0]) if row.height else True
    return axis.kind == "throughput"


def axis_label(rel: Release, axis: Axis) -> str:
    """Human label of an axis, with units and context."""
    if axis.kind == "params":
        return "Parameters (M)"
    if axis.kind == "gmacs":
        return "GMACs"
    if axis.kind == "date":
        return "Publication date"
    if axis.kind == "throughput":
        return f"Throughput (images/s, {rel.name('gpus', axis.gpu)}, {rel.name('precisions', axis.precision)})"
    parts = [rel.name("datasets", axis.dataset), rel.name("metrics", axis.metric)]
    if axis.head:
        parts.append(rel.name("heads", axis.head))
    if axis.res is not None:
        parts.append(f"{axis.res}px")
    if axis.schedule is not None:
        parts.append(f"{axis.schedule} {'epochs' if axis.task == 'detection' else 'iterations'}")
    return " ".join(parts[:2]) + (f" ({', '.join(parts[2:])})" if parts[2:] else "")


def result_values(rel: Release, axis: Axis) -> pl.DataFrame:
    """The result values an axis selects."""
    frame = rel.series(axis.task, axis.dataset, axis.metric)
    if axis.head:
        frame = frame.filter(pl.col("head_id") == axis.head)
    if axis.res is not None:
        frame = frame.filter(pl.col("resolution_px") == axis.res)
    if axis.schedule is not None:
        frame = frame.filter(pl.col("schedule") == axis.schedule)
    return frame


def _best_per_checkpoint(frame: pl.DataFrame, higher: bool) -> pl.DataFrame:
    return frame.sort(["checkpoint_id", "value", "result_id"], descending=[False, higher, False]).unique(
        "checkpoint_id", keep="first", maintain_order=True
    )


def _throughput(rel: Release, axis: Axis, base: pl.DataFrame) -> pl.DataFrame:
    tp = rel.tables["throughput"].filter((pl.col("gpu_id") == axis.gpu) & (pl.col("precision_id") == axis.precision))
    best = tp.sort(["images_per_s", "throughput_id"], descending=[True, False])
    cls = best.filter(pl.col("task_id") == "classification").unique(["backbone_id", "resolution_px"], keep="first")
    down = best.filter(pl.col("task_id") != "classification").unique(["backbone_id", "task_id", "head_id"], keep="first")
    keep = ["images_per_s", "batch_size", "source_id", "where"]
    on_cls = base.filter(pl.col("task_id") == "classification").join(
        cls.select("backbone_id", "resolution_px", *keep).rename({"source_id": "x_source_id", "where": "x_where"}),
        on=["backbone_id", "resolution_px"], how="inner", validate="m:1")
    on_down = base.filter(pl.col("task_id") != "classification").join(
        down.select("backbone_id", "task_id", "head_id", *keep).rename({"source_id": "x_source_id", "where": "x_where"}),
        on=["backbone_id", "task_id", "head_id"], how="inner", validate="m:1")
    return pl.concat([on_cls, on_down], how="vertical_relaxed").with_columns(pl.col("images_per_s").alias("other"))


def _pair(rel: Release, base_axis: Axis, other: Axis) -> tuple[pl.DataFrame, str]:
    base = result_values(rel, base_axis)
    if other.kind == "params":
        return base.with_columns(pl.col("params_m").alias("other")), "Each point is one result; parameters are its backbone's."
    if other.kind == "gmacs":
        return base.with_columns(pl.col("gmacs").alias("other")), "Each point is one result, with the GMACs its source gives for it."
    if other.kind == "date":
        return base.with_columns(pl.col("published").alias("other")), "Each point is one result, dated by its source's first publication."
    if other.kind == "throughput":
        return _throughput(rel, other, base), (
            "Each point is one result paired with its backbone's fastest throughput figure measured on the chosen "
            "GPU and precision, at the result's evaluation resolution (classification) or with the same head (downstream). "
            "Figures from other GPUs or precisions are never mixed in."
        )
    hb, ho = _higher_is_better(rel, base_axis), _higher_is_better(rel, other)
    left = _best_per_checkpoint(base, hb)
    right = _best_per_checkpoint(result_values(rel, other), ho).select(
        "checkpoint_id", pl.col("value").alias("other"), pl.col("result_id").alias("x_result_id"),
        pl.col("source_id").alias("x_source_id"), pl.col("where").alias("x_where"))
    pairing = (
        f"Paired by checkpoint: each point is one checkpoint's best {axis_label(rel, base_axis)} and its best "
        f"{axis_label(rel, other)}, read from the same checkpoint's results (sources may differ)."
    )
    return left.join(right, on="checkpoint_id", how="inner", validate="1:1"), pairing


def _filters(frame: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    for name, column in (("family", "family_id"), ("pretrain_dataset", "pretrain_dataset_id"),
                         ("pretrain_method", "pretrain_method_id"), ("token_mixer", "token_mixer_id"),
                         ("head", "head_id"), ("res", "resolution_px")):
        chosen = getattr(spec, name)
        if chosen:
            frame = frame.filter(pl.col(column).is_in(list(chosen)))
    if spec.hierarchical:
        frame = frame.filter(pl.col("hierarchical") == (spec.hierarchical == "yes"))
    if spec.date_from:
        frame = frame.filter(pl.col("published") >= spec.date_from)
    if spec.date_to:
        frame = frame.filter(pl.col("published") <= spec.date_to)
    for name, lo, hi in (("x", spec.x_min, spec.x_max), ("y", spec.y_min, spec.y_max)):
        value = pl.col(name)
        if frame.schema[name] == pl.Date:
            value = value.dt.year()  # date axes filter by year
        if lo is not None:
            frame = frame.filter(value >= lo)
        if hi is not None:
            frame = frame.filter(value <= hi)
    return frame


def pareto_mask(x: pl.Series, y: pl.Series, x_higher: bool, y_higher: bool) -> pl.Series:
    """True for points no other point beats on both axes (ties do not dominate)."""
    frame = pl.DataFrame({"sx": x.cast(pl.Float64) * (1 if x_higher else -1), "sy": y.cast(pl.Float64) * (1 if y_higher else -1)})
    frame = frame.with_row_index("i")
    groups = (
        frame.group_by("sx").agg(pl.col("sy").max().alias("same_best")).sort("sx", descending=True)
        .with_columns(pl.col("same_best").cum_max().shift(1).alias("better_best"))
    )
    marked = frame.join(groups, on="sx", how="left", validate="m:1").sort("i")
    return ((marked["sy"] >= marked["same_best"]) & (marked["better_best"].is_null() | (marked["sy"] > marked["better_best"]))).alias("pareto")


def select_points(rel: Release, spec: Spec) -> Selection:
    """Points for the explorer: pair the axes, apply filters, mark the Pareto frontier."""
    base_is_y = spec.y.kind == "result"
    base_axis, other_axis = (spec.y, spec.x) if base_is_y else (spec.x, spec.y)
    frame, pairing = _pair(rel, base_axis, other_axis)
    frame = frame.filter(pl.col("other").is_not_null())
    x_col, y_col = ("other", "value") if base_is_y else ("value", "other")
    frame = frame.with_columns(pl.col(x_col).alias("x"), pl.col(y_col).alias("y"))
    for missing in ("x_result_id", "x_source_id", "x_where", "images_per_s", "batch_size"):
        if missing not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Float64 if missing == "images_per_s" else pl.Int64 if missing == "batch_size" else pl.String).alias(missing))
    frame = _filters(frame, spec)
    xh, yh = _higher_is_better(rel, spec.x), _higher_is_better(rel, spec.y)
    if spec.x.kind == "date":
        xh = False  # earlier is better: the frontier is the state of the art over time
    frame = frame.sort("result_id")
    mask = pareto_mask(frame["x"].cast(pl.Float64) if frame.schema["x"] != pl.Date else frame["x"].cast(pl.Int32),
                       frame["y"].cast(pl.Float64) if frame.schema["y"] != pl.Date else frame["y"].cast(pl.Int32), xh, yh) \
        if frame.height else pl.Series("pareto", [], pl.Boolean)
    frame = frame.with_columns(mask)
    return Selection(frame, axis_label(rel, spec.x), axis_label(rel, spec.y), pairing, xh, yh)


def limit_points(sel: Selection, max_points: int) -> tuple[Selection, int]:
    """At most max_points points: the whole Pareto frontier first, then the best by Y.
    Returns the selection and how many points it had before."""
    total = sel.points.height
    if total <= max_points:
        return sel, total
    ranked = sel.points.with_row_index("_i").sort(
        ["pareto", "y", "result_id"], descending=[True, sel.y_higher_is_better, False], nulls_last=True
    )
    kept = ranked.head(max_points).sort("_i").drop("_i")
    return Selection(kept, sel.x_label, sel.y_label, sel.pairing, sel.x_higher_is_better, sel.y_higher_is_better), total


def category_value(frame: pl.DataFrame, category: str) -> pl.Series:
    """The grouping column for colour or marker, as text ('-' when missing)."""
    if category == "none":
        return pl.Series("group", ["all"] * frame.height)
    return frame.get_column(CATEGORY_COLUMN[category]).cast(pl.String).fill_null("-")
