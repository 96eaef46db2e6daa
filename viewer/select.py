"""From a validated explorer state to the frame of plotted points (pure: no Flask, no I/O)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import polars as pl

from viewer.data import Release
from viewer.query import ANY, CATEGORY_COLUMN, DEFAULT_ADAPTATION, DEFAULT_SPLIT, STANDARD_TEST_TIME, Axis, Spec

# the test-time procedure that is standard for a metric: one crop or one scale, except that the
# multi-scale mIoU column is multi-scale by definition
NON_STANDARD = ("multi_crop", "tta", "multi_scale", "multi_scale_flip", "flip")
SCOPE_LABEL = {"backbone": "backbone only", "whole_model": "whole detector or segmentor"}

__all__ = ["CATEGORY_COLUMN", "Selection", "select_points"]


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
    return axis.kind == "throughput"  # latency, compute, params: lower is better


def axis_label(rel: Release, axis: Axis, base_task: str = "classification") -> str:
    """Human label of an axis, with units and context."""
    if axis.kind == "params":
        return "Parameters (M, backbone)"
    if axis.kind == "gmacs":
        return "GMACs (whole detector or segmentor)" if base_task in ("detection", "semantic_segmentation") else "GMACs"
    if axis.kind == "date":
        return "Date of the backbone's first public document"
    if axis.kind == "throughput":
        return f"Throughput (images/s, {rel.name('gpus', axis.gpu)}, {rel.name('precisions', axis.precision)})"
    if axis.kind == "latency":
        return (f"Latency (ms, {rel.name('devices', axis.device)}, {rel.name('runtimes', axis.runtime)}, "
                f"{rel.name('precisions', axis.precision)})")
    parts = [rel.name("datasets", axis.dataset), rel.name("metrics", axis.metric)]
    if axis.head:
        parts.append(rel.name("heads", axis.head))
    if axis.res is not None:
        parts.append(f"{axis.res}px")
    if axis.schedule is not None:
        parts.append(f"{axis.schedule} {'epochs' if axis.task == 'detection' else 'iterations'}")
    return " ".join(parts[:2]) + (f" ({', '.join(parts[2:])})" if parts[2:] else "")


def result_values(rel: Release, axis: Axis, spec: Spec | None = None) -> pl.DataFrame:
    """The result values an axis selects, under the spec's protocol filters (like with like by default)."""
    frame = rel.series(axis.task, axis.dataset, axis.metric)
    if axis.head:
        frame = frame.filter(pl.col("head_id") == axis.head)
    if axis.res is not None:
        frame = frame.filter(pl.col("resolution_px") == axis.res)
    if axis.schedule is not None:
        frame = frame.filter(pl.col("schedule") == axis.schedule)
    spec = spec or Spec()
    # the Filters panel's head and resolution apply to each result axis whose dataset has one of them
    for chosen, column in ((spec.head, "head_id"), (spec.res, "resolution_px")):
        if chosen and set(map(str, chosen)) & set(rel.present(column, axis.task, axis.dataset)):
            frame = frame.filter(pl.col(column).is_in(list(chosen)))
    return protocol_filter(frame, spec, axis.metric)


def unconcerned_filters(rel: Release, spec: Spec) -> list[str]:
    """Head and resolution filters that no axis of the plot concerns (so they change nothing)."""
    axes = [a for a in (spec.x, spec.y) if a.kind == "result"] or [Axis()]
    out = []
    for chosen, column, what in ((spec.head, "head_id", "head"), (spec.res, "resolution_px", "resolution")):
        if chosen and not any(set(map(str, chosen)) & set(rel.present(column, a.task, a.dataset)) for a in axes):
            out.append(f"The {what} filter changes nothing here: no axis shows results with that {what}.")
    return out


def protocol_filter(frame: pl.DataFrame, spec: Spec, metric: str) -> pl.DataFrame:
    """Keep the values measured the way the spec asks (adaptation, test time, split, data seen)."""
    adaptation = spec.adaptation or DEFAULT_ADAPTATION
    if adaptation != (ANY,):
        frame = frame.filter(pl.col("adaptation_id").is_in(list(adaptation)))
    test_time = spec.test_time or (STANDARD_TEST_TIME,)
    if test_time != (ANY,):
        chosen = [t for t in test_time if t != STANDARD_TEST_TIME]
        keep = pl.col("test_time_id").is_in(chosen)
        if STANDARD_TEST_TIME in test_time:
            standard = pl.col("test_time_id").is_in(["multi_scale", "multi_scale_flip"]) if metric == "miou_ms" else (
                ~pl.col("test_time_id").is_in(list(NON_STANDARD)) | pl.col("test_time_id").is_null())
            keep = keep | standard
        frame = frame.filter(keep)
    split = spec.split or DEFAULT_SPLIT
    if split != (ANY,):
        frame = frame.filter(pl.col("split_kind").is_in(list(split)))
    if spec.seen:
        allowed = pl.lit(list(spec.seen), dtype=pl.List(pl.String))
        frame = frame.filter(
            pl.col("training_data_seen").str.split(",").list.set_difference(allowed).list.len() == 0
        )
    if spec.extra:
        frame = frame.filter(pl.col("extra_training_data") == (spec.extra == "yes"))
    return frame


def _best_per_checkpoint(frame: pl.DataFrame, higher: bool) -> pl.DataFrame:
    return frame.sort(["checkpoint_id", "value", "result_id"], descending=[False, higher, False]).unique(
        "checkpoint_id", keep="first", maintain_order=True
    )


def tp_context_expr() -> pl.Expr:
    """'NHWC, compiled, PyTorch 2.9.1, CUDA 13.0': the memory layout, compile mode and framework a throughput
    figure was measured with, as far as its document states them (null when it states none)."""
    parts = [pl.col("memory_layout").str.to_uppercase(), pl.col("compile_mode"), pl.col("framework")]
    return pl.concat_str(parts, separator=", ", ignore_nulls=True).replace("", None).alias("tp_context")


def _throughput(rel: Release, axis: Axis, base: pl.DataFrame) -> pl.DataFrame:
    tp = rel.tables["throughput"].filter((pl.col("gpu_id") == axis.gpu) & (pl.col("precision_id") == axis.precision))
    best = tp.sort(["images_per_s", "throughput_id"], descending=[True, False]).with_columns(tp_context_expr())
    cls = best.filter(pl.col("task_id") == "classification").unique(["backbone_id", "resolution_px"], keep="first")
    down = best.filter(pl.col("task_id") != "classification").unique(["backbone_id", "task_id", "head_id"], keep="first")
    keep = ["images_per_s", "batch_size", "tp_context", "source_id", "where"]
    on_cls = base.filter(pl.col("task_id") == "classification").join(
        cls.select("backbone_id", "resolution_px", *keep).rename({"source_id": "x_source_id", "where": "x_where"}),
        on=["backbone_id", "resolution_px"], how="inner", validate="m:1")
    on_down = base.filter(pl.col("task_id") != "classification").join(
        down.select("backbone_id", "task_id", "head_id", *keep).rename({"source_id": "x_source_id", "where": "x_where"}),
        on=["backbone_id", "task_id", "head_id"], how="inner", validate="m:1")
    return pl.concat([on_cls, on_down], how="vertical_relaxed").with_columns(pl.col("images_per_s").alias("other"))


def _latency(rel: Release, axis: Axis, base: pl.DataFrame) -> pl.DataFrame:
    lat = rel.tables["latency"].filter(
        (pl.col("device_id") == axis.device) & (pl.col("runtime_id") == axis.runtime)
        & (pl.col("precision_id") == axis.precision) & (pl.col("task_id") == "classification")
    )
    best = lat.sort(["latency_ms", "latency_id"]).unique(["backbone_id", "resolution_px"], keep="first")
    keep: list[str | pl.Expr] = ["latency_ms", "batch_size", pl.col("source_id").alias("x_source_id"),
                                 pl.col("where").alias("x_where")]
    cls = base.filter(pl.col("task_id") == "classification")
    exact = cls.join(best.filter(pl.col("resolution_px").is_not_null()).select("backbone_id", "resolution_px", *keep),
                     on=["backbone_id", "resolution_px"], how="inner", validate="m:1")
    # a latency whose document states no resolution pairs with the backbone's results at any resolution
    # (the tooltip and the table say so), unless a latency at the result's own resolution exists
    unstated = cls.join(best.filter(pl.col("resolution_px").is_null()).select("backbone_id", *keep),
                        on="backbone_id", how="inner", validate="m:1").with_columns(
        pl.col("x_where") + " (resolution not stated)")
    both = pl.concat([exact, unstated.join(exact.select("result_id"), on="result_id", how="anti")], how="vertical_relaxed")
    return both.with_columns(pl.col("latency_ms").alias("other")).drop("latency_ms")


MEASURE_PROVENANCE = ("images_per_s", "batch_size", "tp_context", "x_source_id", "x_where")


def _two_measures(rel: Release, spec: Spec) -> tuple[pl.DataFrame, str]:
    """Neither axis is a result: each point is one backbone at one ImageNet-1k evaluation resolution
    (from its results under the protocol filters), once per distinct pair of values."""
    base_axis = Axis()
    base = result_values(rel, base_axis, spec)
    with_x, _ = _pair(rel, base_axis, spec.x, spec, base)
    with_x = with_x.rename({"other": "x_measure"})
    if spec.y.kind in ("throughput", "latency"):
        with_x = with_x.drop([c for c in MEASURE_PROVENANCE if c in with_x.columns])
    both, _ = _pair(rel, base_axis, spec.y, spec, with_x)
    both = both.rename({"other": "y_measure"}).filter(pl.col("x_measure").is_not_null() & pl.col("y_measure").is_not_null())
    both = both.sort("result_id").unique(["backbone_id", "resolution_px", "x_measure", "y_measure"], keep="first",
                                         maintain_order=True)
    note = (f"Neither axis is a result: each point is one backbone at one evaluation resolution, taken from its "
            f"{axis_label(rel, base_axis)} results under the protocol filters, once per distinct pair of values.")
    return both, note


def _pair(rel: Release, base_axis: Axis, other: Axis, spec: Spec, base: pl.DataFrame | None = None) -> tuple[pl.DataFrame, str]:
    base = result_values(rel, base_axis, spec) if base is None else base
    if other.kind == "params":
        return base.with_columns(pl.col("params_m").alias("other")), "Each point is one result; parameters are its backbone's (never the detector's)."
    if other.kind == "gmacs":
        return base.with_columns(pl.col("gmacs").alias("other")), (
            "Each point is one result, with the GMACs its source gives for it: "
            + ("the backbone alone." if base_axis.task == "classification" else
               "for detection and segmentation, the whole detector or segmentor at its input size, while parameters are the backbone's.")
        )
    if other.kind == "date":
        return base.with_columns(pl.col("first_published").alias("other")), (
            "Each point is one result, dated by its backbone's first public document (paper or model zoo).")
    if other.kind == "latency":
        return _latency(rel, other, base), (
            "Each point is one classification result paired with its backbone's lowest latency measured on the chosen "
            "device, runtime and precision at the result's evaluation resolution (or at a resolution its document does "
            "not state, said in the tooltip). Latency is milliseconds as the source states it, never converted from or "
            "into throughput; other devices, runtimes and precisions are never mixed in."
        )
    if other.kind == "throughput":
        return _throughput(rel, other, base), (
            "Each point is one result paired with its backbone's fastest throughput figure measured on the chosen "
            "GPU and precision, at the result's evaluation resolution (classification) or with the same head (downstream). "
            "Figures from other GPUs or precisions are never mixed in."
        )
    hb, ho = _higher_is_better(rel, base_axis), _higher_is_better(rel, other)
    provenance = [pl.col("value").alias("other"), pl.col("result_id").alias("x_result_id"),
                  pl.col("source_id").alias("x_source_id"), pl.col("where").alias("x_where"),
                  pl.col("head_id").alias("x_head_id"), pl.col("schedule").alias("x_schedule"),
                  pl.col("eval_split").alias("x_split"), pl.col("adaptation_id").alias("x_adaptation_id"),
                  pl.col("test_time_id").alias("x_test_time_id")]
    if spec.pairing == "same":
        keys = ["checkpoint_id", "head_id", "schedule", "chain"]
        left = base.sort(["value", "result_id"], descending=[hb, False]).unique(keys, keep="first", maintain_order=True)
        right = result_values(rel, other, spec).sort(["value", "result_id"], descending=[ho, False]).unique(
            keys, keep="first", maintain_order=True).select(*keys, *provenance)
        pairing = (
            f"Paired by checkpoint, head, schedule and chain: each point is one {axis_label(rel, base_axis)} and the "
            f"{axis_label(rel, other)} of the same checkpoint trained the same way. Axes of different tasks never pair this way."
        )
        return left.join(right, on=keys, how="inner", validate="1:1", nulls_equal=True), pairing
    left = _best_per_checkpoint(base, hb)
    right = _best_per_checkpoint(result_values(rel, other, spec), ho).select("checkpoint_id", *provenance)
    pairing = (
        f"Paired by checkpoint: each point is one checkpoint's best {axis_label(rel, base_axis)} and its best "
        f"{axis_label(rel, other)} (any head and schedule; each side's head, schedule, split and source are in the "
        f"tooltip and the table). Both sides pass the same protocol filters, so a test-dev number never meets a val one "
        f"unless the split filter asks for both."
    )
    return left.join(right, on="checkpoint_id", how="inner", validate="1:1"), pairing


def _filters(frame: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    for name, column in (("family", "family_id"), ("pretrain_dataset", "pretrain_dataset_id"),
                         ("pretrain_method", "pretrain_method_id"), ("token_mixer", "token_mixer_id")):
        chosen = getattr(spec, name)
        if chosen:
            frame = frame.filter(pl.col(column).is_in(list(chosen)))
    if spec.hierarchical:
        frame = frame.filter(pl.col("hierarchical") == (spec.hierarchical == "yes"))
    if spec.commercial:
        frame = frame.filter(pl.col("commercial_use").fill_null(False))
    if spec.date_from:
        frame = frame.filter(pl.col("first_published") >= spec.date_from)
    if spec.date_to:
        frame = frame.filter(pl.col("first_published") <= spec.date_to)
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
    if spec.x.kind != "result" and spec.y.kind != "result":
        base_axis = Axis()
        frame, pairing = _two_measures(rel, spec)
        x_col, y_col = "x_measure", "y_measure"
    else:
        base_is_y = spec.y.kind == "result"
        base_axis, other_axis = (spec.y, spec.x) if base_is_y else (spec.x, spec.y)
        frame, pairing = _pair(rel, base_axis, other_axis, spec)
        frame = frame.filter(pl.col("other").is_not_null())
        x_col, y_col = ("other", "value") if base_is_y else ("value", "other")
    frame = frame.with_columns(pl.col(x_col).alias("x"), pl.col(y_col).alias("y"))
    for missing in ("x_result_id", "x_source_id", "x_where", "images_per_s", "batch_size", "tp_context", "x_head_id", "x_schedule",
                    "x_split", "x_adaptation_id", "x_test_time_id"):
        if missing not in frame.columns:
            dtype = pl.Float64 if missing == "images_per_s" else pl.Int64 if missing in ("batch_size", "x_schedule") else pl.String
            frame = frame.with_columns(pl.lit(None, dtype).alias(missing))
    frame = _filters(frame, spec)
    xh, yh = _higher_is_better(rel, spec.x), _higher_is_better(rel, spec.y)
    if spec.x.kind == "date":
        xh = False  # earlier is better: the frontier is the state of the art over time
    frame = frame.sort("result_id")
    mask = pareto_mask(frame["x"].cast(pl.Float64) if frame.schema["x"] != pl.Date else frame["x"].cast(pl.Int32),
                       frame["y"].cast(pl.Float64) if frame.schema["y"] != pl.Date else frame["y"].cast(pl.Int32), xh, yh) \
        if frame.height else pl.Series("pareto", [], pl.Boolean)
    frame = frame.with_columns(mask)
    task = base_axis.task
    return Selection(frame, axis_label(rel, spec.x, task), axis_label(rel, spec.y, task), pairing, xh, yh)


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


MIXABLE = (
    ("adaptation_id", "adaptation", "adaptations", "evaluation protocols"),
    ("test_time_id", "test_time", "test_time_procedures", "test-time procedures"),
    ("split_kind", "split", None, "evaluation splits"),
)


def mixed_contexts(rel: Release, sel: Selection, spec: Spec) -> list[dict[str, object]]:
    """What the plotted points mix (protocols, test-time procedures, splits, batch sizes), each value with its
    count and the query that narrows the plot to it."""
    points = sel.points
    out: list[dict[str, object]] = []
    for column, param, vocab, what in MIXABLE:
        values = [v for v in points.get_column(column).to_list()]
        if f"x_{column}" in points.columns and spec.x.kind == "result" and spec.y.kind == "result":
            values += [v for v in points.get_column(f"x_{column}").to_list() if v is not None] if column != "split_kind" else []
        counts: dict[str, int] = {}
        for v in values:
            key = "-" if v is None else str(v)
            counts[key] = counts.get(key, 0) + 1
        if len(counts) > 1:
            choices = []
            for value, n in sorted(counts.items(), key=lambda kv: -kv[1]):
                label = rel.name(vocab, value) if vocab else value.replace("_", "-")
                narrow = spec.query(**{param: (value if value != "-" else STANDARD_TEST_TIME,), "page": 1})
                choices.append({"label": label, "count": n, "query": narrow})
            out.append({"what": what, "choices": choices})
    if {"throughput", "latency"} & {spec.x.kind, spec.y.kind}:
        batches = {b for b in points.get_column("batch_size").to_list()}
        if len(batches) > 1:
            shown = ", ".join(sorted(str(b) if b is not None else "not stated" for b in batches))
            out.append({"what": "batch sizes", "choices": [], "note": f"batch sizes {shown}"})
    if "throughput" in (spec.x.kind, spec.y.kind):
        contexts = Counter(c or "layout, compile mode and framework not stated"
                           for c in points.get_column("tp_context").to_list())
        if len(contexts) > 1:
            shown = "; ".join(f"{k} ({n})" for k, n in sorted(contexts.items(), key=lambda kv: (-kv[1], kv[0])))
            out.append({"what": "throughput measurement contexts", "choices": [], "note": (
                "each point takes its backbone's fastest figure on this GPU and precision, whatever its memory "
                f"layout, compile mode and framework: {shown}")})
    return out
