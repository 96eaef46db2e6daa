"""Side-by-side comparison of 2-6 backbones or checkpoints across every task and dataset they have.

Pure: no Flask. Numbers are compared like with like: a row is one dataset and metric under one
protocol (adaptation, test-time procedure, split, extra training data or not) and, downstream, one
head and schedule. Each cell is that model's best value under the row's protocol, with where it
comes from; values that two documents report differently are marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from werkzeug.datastructures import MultiDict

from viewer.data import Release
from viewer.formatting import fmt
from viewer.query import BadQuery

MIN_MODELS, MAX_MODELS = 2, 6
SECTIONS = (
    ("classification", "Image classification", ("top1", "mce")),
    ("detection", "Object detection", ("box_ap",)),
    ("instance_segmentation", "Instance segmentation", ("mask_ap",)),
    ("semantic_segmentation", "Semantic segmentation", ("miou_ss", "miou_ms")),
)
KEY = ["metric_id", "dataset_id", "head_id", "schedule", "resolution_px", "adaptation_id", "test_time_id", "split_kind",
       "extra_training_data"]
DATASET_ORDER = ("imagenet_1k", "coco", "ade20k")
ADAPTATION_ORDER = ("fine_tune", "frozen_head", "linear_probe", "attentive_probe", "knn", "zero_shot")


@dataclass(frozen=True)
class Model:
    """A backbone (all its checkpoints) or one checkpoint."""

    kind: str
    key: str
    name: str
    backbone_id: str
    family_id: str
    checkpoints: tuple[str, ...]


def parse_models(args: MultiDict, rel: Release, name: str = "m") -> list[Model]:
    """The models a query names (repeated `m`, or comma-separated), in order, without repeats.
    An unknown id or more than six models is a BadQuery."""
    wanted: list[str] = []
    for value in args.getlist(name):
        for part in value.split(","):
            part = part.strip()
            if part and part not in wanted:
                wanted.append(part)
    if len(wanted) > MAX_MODELS:
        raise BadQuery(name, ",".join(wanted), f"at most {MAX_MODELS} backbones or checkpoints at once")
    return [model(rel, w, name) for w in wanted]


def _model_index(rel: Release) -> tuple[dict[str, Model], dict[str, Model]]:
    """Every backbone and every checkpoint as a Model, by id (built once per release)."""
    names = rel.names["backbones"]
    families = dict(rel.tables["backbones"].select("backbone_id", "family_id").iter_rows())
    by_backbone: dict[str, list[str]] = {b: [] for b in names}
    owner = dict(rel.tables["checkpoints"].select("checkpoint_id", "backbone_id").iter_rows())
    for checkpoint, backbone in sorted(owner.items()):
        by_backbone.setdefault(backbone, []).append(checkpoint)
    backbones = {b: Model("backbone", b, names[b], b, families[b], tuple(by_backbone[b])) for b in names}
    checkpoints = {c: Model("checkpoint", c, f"{names[b]} · {c.split('.', 1)[-1]}", b, families[b], (c,)) for c, b in owner.items()}
    return backbones, checkpoints


def model(rel: Release, key: str, param: str = "m") -> Model:
    """The backbone or checkpoint an id names (a BadQuery when neither)."""
    backbones, checkpoints = rel.cached("compare_models", lambda: _model_index(rel))
    found = backbones.get(key) or checkpoints.get(key)
    if found is None:
        raise BadQuery(param, key, "backbone or checkpoint ids of this release (find them with search), e.g. "
                       + ", ".join(sorted(backbones)[:3]))
    return found  # type: ignore[no-any-return]


def _higher(rel: Release) -> dict[str, bool]:
    return dict(rel.tables["metrics"].select("metric_id", "higher_is_better").iter_rows())


def _sort_key(rel: Release, row: dict[str, Any], n: int) -> tuple:
    dataset = row["dataset_id"]
    return (-n, DATASET_ORDER.index(dataset) if dataset in DATASET_ORDER else len(DATASET_ORDER),
            rel.name("datasets", dataset).lower(), row["metric_id"],
            ADAPTATION_ORDER.index(row["adaptation_id"]) if row["adaptation_id"] in ADAPTATION_ORDER else 99,
            bool(row["extra_training_data"]), rel.name("heads", row["head_id"]).lower(), row["schedule"] or 0,
            row["resolution_px"] or 0,
            row["test_time_id"] or "", row["split_kind"] or "")


def _headline_values(rel: Release) -> pl.DataFrame:
    """The values comparisons use, with conflict details and a best-first sort key (built once per release)."""
    higher = _higher(rel)
    metrics = [m for _, _, ms in SECTIONS for m in ms]
    conflicts = pl.concat([rel.tables[t].select("result_id", "conflicts_with", "citation_count")
                           for t in ("classification_results", "detection_results", "segmentation_results")])
    values = (rel.values.filter(pl.col("metric_id").is_in(metrics))
              .join(conflicts, on="result_id", how="left", validate="m:1")
              .with_columns(pl.col("metric_id").replace_strict(higher, default=True).alias("_higher")))
    # best first: higher values first where higher is better, lower first otherwise
    return (values.with_columns(pl.when(pl.col("_higher")).then(-pl.col("value")).otherwise(pl.col("value")).alias("_order"))
            .sort(["_order", "result_id"]))


def result_sections(rel: Release, models: list[Model]) -> list[dict[str, Any]]:
    """Per task: rows of like-with-like values, each with one cell per model (None where it has none)."""
    higher = rel.cached("compare_higher", lambda: _higher(rel))
    owners: dict[str, list[int]] = {}
    for i, m in enumerate(models):
        for c in m.checkpoints:
            owners.setdefault(c, []).append(i)
    values = rel.cached("compare_values", lambda: _headline_values(rel)).filter(
        pl.col("checkpoint_id").is_in(list(owners)))
    # rows arrive best first, so the first value a model gets for a row is its best there
    rows: dict[tuple, dict[str, Any]] = {}
    candidates: dict[tuple, int] = {}
    for r in values.iter_rows(named=True):
        key = tuple(r[k] for k in KEY)
        row = rows.setdefault(key, {**{k: r[k] for k in KEY}, "cells": [None] * len(models)})
        for i in owners[r["checkpoint_id"]]:
            candidates[(key, i)] = candidates.get((key, i), 0) + 1
            if row["cells"][i] is None:
                row["cells"][i] = _cell(rel, r, models[i])
    for (key, i), n in candidates.items():
        rows[key]["cells"][i]["candidates"] = n
    sections = []
    for task, title, task_metrics in SECTIONS:
        shaped = [_finish(rel, row, higher[row["metric_id"]]) for row in rows.values() if row["metric_id"] in task_metrics]
        shaped.sort(key=lambda row: _sort_key(rel, row, row["n"]))
        sections.append({"task": task, "title": title, "shared": [r for r in shaped if r["n"] >= 2],
                         "single": [r for r in shaped if r["n"] < 2]})
    return sections


def _cell(rel: Release, r: dict[str, Any], m: Model) -> dict[str, Any]:
    details = []
    if r["chain"] and r["chain"] != "-":
        details.append(r["chain"])
    if r["gmacs"] is not None:
        details.append(f"{fmt(r['gmacs'])} GMACs")
    return {
        "value": r["value"], "text": fmt(r["value"]), "result_id": r["result_id"],
        "checkpoint_id": r["checkpoint_id"] if m.kind == "backbone" else None,
        "backbone_id": r["backbone_id"], "details": ", ".join(details), "source_id": r["source_id"], "where": r["where"],
        "citations": r["citation_count"] or 1, "conflict": bool(r["conflict"]), "conflicts_with": r["conflicts_with"],
        "candidates": 1, "best": False,
    }


def _finish(rel: Release, row: dict[str, Any], higher: bool) -> dict[str, Any]:
    present = [c for c in row["cells"] if c is not None]
    row["n"] = len(present)
    if len(present) >= 2:
        top = max(c["value"] for c in present) if higher else min(c["value"] for c in present)
        for c in present:
            c["best"] = c["value"] == top
    row["label"] = f"{rel.name('datasets', row['dataset_id'])} · {rel.name('metrics', row['metric_id'])}"
    setup = []
    if row["head_id"]:
        setup.append(rel.name("heads", row["head_id"]))
    if row["schedule"] is not None:
        setup.append(f"{row['schedule']} {'epochs' if row['metric_id'] in ('box_ap', 'mask_ap') else 'iterations'}")
    if row["resolution_px"] is not None:
        setup.append(f"{row['resolution_px']}px" + (" crop" if row["metric_id"].startswith("miou") else ""))
    row["setup"] = ", ".join(setup)
    row["protocol"] = ", ".join(p for p in (
        rel.name("adaptations", row["adaptation_id"]), rel.name("test_time_procedures", row["test_time_id"]),
        (row["split_kind"] or "").replace("_", "-"),
        "with extra training data" if row["extra_training_data"] else "standard training data") if p)
    row["higher_is_better"] = higher
    return row


def throughput_rows(rel: Release, models: list[Model]) -> list[dict[str, Any]]:
    """Images/s per GPU, precision, task, head and resolution: each model's backbone's fastest figure."""
    return _speed_rows(rel, models, "throughput", ["gpu_id", "precision_id", "task_id", "head_id", "resolution_px"],
                       "images_per_s", higher=True)


def latency_rows(rel: Release, models: list[Model]) -> list[dict[str, Any]]:
    """Milliseconds per device, runtime, precision, task, head and resolution: each model's lowest."""
    return _speed_rows(rel, models, "latency", ["device_id", "runtime_id", "precision_id", "task_id", "head_id",
                                                "resolution_px"], "latency_ms", higher=False)


def _speed_rows(rel: Release, models: list[Model], table: str, key: list[str], column: str, higher: bool) -> list[dict[str, Any]]:
    owners: dict[str, list[int]] = {}
    for i, m in enumerate(models):
        owners.setdefault(m.backbone_id, []).append(i)
    frame = rel.tables[table].filter(pl.col("backbone_id").is_in(list(owners))).sort(
        [column, f"{table}_id"], descending=[higher, False])
    rows: dict[tuple, dict[str, Any]] = {}
    for r in frame.iter_rows(named=True):
        k = tuple(r[c] for c in key)
        row = rows.setdefault(k, {**{c: r[c] for c in key}, "cells": [None] * len(models)})
        for i in owners[r["backbone_id"]]:
            if row["cells"][i] is not None:
                continue  # sorted fastest first: the first figure is the model's best here
            batch = f"batch {r['batch_size']}" if r["batch_size"] is not None else "batch not stated"
            row["cells"][i] = {"value": r[column], "text": fmt(r[column]), "details": batch, "source_id": r["source_id"],
                               "where": r["where"], "best": False, "conflict": False, "checkpoint_id": None,
                               "citations": 1, "candidates": 1}
    out = []
    for row in rows.values():
        present = [c for c in row["cells"] if c is not None]
        row["n"] = len(present)
        if len(present) >= 2:
            top = max(c["value"] for c in present) if higher else min(c["value"] for c in present)
            for c in present:
                c["best"] = c["value"] == top
        where = (rel.name("gpus", row["gpu_id"]) if table == "throughput" else
                 f"{rel.name('devices', row['device_id'])}, {rel.name('runtimes', row['runtime_id'])}")
        row["label"] = f"{where}, {rel.name('precisions', row['precision_id'])}"
        setup = [rel.name("tasks", row["task_id"])]
        if row["head_id"]:
            setup.append(rel.name("heads", row["head_id"]))
        setup.append(f"{row['resolution_px']}px" if row["resolution_px"] is not None else "resolution not stated")
        row["setup"] = ", ".join(setup)
        out.append(row)
    out.sort(key=lambda r: (-r["n"], r["label"].lower(), r["setup"]))
    return out


def fact_rows(rel: Release, models: list[Model]) -> list[dict[str, Any]]:
    """Identity facts: family, parameters, pretraining, licence, first public date."""
    backbones, families, cks = rel.cached("compare_rows", lambda: tuple(
        {r[key]: r for r in rel.tables[name].iter_rows(named=True)}
        for name, key in (("backbones", "backbone_id"), ("families", "family_id"), ("checkpoints", "checkpoint_id"))))

    def licences(m: Model) -> str:
        found = sorted({cks[c]["license"] or "not stated" for c in m.checkpoints})
        return "; ".join(found) or "no checkpoint"

    def commercial(m: Model) -> str:
        uses = {cks[c]["commercial_use"] for c in m.checkpoints}
        words = {True: "allowed", False: "not allowed", None: "not stated or read the licence"}
        return "; ".join(words[u] for u in sorted(uses, key=lambda u: (u is None, u is False))) or ""

    def pretraining(m: Model) -> str:
        found = sorted({f"{rel.name('datasets', cks[c]['pretrain_dataset_id'])}, "
                        f"{rel.name('pretraining_methods', cks[c]['pretrain_method_id'])}" for c in m.checkpoints})
        return "; ".join(found)

    rows = [
        ("Family", lambda m: families[m.family_id]["name"]),
        ("Parameters (M)", lambda m: fmt(backbones[m.backbone_id]["params_m"])),
        ("Token mixer", lambda m: rel.name("token_mixers", families[m.family_id]["token_mixer_id"])),
        ("Shape", lambda m: "hierarchical" if families[m.family_id]["hierarchical"] else "isotropic"),
        ("First public", lambda m: fmt(backbones[m.backbone_id]["first_published"])),
        ("Checkpoints", lambda m: str(len(m.checkpoints))),
        ("Pretraining", pretraining),
        ("Weights licence", licences),
        ("Commercial use", commercial),
    ]
    return [{"label": label, "cells": [get(m) for m in models]} for label, get in rows]
