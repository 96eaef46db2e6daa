"""Shape typed raw rows into the release's tables.

Chains are resolved into text and a stages table, compute is normalised to GMACs with
each source's declared convention, and every result gets its derived, readable key.
Provenance columns (`_file`, `_label`, `_path`) ride along for error reports and are
dropped by the writers.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from . import tables as T
from .load import RawData, Row

PROVENANCE = {"_file": pl.String, "_label": pl.String, "_path": pl.String}
FLOPS_FACTOR = {"macs": 1.0, "flops": 0.5}
DEFAULT_SPLIT = {"classification": "val", "detection": "val2017", "segmentation": "val"}
# What a result means when the document says nothing else (raw/README.md, protocol fields)
DEFAULT_ADAPTATION = "fine_tune"
DEFAULT_TEST_TIME = {"classification": "single_crop", "detection": "single_scale"}
DEFAULT_SCOPE = {"classification": "backbone", "detection": "whole_model", "segmentation": "whole_model"}


def _stage_text(stage: Row) -> str:
    parts = [stage.get("dataset_id") or "?"]
    if stage.get("epochs") is not None:
        parts.append(f"{stage['epochs']}ep")
    if stage.get("iterations") is not None:
        parts.append(f"{stage['iterations']}it")
    if stage.get("resolution_px") is not None:
        parts.append(f"{stage['resolution_px']}px")
    if stage.get("crop_px") is not None:
        parts.append(f"crop{stage['crop_px']}")
    return " ".join(parts)


def chain_text(stages: list[Row]) -> str:
    """Readable chain, e.g. 'imagenet_1k 30ep 384px > coco 36ep'; '-' when empty."""
    return " > ".join(_stage_text(s) for s in stages) if stages else "-"


def _chain_key(stages: list[Row]) -> str:
    return "+".join(_stage_text(s).replace(" ", ":") for s in stages) if stages else "none"


def _path_text(row: Row) -> str:
    return ".".join(str(p) for p in row["_path"])


def _result_id(task: str, row: Row) -> str:
    parts = [str(row.get("source_id")), task, str(row.get("checkpoint_id"))]
    if task != "classification":
        parts.append(str(row.get("head_id")))
    parts.append(_chain_key(row["chain"]))
    if task == "classification":
        res = row.get("eval_resolution_px")
        parts.append(f"{row.get('eval_dataset_id')}@{res if res is not None else '?'}")
    elif task == "detection":
        parts.append(f"{row.get('eval_dataset_id')}:{row['eval_split']}")
    else:
        parts.append(f"{row.get('eval_dataset_id')}:{row['eval_split']}@{row.get('crop_px')}")
    if row.get("adaptation_id") not in (None, DEFAULT_ADAPTATION):
        parts.append(str(row["adaptation_id"]))
    if task == "classification" and row.get("test_time_id") not in (None, DEFAULT_TEST_TIME["classification"]):
        crops = row.get("test_crops")
        parts.append(f"{row['test_time_id']}{crops if crops is not None else ''}")
    if task == "detection" and row.get("test_time_id") not in (None, DEFAULT_TEST_TIME["detection"]):
        parts.append(str(row["test_time_id"]))
    if row.get("tag"):
        parts.append(str(row["tag"]))
    return "/".join(parts)


def _timing_id(row: Row, kind: str, context: tuple[str, ...]) -> str:
    """Derived key of a throughput or latency figure: source/kind/backbone/task/[head/]size/context.../batch[/tag]."""
    size = row.get("resolution_px") or row.get("input_size") or "?"
    batch = row.get("batch_size")
    parts = [
        str(row.get("source_id")),
        kind,
        str(row.get("backbone_id")),
        str(row["task_id"]),
        *([str(row["head_id"])] if row.get("head_id") else []),
        str(size),
        *(str(row.get(c)) for c in context),
        f"bs{batch}" if batch is not None else "bs?",
        *([str(row["tag"])] if row.get("tag") else []),
    ]
    return "/".join(parts)


TIMING_CONTEXT = {
    "throughput": ("throughput_id", ("gpu_id", "precision_id")),
    "latency": ("latency_id", ("device_id", "runtime_id", "precision_id")),
}


def _timing_rows(raw: RawData, section: str) -> list[Row]:
    key, context = TIMING_CONTEXT[section]
    rows = []
    for r in raw.rows.get(section, []):
        r = dict(r)
        r["task_id"] = r.get("task_id") or "classification"
        r[key] = _timing_id(r, section, context)
        rows.append(r)
    return rows


def _frame(rows: list[Row], table: T.Table, extra: dict[str, Any] | None = None) -> pl.DataFrame:
    schema = {**table.schema, **PROVENANCE, **(extra or {})}
    prepared = [{**r, "_path": _path_text(r)} for r in rows]
    return pl.from_dicts(prepared, schema=schema) if prepared else pl.DataFrame(schema=schema)


def _vocab_frames(raw: RawData) -> dict[str, pl.DataFrame]:
    frames = {}
    for table in T.VOCAB_TABLES:
        rows = []
        for r in raw.rows.get(f"vocab_{table.name}", []):
            r = dict(r)
            for key in ("tasks", "roles", "standard_training"):
                if isinstance(r.get(key), list):
                    r[key] = ",".join(r[key])
            rows.append(r)
        frames[table.name] = _frame(rows, table)
    return frames


SECTION_OF_TASK = {"classification": "classification", "detection": "detection", "semantic_segmentation": "segmentation"}


def _result_rows(task: str, raw: RawData, stages_out: list[Row]) -> list[Row]:
    section = SECTION_OF_TASK[task]
    out = []
    for r in raw.rows.get(section, []):
        r = dict(r)
        _protocol_defaults(section, r)
        stages = r["chain"]
        r["result_id"] = _result_id(task, r)
        r["chain_length"] = len(stages)
        r["chain"] = chain_text(stages)
        last = stages[-1] if stages else {}
        if section == "classification":
            r["finetune_dataset_id"] = last.get("dataset_id")
        else:
            r["train_dataset_id"] = last.get("dataset_id")
            r["train_epochs" if section == "detection" else "train_iterations"] = last.get(
                "epochs" if section == "detection" else "iterations"
            )
        for i, stage in enumerate(stages, start=1):
            stages_out.append(
                {**{k: stage.get(k) for k in T.CHAIN_STAGES.columns}, "result_id": r["result_id"], "stage": i,
                 "_file": r["_file"], "_label": r["_label"],
                 "_path": (*r["_path"], "chain", i - 1)}
            )
        out.append(r)
    return out


def _protocol_defaults(section: str, r: Row) -> None:
    """Fill the protocol fields a document left at their defaults (raw/README.md)."""
    r["eval_split"] = r.get("eval_split") or DEFAULT_SPLIT[section]
    r["adaptation_id"] = r.get("adaptation_id") or DEFAULT_ADAPTATION
    if r.get("test_time_id") is None:
        if section == "segmentation":
            r["test_time_id"] = "multi_scale_flip" if r.get("miou_ms") is not None else None
        else:
            r["test_time_id"] = DEFAULT_TEST_TIME[section]
    r["gmacs_scope"] = r.get("gmacs_scope") or DEFAULT_SCOPE[section]


def _add_gmacs(frame: pl.DataFrame, sources: pl.DataFrame) -> pl.DataFrame:
    conv = sources.select(
        pl.col("source_id"), pl.col("flops_convention").replace_strict(FLOPS_FACTOR, default=None, return_dtype=pl.Float64).alias("_factor")
    ).unique("source_id", keep="first")
    return (
        frame.join(conv, on="source_id", how="left", validate="m:1")
        .with_columns(
            (pl.col("_flops_g") * pl.col("_factor")).alias("gmacs"),
            pl.col("_flops_g").is_not_null().alias("_has_flops"),
        )
        .drop("_factor")
    )


def _with_commercial_use(checkpoints: pl.DataFrame, licenses: pl.DataFrame) -> pl.DataFrame:
    lookup = licenses.select(pl.col("license_id").alias("license"), pl.col("commercial_use").alias("_cu")).unique(
        "license", keep="first")
    return (
        checkpoints.join(lookup, on="license", how="left", validate="m:1")
        .with_columns(pl.col("_cu").alias("commercial_use")).drop("_cu")
    )


def build_tables(raw: RawData) -> dict[str, pl.DataFrame]:
    """Every release table (with provenance columns), from typed raw rows."""
    frames = _vocab_frames(raw)
    sources = []
    for r in raw.rows.get("sources", []):
        r = dict(r)
        r["authors"] = "; ".join(r["authors"]) if isinstance(r.get("authors"), list) else None
        sources.append(r)
    frames["sources"] = _frame(sources, T.SOURCES)
    frames["families"] = _frame(raw.rows.get("families", []), T.FAMILIES)
    frames["backbones"] = _frame(raw.rows.get("backbones", []), T.BACKBONES)
    frames["checkpoints"] = _with_commercial_use(_frame(raw.rows.get("checkpoints", []), T.CHECKPOINTS), frames["licenses"])
    stages: list[Row] = []
    flops = {"_flops_g": pl.Float64}
    for table in T.RESULT_TABLES:
        rows = [{**r, "_flops_g": r.get("flops_g")} for r in _result_rows(str(table.task), raw, stages)]
        frames[table.name] = _add_gmacs(_frame(rows, table, flops), frames["sources"]).drop("_flops_g")
    frames["throughput"] = _frame(_timing_rows(raw, "throughput"), T.THROUGHPUT)
    frames["latency"] = _frame(_timing_rows(raw, "latency"), T.LATENCY)
    frames["chain_stages"] = _frame(stages, T.CHAIN_STAGES)
    frames["citations"] = _frame([], T.CITATIONS)  # filled once the rows pass validation (context.py)
    return frames
