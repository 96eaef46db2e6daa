"""Explorer state: parsed from the query string, validated, and written back to it.

Every value is checked against the release's own vocabulary; a bad one raises BadQuery,
which the app answers with a 400 page naming the parameter and its valid choices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

import polars as pl
from werkzeug.datastructures import MultiDict

from viewer.data import TASK_METRICS, Release

AXIS_KINDS = ("result", "params", "gmacs", "throughput", "latency", "date")
CATEGORIES = ("family", "pretrain_dataset", "pretrain_method", "head", "resolution", "schedule", "token_mixer", "none")
DEFAULT_DATASET = {"classification": "imagenet_1k", "detection": "coco", "semantic_segmentation": "ade20k"}
DEFAULT_METRIC = {"classification": "top1", "detection": "box_ap", "semantic_segmentation": "miou_ms"}
MULTI = ("family", "pretrain_dataset", "pretrain_method", "token_mixer", "head", "res",
         "adaptation", "test_time", "split", "seen", "hide", "highlight")
LOG_KINDS = ("params", "gmacs", "throughput", "latency")  # these span decades: a log axis by default
OTHER_GROUP = "__other__"  # the legend entry that gathers the smallest colour groups
CATEGORY_COLUMN = {
    "family": "family_id",
    "pretrain_dataset": "pretrain_dataset_id",
    "pretrain_method": "pretrain_method_id",
    "head": "head_id",
    "resolution": "resolution_px",
    "schedule": "schedule",
    "token_mixer": "token_mixer_id",
}
SCALARS = ("hierarchical", "date_from", "date_to", "x_min", "x_max", "y_min", "y_max", "color", "marker",
           "x_scale", "y_scale", "pareto", "sort", "order", "page", "extra", "pairing", "commercial")
ANY = "any"  # a protocol filter set to 'any' compares every protocol; absent, it compares like with like
# Like with like by default: fine-tuned, the metric's standard test-time procedure, validation splits
DEFAULT_ADAPTATION = ("fine_tune",)
STANDARD_TEST_TIME = "standard"  # single crop / single scale, or the multi-scale column's own procedure
DEFAULT_SPLIT = ("val",)
SPLIT_KINDS = ("val", "test_dev", "test")
AXIS_PARAMS = ("", "_task", "_dataset", "_metric", "_head", "_res", "_schedule", "_gpu", "_precision", "_device", "_runtime")
KNOWN = {f"{a}{p}" for a in "xy" for p in AXIS_PARAMS} | set(MULTI) | set(SCALARS)


class BadQuery(ValueError):
    """A query parameter with a value the explorer cannot use."""

    def __init__(self, param: str, value: str, choices: Iterable[str] | str):
        self.param, self.value = param, value
        self.choices = choices if isinstance(choices, str) else ", ".join(str(c) for c in choices) or "(none)"
        super().__init__(f"'{value}' is not a valid value for '{param}'; valid: {self.choices}")


@dataclass(frozen=True)
class Axis:
    """What one axis shows."""

    kind: str = "result"
    task: str = "classification"
    dataset: str = "imagenet_1k"
    metric: str = "top1"
    head: str = ""
    res: int | None = None
    schedule: int | None = None
    gpu: str = ""
    precision: str = ""
    device: str = ""
    runtime: str = ""

    def params(self, prefix: str) -> dict[str, str]:
        out = {prefix: self.kind}
        if self.kind == "result":
            out.update({f"{prefix}_task": self.task, f"{prefix}_dataset": self.dataset, f"{prefix}_metric": self.metric})
            if self.head:
                out[f"{prefix}_head"] = self.head
            if self.res is not None:
                out[f"{prefix}_res"] = str(self.res)
            if self.schedule is not None:
                out[f"{prefix}_schedule"] = str(self.schedule)
        if self.kind == "throughput":
            out.update({f"{prefix}_gpu": self.gpu, f"{prefix}_precision": self.precision})
        if self.kind == "latency":
            out.update({f"{prefix}_device": self.device, f"{prefix}_runtime": self.runtime,
                        f"{prefix}_precision": self.precision})
        return out


@dataclass(frozen=True)
class Spec:
    """The whole explorer state."""

    y: Axis = field(default_factory=Axis)
    x: Axis = field(default_factory=lambda: Axis(kind="gmacs"))
    family: tuple[str, ...] = ()
    pretrain_dataset: tuple[str, ...] = ()
    pretrain_method: tuple[str, ...] = ()
    token_mixer: tuple[str, ...] = ()
    head: tuple[str, ...] = ()
    res: tuple[int, ...] = ()
    adaptation: tuple[str, ...] = ()  # () = DEFAULT_ADAPTATION; ("any",) = every protocol
    test_time: tuple[str, ...] = ()  # () = the standard procedure of the metric; ("any",) = all
    split: tuple[str, ...] = ()  # split kinds; () = DEFAULT_SPLIT; ("any",) = all
    seen: tuple[str, ...] = ()  # keep results whose weights saw only these datasets (any stage)
    extra: str = ""  # "", "yes", "no": extra training data relative to the evaluation dataset
    commercial: str = ""  # "yes": only weights whose licence allows commercial use
    pairing: str = "best"  # result vs result: each checkpoint's best ("best") or same head and schedule ("same")
    hierarchical: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    x_min: float | None = None
    x_max: float | None = None
    y_min: float | None = None
    y_max: float | None = None
    color: str = "family"
    marker: str = "pretrain_dataset"
    x_scale: str = "log"
    y_scale: str = "linear"
    pareto: bool = False
    sort: str = ""
    order: str = "desc"
    page: int = 1  # page of the table (the plot always shows every point)
    highlight: tuple[str, ...] = ()  # backbone or checkpoint ids whose points stand out; filters nothing
    hide: tuple[str, ...] = ()  # colour groups hidden from the plot (legend clicks)
    notices: tuple[str, ...] = ()  # requested values this release cannot honour, said on the page (not in the URL)

    def query(self, **changes: object) -> str:
        """The query string of this state (with changes), defaults included: a permalink."""
        spec = replace(self, **changes) if changes else self  # type: ignore[arg-type]
        pairs: list[tuple[str, str]] = [*spec.y.params("y").items(), *spec.x.params("x").items()]
        for name in MULTI:
            pairs += [(name, str(v)) for v in getattr(spec, name)]
        for name in SCALARS:
            value = getattr(spec, name)
            if name == "pareto":
                value = "1" if value else ""
            if value not in (None, "") and not (name == "order" and value == "desc") and not (name == "page" and value == 1) \
                    and not (name == "pairing" and value == "best"):
                pairs.append((name, value.isoformat() if isinstance(value, dt.date) else f"{value:g}" if isinstance(value, float) else str(value)))
        return urlencode(pairs)


def _one(args: MultiDict, name: str, default: str = "") -> str:
    values = args.getlist(name)
    if len(values) > 1:
        raise BadQuery(name, ",".join(values), "a single value")
    return values[0] if values else default


def _choice(args: MultiDict, name: str, choices: list[str], default: str) -> str:
    value = _one(args, name, default)
    if value not in choices:
        raise BadQuery(name, value, choices)
    return value


def _float(args: MultiDict, name: str, minimum: float | None = None) -> float | None:
    """A finite number (at least `minimum` when given), or None when the parameter is absent or empty."""
    value = _one(args, name)
    if value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise BadQuery(name, value, "a number") from None
    if number != number or number in (float("inf"), float("-inf")) or (minimum is not None and number < minimum):
        raise BadQuery(name, value, "a finite number" + (f", {minimum:g} or more" if minimum is not None else ""))
    return number


def _date(args: MultiDict, name: str) -> dt.date | None:
    value = _one(args, name)
    if value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadQuery(name, value, "a date written YYYY-MM-DD") from None


def _axis(args: MultiDict, prefix: str, default_kind: str, default: Axis, rel: Release, notes: list[str]) -> Axis:
    """One axis from its parameters; `default` gives the task, dataset and metric a result axis starts on."""
    kind = _choice(args, prefix, list(AXIS_KINDS), default_kind)
    if kind == "throughput":
        tp = rel.tables["throughput"]
        # default: the GPU with the most figures, preferring a stated one over 'unknown'
        gpus = (tp.group_by("gpu_id").len().with_columns((pl.col("gpu_id") != "unknown").alias("known"))
                .sort(["known", "len", "gpu_id"], descending=[True, True, False]).get_column("gpu_id").to_list())
        gpu = _choice(args, f"{prefix}_gpu", sorted(gpus), gpus[0] if gpus else "")
        on_gpu = tp.filter(pl.col("gpu_id") == gpu)
        precisions = on_gpu.group_by("precision_id").len().sort(["len", "precision_id"], descending=[True, False]).get_column("precision_id").to_list()
        precision = _fitting(args, f"{prefix}_precision", sorted(precisions),
                             sorted(set(tp.get_column("precision_id").to_list())), precisions[0] if precisions else "",
                             notes, rel, "precisions", f"throughput on the {rel.name('gpus', gpu)}")
        return Axis(kind=kind, gpu=gpu, precision=precision)
    if kind == "latency":
        return _latency_axis(args, prefix, rel, notes)
    if kind != "result":
        return Axis(kind=kind)
    task = _choice(args, f"{prefix}_task", list(TASK_METRICS), default.task if default.kind == "result" else "classification")
    # A value the release knows but that does not apply to the chosen task or dataset (a permalink
    # asking for what this release lacks) falls back to the default, and the page says so; an
    # unknown value is an error.
    datasets = rel.present("dataset_id", task)
    fallback = DEFAULT_DATASET[task] if DEFAULT_DATASET[task] in datasets else (datasets[0] if datasets else "")
    if default.kind == "result" and default.task == task and default.dataset in datasets:
        fallback = default.dataset
    dataset = _fitting(args, f"{prefix}_dataset", datasets, rel.present("dataset_id"), fallback, notes, rel, "datasets",
                       rel.name("tasks", task))
    all_metrics = sorted({m for ms in TASK_METRICS.values() for m in ms})
    # metrics the chosen dataset has values for, in the task's order: choosing ImageNet-C offers mCE
    counts = metric_counts(rel, task, dataset)
    metrics = [m for m in TASK_METRICS[task] if m in counts] or TASK_METRICS[task]
    wanted = default.metric if default.kind == "result" and default.task == task else DEFAULT_METRIC[task]
    if dataset != DEFAULT_DATASET[task] or wanted not in counts:
        wanted = max(metrics, key=lambda m: counts.get(m, 0))  # the dataset's most reported metric
    metric = _fitting(args, f"{prefix}_metric", metrics, all_metrics, wanted,
                      notes, rel, "metrics", rel.name("datasets", dataset))
    head, res, schedule = (
        _fitting(args, f"{prefix}_{name}", ["", *rel.present(column, task, dataset)], ["", *rel.present(column)], "",
                 notes, rel, kind, rel.name("datasets", dataset))
        for name, column, kind in (("head", "head_id", "heads"), ("res", "resolution_px", ""), ("schedule", "schedule", ""))
    )
    return Axis(kind="result", task=task, dataset=dataset, metric=metric, head=head,
                res=int(res) if res else None, schedule=int(schedule) if schedule else None)


def metric_counts(rel: Release, task: str, dataset: str) -> dict[str, int]:
    """How many values each metric has on a dataset (memoised on the release, which never changes)."""
    key = ("metric_counts", task, dataset)
    if key not in rel._memo:
        values = rel.values.filter((pl.col("task_id") == task) & (pl.col("dataset_id") == dataset))
        rel._memo[key] = dict(values.group_by("metric_id").len().iter_rows())
    return rel._memo[key]  # type: ignore[no-any-return]


def _most_common(frame: pl.DataFrame, column: str) -> list[str]:
    """Values of a column, the most frequent first, a stated one before 'unknown'."""
    return (frame.group_by(column).len().with_columns((pl.col(column) != "unknown").alias("known"))
            .sort(["known", "len", column], descending=[True, True, False]).get_column(column).to_list())


def _latency_axis(args: MultiDict, prefix: str, rel: Release, notes: list[str]) -> Axis:
    """Latency on one device, runtime and precision: never mixed with another context."""
    lat = rel.tables["latency"]
    devices = _most_common(lat, "device_id")
    device = _choice(args, f"{prefix}_device", sorted(devices), devices[0] if devices else "")
    on_device = lat.filter(pl.col("device_id") == device)
    runtimes = _most_common(on_device, "runtime_id")
    runtime = _fitting(args, f"{prefix}_runtime", sorted(runtimes), sorted(set(lat["runtime_id"].to_list())),
                       runtimes[0] if runtimes else "", notes, rel, "runtimes", f"latency on {rel.name('devices', device)}")
    here = on_device.filter(pl.col("runtime_id") == runtime)
    precisions = _most_common(here, "precision_id")
    precision = _fitting(args, f"{prefix}_precision", sorted(precisions), sorted(set(lat["precision_id"].to_list())),
                         precisions[0] if precisions else "", notes, rel, "precisions",
                         f"latency on {rel.name('devices', device)} with {rel.name('runtimes', runtime)}")
    return Axis(kind="latency", device=device, runtime=runtime, precision=precision)


def _fitting(args: MultiDict, name: str, fitting: list[str], known: list[str], default: str,
             notes: list[str] | None = None, rel: Release | None = None, kind: str = "", where: str = "") -> str:
    """The requested value when it fits; the default (and a notice saying so) when the release knows the
    value but has nothing for it here; BadQuery when the value is unknown."""
    value = _one(args, name, default)
    if value in fitting:
        return value
    if value in known:
        if notes is not None and rel is not None:
            asked = rel.name(kind, value) if kind else value
            shown = (rel.name(kind, default) if kind else default) or "any"
            what = name.split("_", 1)[1].replace("res", "resolution") if "_" in name else name
            notes.append(f"This release has no {what} {asked} for {where} ({name}={value}); the plot shows {shown} instead.")
        return default
    raise BadQuery(name, value, fitting)


def _multi(args: MultiDict, name: str, choices: list[str]) -> tuple[str, ...]:
    values = [v for v in args.getlist(name) if v != ""]
    for v in values:
        if v not in choices:
            raise BadQuery(name, v, choices)
    return tuple(sorted(set(values)))


def parse_spec(args: MultiDict, rel: Release) -> Spec:
    """Validate the query string against the release; raise BadQuery on the first bad value."""
    for name in args.keys():
        if name not in KNOWN:
            raise BadQuery(name, args.get(name, ""), "known parameters: " + ", ".join(sorted(KNOWN)))
    default = Spec()
    notes: list[str] = []
    y = _axis(args, "y", default.y.kind, default.y, rel, notes)
    x = _axis(args, "x", default.x.kind, _other_result(y), rel, notes)
    color = _choice(args, "color", list(CATEGORIES), default.color)
    res = _multi(args, "res", rel.present("resolution_px"))
    adaptation = _multi(args, "adaptation", [ANY, *sorted(rel.names["adaptations"])])
    test_time = _multi(args, "test_time", [ANY, STANDARD_TEST_TIME, *sorted(rel.names["test_time_procedures"])])
    split = _multi(args, "split", [ANY, *SPLIT_KINDS])
    return Spec(
        y=y,
        x=x,
        family=_multi(args, "family", sorted(rel.names["families"])),
        pretrain_dataset=_multi(args, "pretrain_dataset", rel.present("pretrain_dataset_id")),
        pretrain_method=_multi(args, "pretrain_method", rel.present("pretrain_method_id")),
        token_mixer=_multi(args, "token_mixer", sorted(rel.names["token_mixers"])),
        head=_multi(args, "head", rel.present("head_id")),
        res=tuple(int(r) for r in res),
        adaptation=(ANY,) if ANY in adaptation else adaptation,
        test_time=(ANY,) if ANY in test_time else test_time,
        split=(ANY,) if ANY in split else split,
        seen=_multi(args, "seen", rel.seen_datasets()),
        extra=_choice(args, "extra", ["", "yes", "no"], ""),
        pairing=_choice(args, "pairing", ["best", "same"], "best"),
        commercial=_choice(args, "commercial", ["", "yes"], ""),
        hierarchical=_choice(args, "hierarchical", ["", "yes", "no"], ""),
        date_from=_date(args, "date_from"),
        date_to=_date(args, "date_to"),
        x_min=_float(args, "x_min"),
        x_max=_float(args, "x_max"),
        y_min=_float(args, "y_min"),
        y_max=_float(args, "y_max"),
        color=color,
        marker=_choice(args, "marker", list(CATEGORIES), default.marker),
        x_scale=_choice(args, "x_scale", ["linear", "log"], default_scale(x)),
        y_scale=_choice(args, "y_scale", ["linear", "log"], default_scale(y)),
        pareto=_choice(args, "pareto", ["", "0", "1"], "") == "1",
        sort=_choice(args, "sort", ["", *TABLE_COLUMNS], ""),
        order=_choice(args, "order", ["asc", "desc"], "desc"),
        page=_page(args),
        highlight=parse_highlight(args, rel),
        hide=_multi(args, "hide", [OTHER_GROUP, *color_groups(rel, color)]),
        notices=tuple(dict.fromkeys(notes)),
    )


def default_scale(axis: Axis) -> str:
    """Log for compute, parameters, throughput and latency (they span decades), linear otherwise."""
    return "log" if axis.kind in LOG_KINDS else "linear"


def _other_result(y: Axis) -> Axis:
    """What X = Result starts on: another task's headline metric, so the plot is never a diagonal."""
    task = "detection" if y.kind != "result" or y.task == "classification" else "classification"
    return Axis(kind="result", task=task, dataset=DEFAULT_DATASET[task], metric=DEFAULT_METRIC[task])


def color_groups(rel: Release, category: str) -> list[str]:
    """Every value a colour (or marker) group can take in this release ('-' when missing)."""
    if category == "none":
        return ["all"]
    if category in ("family", "token_mixer"):
        return sorted(rel.names["families" if category == "family" else "token_mixers"])
    return sorted({*rel.present(CATEGORY_COLUMN[category]), "-"})


MAX_HIGHLIGHT = 6


def parse_highlight(args: MultiDict, rel: Release) -> tuple[str, ...]:
    """The `highlight` parameter: up to six backbone or checkpoint ids (repeated or comma-separated)."""
    wanted = sorted({p.strip() for v in args.getlist("highlight") for p in v.split(",") if p.strip()})
    if len(wanted) > MAX_HIGHLIGHT:
        raise BadQuery("highlight", ",".join(wanted), f"at most {MAX_HIGHLIGHT} backbone or checkpoint ids")
    known = rel.cached("model_ids", lambda: set(rel.tables["backbones"]["backbone_id"].to_list())
                       | set(rel.tables["checkpoints"]["checkpoint_id"].to_list()))
    for key in wanted:
        if key not in known:
            raise BadQuery("highlight", key, "backbone or checkpoint ids of this release (see the search page)")
    return tuple(wanted)


def _page(args: MultiDict) -> int:
    value = _one(args, "page", "1")
    if not value.isdigit() or not 1 <= int(value) <= 100000:
        raise BadQuery("page", value, "a page number from 1")
    return int(value)


TABLE_COLUMNS = ("family", "backbone", "checkpoint", "pretraining", "chain", "head", "resolution", "schedule",
                 "protocol", "y", "x", "source", "date")
