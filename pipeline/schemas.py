"""One pandera schema per release table: types, ranges, required fields, unique keys.

Cross-table rules (references, vocabularies, suspicious compute) live in checks.py.
"""

from __future__ import annotations

from typing import Any, Optional

import pandera.polars as pa
import polars as pl

from .errors import Problem

ID = r"^[a-z0-9][a-z0-9_]*$"
CHECKPOINT_ID = r"^[a-z0-9][a-z0-9_]*\.[a-z0-9][a-z0-9_.]*$"
PCT = {"min_value": 0, "max_value": 100}


def _pct() -> float | None:
    return pa.Field(nullable=True, in_range=PCT)


def _pos_int(nullable: bool = True) -> int | None:
    return pa.Field(nullable=nullable, gt=0)


class _Table(pa.DataFrameModel):
    class Config:
        strict = False  # provenance columns ride along until the writers drop them
        coerce = False


class SourcesTable(_Table):
    source_id: str = pa.Field(unique=True, str_matches=ID)
    title: str
    authors: str
    year: int = pa.Field(in_range={"min_value": 1950, "max_value": 2100})
    kind: str = pa.Field(isin=["paper", "model_zoo", "dataset"])
    arxiv_id: str | None = pa.Field(nullable=True, str_matches=r"^\d{4}\.\d{4,5}$")
    arxiv_version: int | None = _pos_int()
    url: str = pa.Field(str_startswith="http")
    venue: str | None = pa.Field(nullable=True)
    published: pl.Date | None = pa.Field(nullable=True)
    code_url: str | None = pa.Field(nullable=True, str_startswith="http")
    commit: str | None = pa.Field(nullable=True)
    flops_convention: str = pa.Field(isin=["macs", "flops", "unknown"])


class FamiliesTable(_Table):
    family_id: str = pa.Field(unique=True, str_matches=ID)
    name: str
    source_id: str
    token_mixer_id: str
    hierarchical: bool
    code_url: str | None = pa.Field(nullable=True, str_startswith="http")


class BackbonesTable(_Table):
    backbone_id: str = pa.Field(unique=True, str_matches=ID)
    family_id: str
    name: str
    params_m: float = pa.Field(gt=0)
    params_source_id: str
    params_where: str
    timm_arch: str | None = pa.Field(nullable=True)
    hf_id: str | None = pa.Field(nullable=True)


class CheckpointsTable(_Table):
    checkpoint_id: str = pa.Field(unique=True, str_matches=CHECKPOINT_ID)
    backbone_id: str
    pretrain_dataset_id: str
    pretrain_method_id: str
    pretrain_resolution_px: int | None = _pos_int()
    pretrain_epochs: int | None = _pos_int()
    weights_url: str | None = pa.Field(nullable=True, str_startswith="http")


class _ResultTable(_Table):
    result_id: str = pa.Field(unique=True)
    source_id: str
    checkpoint_id: str
    eval_dataset_id: str
    gmacs: float | None = pa.Field(nullable=True, gt=0)
    where: str = pa.Field(str_length={"min_value": 1})
    test_crops: int | None = pa.Field(nullable=True, in_range={"min_value": 2, "max_value": 1000})
    crop_ratio: float | None = pa.Field(nullable=True, gt=0, le=1)
    gmacs_scope: str = pa.Field(isin=["backbone", "whole_model"])


class ClassificationResultsTable(_ResultTable):
    eval_resolution_px: int | None = pa.Field(nullable=True, in_range={"min_value": 8, "max_value": 4096})
    top1: float | None = _pct()
    top5: float | None = _pct()
    mce: float | None = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 300})


class DetectionResultsTable(_ResultTable):
    head_id: str
    train_epochs: int | None = _pos_int()
    box_ap: float | None = _pct()
    box_ap50: float | None = _pct()
    box_ap75: float | None = _pct()
    box_ap_s: float | None = _pct()
    box_ap_m: float | None = _pct()
    box_ap_l: float | None = _pct()
    mask_ap: float | None = _pct()
    mask_ap50: float | None = _pct()
    mask_ap75: float | None = _pct()
    mask_ap_s: float | None = _pct()
    mask_ap_m: float | None = _pct()
    mask_ap_l: float | None = _pct()


class SegmentationResultsTable(_ResultTable):
    head_id: str
    train_iterations: int | None = _pos_int()
    crop_px: int | None = _pos_int()
    miou_ss: float | None = _pct()
    miou_ms: float | None = _pct()
    pixel_acc: float | None = _pct()
    mean_acc: float | None = _pct()


class ThroughputTable(_Table):
    throughput_id: str = pa.Field(unique=True)
    source_id: str
    backbone_id: str
    task_id: str
    resolution_px: int | None = _pos_int()
    gpu_id: str
    precision_id: str
    batch_size: int | None = _pos_int()
    images_per_s: float = pa.Field(gt=0)
    where: str = pa.Field(str_length={"min_value": 1})
    memory_layout: str | None = pa.Field(nullable=True, isin=["nchw", "nhwc"])
    compile_mode: str | None = pa.Field(nullable=True, isin=["eager", "compiled"])


class LatencyTable(_Table):
    latency_id: str = pa.Field(unique=True)
    source_id: str
    backbone_id: str
    task_id: str
    resolution_px: int | None = _pos_int()
    device_id: str
    runtime_id: str
    precision_id: str
    batch_size: int | None = _pos_int()
    latency_ms: float = pa.Field(gt=0)
    where: str = pa.Field(str_length={"min_value": 1})


class CitationsTable(_Table):
    result_id: str
    rank: int = pa.Field(gt=0)
    source_id: str
    where: str

    class Config:
        unique = ["result_id", "rank"]


class ChainStagesTable(_Table):
    result_id: str
    stage: int = pa.Field(gt=0)
    dataset_id: str | None = pa.Field(nullable=True)
    epochs: int | None = _pos_int()
    iterations: int | None = _pos_int()
    resolution_px: int | None = _pos_int()
    crop_px: int | None = _pos_int()

    class Config:
        unique = ["result_id", "stage"]


def _vocab_table(key: str, pattern: str = ID, **fields: tuple[Any, Any]) -> type[pa.DataFrameModel]:
    attrs: dict[str, Any] = {
        "__annotations__": {key: str, "name": str, **{f: t for f, (t, _) in fields.items()}},
        key: pa.Field(unique=True, str_matches=pattern),
        **{f: fld for f, (_, fld) in fields.items()},
    }
    return type(f"{key}_vocab", (_Table,), attrs)


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "sources": SourcesTable,
    "families": FamiliesTable,
    "backbones": BackbonesTable,
    "checkpoints": CheckpointsTable,
    "classification_results": ClassificationResultsTable,
    "detection_results": DetectionResultsTable,
    "segmentation_results": SegmentationResultsTable,
    "throughput": ThroughputTable,
    "latency": LatencyTable,
    "citations": CitationsTable,
    "chain_stages": ChainStagesTable,
}
for _name, _key in [
    ("tasks", "task_id"),
    ("datasets", "dataset_id"),
    ("heads", "head_id"),
    ("metrics", "metric_id"),
    ("gpus", "gpu_id"),
    ("precisions", "precision_id"),
    ("pretraining_methods", "pretraining_method_id"),
    ("token_mixers", "token_mixer_id"),
    ("adaptations", "adaptation_id"),
    ("test_time_procedures", "test_time_id"),
    ("runtimes", "runtime_id"),
]:
    SCHEMAS[_name] = _vocab_table(_key)
# split ids keep the names their benchmarks print (COCO's test-dev)
SCHEMAS["splits"] = _vocab_table(
    "split_id", r"^[a-z0-9][a-z0-9_-]*$", kind=(str, pa.Field(isin=["val", "test_dev", "test"]))
)
SCHEMAS["licenses"] = _vocab_table("license_id", r"^[A-Za-z0-9][A-Za-z0-9 .+()_-]*$")
SCHEMAS["devices"] = _vocab_table(
    "device_id", kind=(str, pa.Field(isin=["phone", "edge", "cpu", "gpu", "unknown"]))
)
SCHEMAS["datasets"] = _vocab_table(
    "dataset_id", size_images=(Optional[int], pa.Field(nullable=True, gt=0))  # noqa: UP045
)

# raw field names for release columns, so messages name what the curator typed
RAW_NAMES = {
    "source_id": "source",
    "family_id": "family",
    "backbone_id": "backbone",
    "checkpoint_id": "checkpoint",
    "eval_dataset_id": "eval_dataset",
    "head_id": "head",
    "gpu_id": "gpu",
    "precision_id": "precision",
    "task_id": "task",
    "token_mixer_id": "token_mixer",
    "pretrain_dataset_id": "pretrain_dataset",
    "pretrain_method_id": "pretrain_method",
    "params_source_id": "params_source",
    "gmacs": "flops_g",
    "dataset_id": "dataset",
    "adaptation_id": "adaptation",
    "test_time_id": "test_time",
    "gmacs_scope": "flops_scope",
    "compile_mode": "compile",
    "device_id": "device",
    "runtime_id": "runtime",
}
KEY_FIELDS = {
    "result_id": "the result",
    "throughput_id": "the throughput figure",
    "latency_id": "the latency figure",
}


def _hint(check: str, column: str, value: str) -> str:
    if check.startswith("in_range"):
        lo, hi = check[len("in_range(") : -1].split(", ")
        extra = ": accuracies, APs and mIoUs are percentages, not fractions" if hi == "100" else ""
        return f"is {value}, outside {lo}-{hi}{extra}; check the source"
    if check.startswith("greater_than"):
        return f"is {value}; it must be positive; check the source"
    if check.startswith("str_matches"):
        return f"'{value}' is not a valid id: use lowercase letters, digits and _ (see raw/README.md 'Ids')"
    if check.startswith("isin"):
        return f"'{value}' is not one of the allowed values {check[len('isin('):-1]}"
    if check.startswith("str_startswith"):
        return f"'{value}' must be a web address starting with http"
    if check.startswith("str_length"):
        return "must not be empty: say where in the source the number is (e.g. 'Table 3')"
    if check == "not_nullable":
        return "is required; add it (see raw/README.md)"
    return f"failed check {check} with value {value}"


def validate_tables(frames: dict[str, pl.DataFrame]) -> list[Problem]:
    """Validate every table with its schema (lazily: all failures at once)."""
    problems: list[Problem] = []
    for name, schema in SCHEMAS.items():
        frame = frames[name]
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            problems.extend(_to_problems(name, frame, exc.failure_cases))
    return problems


MAX_PLACES = 3  # a duplicate's message names this many other places, then counts the rest


def _to_problems(table: str, frame: pl.DataFrame, cases: pl.DataFrame) -> list[Problem]:
    problems = []
    places: dict[tuple[str, Any], list[str]] = {}
    for case in cases.iter_rows(named=True):
        column, check, index = case["column"], str(case["check"]), case["index"]
        if check == "multiple_fields_uniqueness" and table in ("chain_stages", "citations"):
            continue  # a result entered twice: reported once, on the result itself
        if index is None or column is None or column not in frame.columns:
            problems.append(Problem(table, "-", str(column), f"table check {check} failed"))
            continue
        row = frame.row(index, named=True)
        is_key = column == frame.columns[0] and column.endswith("_id") and table != "chain_stages"
        field = "id" if is_key else RAW_NAMES.get(column, column)
        path = tuple(int(p) if p.isdigit() else p for p in row["_path"].split(".") if p)
        if check in ("field_uniqueness", "multiple_fields_uniqueness"):
            key = row[column]
            if (column, key) not in places:
                places.update(_places(frame, column))
            where = places[(column, key)]
            here = f"{row['_file']} {row['_label']}"
            others = [w for w in where if w != here]
            shown = "; ".join(others[:MAX_PLACES]) + (f"; and {len(others) - MAX_PLACES} more" if len(others) > MAX_PLACES else "")
            what = KEY_FIELDS.get(column)
            if what:
                msg = f"{what} '{key}' appears {len(where)} times (also {shown}); remove the duplicate or tell them apart with a `tag`"
                field = "-"
            else:
                msg = f"duplicate id '{key}' (also {shown}); ids must be unique: rename or merge one"
            problems.append(Problem(row["_file"], row["_label"], field, msg, path))
            continue
        if check == "not_nullable":
            continue  # the loader already reported the missing or mistyped value
        value = case["failure_case"]
        problems.append(Problem(row["_file"], row["_label"], field, _hint(check, column, value), path + (field,)))
    return problems


def _places(frame: pl.DataFrame, column: str) -> dict[tuple[str, Any], list[str]]:
    """Every place of every duplicated value of one column, in one pass (never one scan per duplicate)."""
    dup = frame.filter(pl.col(column).is_duplicated() & pl.col(column).is_not_null())
    out: dict[tuple[str, Any], list[str]] = {}
    for key, file, label in dup.select(column, "_file", "_label").iter_rows():
        out.setdefault((column, key), []).append(f"{file} {label}")
    return out
