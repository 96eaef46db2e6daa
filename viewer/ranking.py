"""Leaderboards: the results of one dataset and metric, ranked, like with like by default.

Pure: no Flask. A board compares fully fine-tuned, standard test-time (single crop or single scale),
validation-split results unless asked otherwise, through the explorer's own protocol filter, so the
board and the explorer never disagree on what "like with like" means.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import polars as pl
from werkzeug.datastructures import MultiDict

from viewer.data import TASK_METRICS, Release
from viewer.query import ANY, STANDARD_TEST_TIME, BadQuery, Spec, _float, _one
from viewer.select import protocol_filter

PAGE_SIZE = 50
PARAMS = ("adaptation", "test_time", "split", "extra", "head", "schedule", "res", "family", "gpu", "precision",
          "min_ips", "max_gmacs", "max_params", "best", "page")
SPLIT_KINDS = ("val", "test_dev", "test")


def values_task(metric: str) -> str | None:
    """The task whose results table holds a metric (mask AP lives beside box AP)."""
    return next((t for t, ms in TASK_METRICS.items() if metric in ms), None)


@dataclass(frozen=True)
class Board:
    """One leaderboard request, validated against the release."""

    dataset: str
    metric: str
    task: str
    adaptation: str = "fine_tune"  # an adaptation id, or 'any'
    test_time: str = STANDARD_TEST_TIME  # 'standard', a test-time procedure id, or 'any'
    split: str = "val"  # a split kind, or 'any'
    extra: str = ""  # '', 'no' (standard training data only), 'yes'
    head: str = ""
    schedule: int | None = None
    res: int | None = None
    family: tuple[str, ...] = ()
    gpu: str = ""  # the throughput column's GPU and precision ('' when no figure exists)
    precision: str = ""
    min_ips: float | None = None
    max_gmacs: float | None = None
    max_params: float | None = None
    best: str = "result"  # 'result': every result; 'backbone': each backbone's best
    page: int = 1
    notes: tuple[str, ...] = ()  # defaults that differ from like-with-like, said on the page

    def query(self, **changes: Any) -> str:
        """The board's query string (protocol always written, so a link keeps its meaning)."""
        board = replace(self, **changes) if changes else self
        pairs: list[tuple[str, str]] = [("adaptation", board.adaptation), ("test_time", board.test_time),
                                        ("split", board.split)]
        for name in ("extra", "head", "schedule", "res", "gpu", "precision", "min_ips", "max_gmacs", "max_params"):
            value = getattr(board, name)
            if value not in (None, ""):
                pairs.append((name, f"{value:g}" if isinstance(value, float) else str(value)))
        pairs += [("family", f) for f in board.family]
        if board.best != "result":
            pairs.append(("best", board.best))
        if board.page != 1:
            pairs.append(("page", str(board.page)))
        return urlencode(pairs)

    def spec(self) -> Spec:
        """The explorer state whose protocol filter this board applies."""
        return Spec(adaptation=(self.adaptation,), test_time=(self.test_time,), split=(self.split,), extra=self.extra)


def _pick(args: MultiDict, name: str, choices: list[str], default: str) -> str:
    """One of `choices`; an absent or empty parameter is the default."""
    value = _one(args, name)
    if value == "":
        return default
    if value not in choices:
        raise BadQuery(name, value, choices)
    return value


def _number(args: MultiDict, name: str) -> float | None:
    return _float(args, name, minimum=0)


def _most_common(frame: pl.DataFrame, column: str) -> list[str]:
    return (frame.group_by(column).len().sort(["len", column], descending=[True, False])
            .get_column(column).drop_nulls().cast(pl.String).to_list())


def board_series(rel: Release, dataset: str, metric: str) -> pl.DataFrame:
    """Every value of a metric on a dataset, under any protocol."""
    task = values_task(metric)
    return rel.series(task, dataset, metric) if task else rel.values.clear()


def parse_board(args: MultiDict, rel: Release, dataset: str, metric: str) -> Board:
    """Validate a leaderboard's query string; unknown parameters and values are a BadQuery (400)."""
    for name in args.keys():
        if name not in PARAMS:
            raise BadQuery(name, args.get(name, ""), "known parameters: " + ", ".join(PARAMS))
    task = values_task(metric)
    assert task is not None  # the route checks the metric first
    series = board_series(rel, dataset, metric)
    notes: list[str] = []
    adaptations = _most_common(series, "adaptation_id")
    default_adaptation = "fine_tune" if "fine_tune" in adaptations or not adaptations else adaptations[0]
    if default_adaptation != "fine_tune":
        notes.append(f"No fully fine-tuned {rel.name('metrics', metric)} on {rel.name('datasets', dataset)} in this "
                     f"release: the board starts with {rel.name('adaptations', default_adaptation)}, the protocol with "
                     "the most results.")
    adaptation = _pick(args, "adaptation", [ANY, *sorted(rel.names["adaptations"])], default_adaptation)
    test_time = _pick(args, "test_time", [ANY, STANDARD_TEST_TIME, *sorted(rel.names["test_time_procedures"])],
                      STANDARD_TEST_TIME)
    kinds = _most_common(series if adaptation == ANY else series.filter(pl.col("adaptation_id") == adaptation), "split_kind")
    default_split = "val" if "val" in kinds or not kinds else kinds[0]
    if default_split != "val":
        notes.append(f"No validation-split results here: the board starts with the {default_split.replace('_', '-')} split.")
    split = _pick(args, "split", [ANY, *SPLIT_KINDS], default_split)
    head = _pick(args, "head", sorted(rel.names["heads"]), "")
    schedule = _pick(args, "schedule", rel.present("schedule"), "")
    res = _pick(args, "res", rel.present("resolution_px"), "")
    families = [v for v in args.getlist("family") if v]
    for f in families:
        if f not in rel.names["families"]:
            raise BadQuery("family", f, sorted(rel.names["families"]))
    gpu, precision = _throughput_context(args, rel, series, task)
    best = _pick(args, "best", ["result", "backbone"], "result")
    page = _one(args, "page") or "1"
    if not page.isdigit() or not 1 <= int(page) <= 100000:
        raise BadQuery("page", page, "a page number from 1")
    return Board(dataset=dataset, metric=metric, task=task, adaptation=adaptation, test_time=test_time, split=split,
                 extra=_pick(args, "extra", ["no", "yes"], ""), head=head, schedule=int(schedule) if schedule else None,
                 res=int(res) if res else None, family=tuple(sorted(set(families))), gpu=gpu, precision=precision,
                 min_ips=_number(args, "min_ips"), max_gmacs=_number(args, "max_gmacs"),
                 max_params=_number(args, "max_params"), best=best, page=int(page), notes=tuple(notes))


def _board_throughput(rel: Release, series: pl.DataFrame, task: str) -> pl.DataFrame:
    """Throughput figures of a board's backbones measured for the board's task."""
    return rel.tables["throughput"].filter(pl.col("backbone_id").is_in(series.get_column("backbone_id").unique().to_list())
                                           & (pl.col("task_id") == task))


def _throughput_context(args: MultiDict, rel: Release, series: pl.DataFrame, task: str) -> tuple[str, str]:
    """The GPU and precision of the throughput column: as asked, else the pair with the most figures for
    this board's backbones and task (a stated GPU before 'unknown'); empty when there is none."""
    tp = rel.tables["throughput"]
    gpu = _pick(args, "gpu", sorted(set(tp.get_column("gpu_id").to_list())), "")
    precision = _pick(args, "precision", sorted(set(tp.get_column("precision_id").to_list())), "")
    if gpu and precision:
        return gpu, precision
    mine = _board_throughput(rel, series, task)
    if gpu:
        mine = mine.filter(pl.col("gpu_id") == gpu)
    if precision:
        mine = mine.filter(pl.col("precision_id") == precision)
    if mine.is_empty():
        return gpu, precision
    pairs = (mine.group_by("gpu_id", "precision_id").len()
             .with_columns((pl.col("gpu_id") != "unknown").alias("known"), (pl.col("precision_id") != "unknown").alias("stated"))
             .sort(["known", "len", "stated", "gpu_id", "precision_id"], descending=[True, True, True, False, False]))
    top = pairs.row(0, named=True)
    return top["gpu_id"], top["precision_id"]


def _with_throughput(rel: Release, frame: pl.DataFrame, board: Board) -> pl.DataFrame:
    """Each row's fastest figure on the board's GPU and precision: at the result's resolution for
    classification, with the same head downstream (as the explorer pairs them)."""
    empty = [pl.lit(None, pl.Float64).alias("images_per_s"), pl.lit(None, pl.Int64).alias("tp_batch_size"),
             pl.lit(None, pl.String).alias("tp_source_id"), pl.lit(None, pl.String).alias("tp_where")]
    if not board.gpu or not board.precision or frame.is_empty():
        return frame.with_columns(empty)
    tp = (rel.tables["throughput"]
          .filter((pl.col("gpu_id") == board.gpu) & (pl.col("precision_id") == board.precision))
          .sort(["images_per_s", "throughput_id"], descending=[True, False])
          .select("backbone_id", "task_id", "head_id", "resolution_px", "images_per_s",
                  pl.col("batch_size").alias("tp_batch_size"), pl.col("source_id").alias("tp_source_id"),
                  pl.col("where").alias("tp_where")))
    if board.task == "classification":
        best = tp.filter(pl.col("task_id") == "classification").unique(["backbone_id", "resolution_px"], keep="first")
        return frame.join(best.drop("task_id", "head_id"), on=["backbone_id", "resolution_px"], how="left", validate="m:1")
    best = tp.filter(pl.col("task_id") == board.task).unique(["backbone_id", "head_id"], keep="first")
    return frame.join(best.drop("task_id", "resolution_px"), on=["backbone_id", "head_id"], how="left", validate="m:1")


def higher_is_better(rel: Release, metric: str) -> bool:
    row = rel.tables["metrics"].filter(pl.col("metric_id") == metric)
    return bool(row.get_column("higher_is_better")[0]) if row.height else True


def rank_board(rel: Release, board: Board) -> pl.DataFrame:
    """The board's rows, best first, with a competition rank (ties share a rank: 1, 2, 2, 4)."""
    frame = protocol_filter(board_series(rel, board.dataset, board.metric), board.spec(), board.metric)
    if board.head:
        frame = frame.filter(pl.col("head_id") == board.head)
    if board.schedule is not None:
        frame = frame.filter(pl.col("schedule") == board.schedule)
    if board.res is not None:
        frame = frame.filter(pl.col("resolution_px") == board.res)
    if board.family:
        frame = frame.filter(pl.col("family_id").is_in(list(board.family)))
    if board.max_gmacs is not None:
        frame = frame.filter(pl.col("gmacs") <= board.max_gmacs)
    if board.max_params is not None:
        frame = frame.filter(pl.col("params_m") <= board.max_params)
    frame = _with_throughput(rel, frame, board)
    if board.min_ips is not None:
        frame = frame.filter(pl.col("images_per_s") >= board.min_ips)
    higher = higher_is_better(rel, board.metric)
    frame = frame.sort(["value", "result_id"], descending=[higher, False])
    if board.best == "backbone":
        frame = frame.unique("backbone_id", keep="first", maintain_order=True)
    conflicts = _conflicts_with(rel, board.task)
    return (frame.with_columns(pl.col("value").rank("min", descending=higher).cast(pl.Int64).alias("rank"))
            .join(conflicts, on="result_id", how="left", validate="m:1"))


def _conflicts_with(rel: Release, task: str) -> pl.DataFrame:
    table = {"classification": "classification_results", "detection": "detection_results",
             "semantic_segmentation": "segmentation_results"}[task]
    return rel.tables[table].select("result_id", "conflicts_with", "citation_count")


def extra_data_text(rel: Release, dataset: str, seen: str | None, extra: bool | None) -> str:
    """'no', or 'yes: ImageNet-22k' naming the data beyond the evaluation dataset's standard training."""
    if not extra:
        return "no"
    row = rel.tables["datasets"].filter(pl.col("dataset_id") == dataset)
    standard = set((row.get_column("standard_training")[0] or dataset).split(",")) if row.height else {dataset}
    beyond = [d for d in (seen or "").split(",") if d and d not in standard]
    return "yes: " + ", ".join(rel.name("datasets", d) for d in beyond) if beyond else "yes"


def mixed(board: Board, rows: pl.DataFrame, rel: Release) -> list[dict[str, Any]]:
    """What an 'any' protocol filter lets the board mix, each value with its count and a narrowing query."""
    out = []
    for column, param, vocab, what, current in (
        ("adaptation_id", "adaptation", "adaptations", "evaluation protocols", board.adaptation),
        ("test_time_id", "test_time", "test_time_procedures", "test-time procedures", board.test_time),
        ("split_kind", "split", None, "evaluation splits", board.split),
    ):
        if current not in (ANY, STANDARD_TEST_TIME) or rows.is_empty():
            continue
        counts = rows.group_by(column).len().sort(["len", column], descending=[True, False], nulls_last=True)
        if counts.height < 2:
            continue
        choices = []
        for value, n in counts.iter_rows():
            if value is None:
                continue
            label = rel.name(vocab, value) if vocab else str(value).replace("_", "-")
            choices.append({"label": label, "count": n, "query": board.query(**{param: value, "page": 1})})
        out.append({"what": what, "choices": choices})
    return out


def board_options(rel: Release, board: Board) -> dict[str, Any]:
    """The choices the board's form offers: only values present on this dataset and metric."""
    series = board_series(rel, board.dataset, board.metric)
    protocol = protocol_filter(series, board.spec(), board.metric)
    pairs = sorted(set(_board_throughput(rel, series, board.task).select("gpu_id", "precision_id").iter_rows()))

    def present(frame: pl.DataFrame, column: str) -> list[str]:
        values = {str(v) for v in frame.get_column(column).drop_nulls().unique().to_list()}
        return sorted(values, key=lambda v: (0, int(v), "") if v.isdigit() else (1, 0, v))

    return {
        "adaptations": [(a, rel.name("adaptations", a)) for a in present(series, "adaptation_id")],
        "test_times": [(t, rel.name("test_time_procedures", t)) for t in present(series, "test_time_id")],
        "splits": [(s, s.replace("_", "-")) for s in present(series, "split_kind")],
        "heads": [(h, rel.name("heads", h)) for h in present(protocol, "head_id")],
        "schedules": present(protocol, "schedule"),
        "res": present(protocol, "resolution_px"),
        "families": sorted(((f, rel.name("families", f)) for f in present(series, "family_id")), key=lambda kv: kv[1].lower()),
        "throughput_contexts": [(g, p, f"{rel.name('gpus', g)}, {rel.name('precisions', p)}") for g, p in pairs],
    }


def board_index(rel: Release) -> list[dict[str, Any]]:
    """Every dataset and metric with results: how many in all, and how many like with like."""
    out = []
    counts = rel.values.group_by("task_id", "dataset_id", "metric_id").len()
    for task, dataset, metric, n in counts.sort("task_id", "dataset_id", "metric_id").iter_rows():
        out.append({"task": task, "dataset": dataset, "metric": metric, "results": n})
    order = {m: i for ms in TASK_METRICS.values() for i, m in enumerate(ms)}
    out.sort(key=lambda r: (list(TASK_METRICS).index(r["task"]), -_dataset_size(counts, r["dataset"]),
                            rel.name("datasets", r["dataset"]).lower(), order.get(r["metric"], 99)))
    return out


def _dataset_size(counts: pl.DataFrame, dataset: str) -> int:
    return int(counts.filter(pl.col("dataset_id") == dataset).get_column("len").max() or 0)  # type: ignore[arg-type]
