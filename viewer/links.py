"""Links from pages into the explorer that always open a plot with points.

A page about a dataset, head, family or backbone asks for "its" plot; the first explorer state that
shows points wins: the metric with the most values first, against GMACs, then parameters, then date
(every backbone has those two), like with like first, then every protocol. The explorer's own parser
and selection decide, so a link and the plot it opens can never disagree.
"""

from __future__ import annotations

import polars as pl
from werkzeug.datastructures import MultiDict

from viewer.data import TASK_METRICS, Release
from viewer.query import BadQuery, parse_spec
from viewer.select import select_points

X_KINDS = ("gmacs", "params", "date")
# the plots people know best come first when the subject has them: then the metric with the most values
FIRST_CHOICES = (("imagenet_1k", "top1"), ("coco", "box_ap"), ("ade20k", "miou_ms"), ("ade20k", "miou_ss"))
PROTOCOLS: tuple[tuple[tuple[str, str], ...], ...] = ((), (("adaptation", "any"), ("test_time", "any"), ("split", "any")))


def _candidates(rel: Release, task: str | None, dataset: str | None, head: str | None,
                family: str | None, backbone: str | None) -> list[tuple[str, str, str]]:
    """(task, dataset, metric) triples that have values for the subject, the most values first."""
    frame = rel.values
    for column, value in (("task_id", task), ("dataset_id", dataset), ("head_id", head), ("family_id", family),
                          ("backbone_id", backbone)):
        if value is not None:
            frame = frame.filter(pl.col(column) == value)
    counts = frame.group_by("task_id", "dataset_id", "metric_id").len()
    order = {m: i for ms in TASK_METRICS.values() for i, m in enumerate(ms)}
    rows = sorted(counts.iter_rows(), key=lambda r: (FIRST_CHOICES.index((r[1], r[2])) if (r[1], r[2]) in FIRST_CHOICES
                                                     else len(FIRST_CHOICES), -r[3], order.get(r[2], 99), r[0], r[1], r[2]))
    return [(t, d, m) for t, d, m, _ in rows]


def explorer_query(rel: Release, *, task: str | None = None, dataset: str | None = None, head: str | None = None,
                   family: str | None = None, backbone: str | None = None, highlight: tuple[str, ...] = (),
                   extra: tuple[tuple[str, str], ...] = ()) -> str | None:
    """The query string of the first explorer state that plots the subject's results (None when it has none);
    `extra` parameters (colour, marker) are added to every state tried."""
    key = f"explorer_query|{task}|{dataset}|{head}|{family}|{backbone}|{','.join(highlight)}|{extra}"
    return rel.cached(key, lambda: _find(rel, task, dataset, head, family, backbone, highlight, extra))  # type: ignore[no-any-return]


def _find(rel: Release, task: str | None, dataset: str | None, head: str | None, family: str | None,
          backbone: str | None, highlight: tuple[str, ...], extra: tuple[tuple[str, str], ...]) -> str | None:
    for t, d, m in _candidates(rel, task, dataset, head, family, backbone):
        for protocol in PROTOCOLS:
            for x in X_KINDS:
                pairs = [("y", "result"), ("y_task", t), ("y_dataset", d), ("y_metric", m), ("x", x),
                         ("x_scale", "log" if x != "date" else "linear"), *protocol]
                if head:
                    pairs.append(("y_head", head))
                if family:
                    pairs.append(("family", family))
                pairs += [("highlight", h) for h in highlight]
                pairs += extra
                try:
                    spec = parse_spec(MultiDict(pairs), rel)
                except BadQuery:
                    continue
                points = select_points(rel, spec).points
                if backbone is not None:
                    points = points.filter(pl.col("backbone_id") == backbone)
                if points.height:
                    return spec.query()
    return None
