"""Datasette metadata written into every release: descriptions, units, labels, facets, queries."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from . import tables as T
from .names import DB_STEM, DESCRIPTION, LICENSE, TITLE
from .views import VIEW_DOCS

QUERIES_FILE = Path(__file__).with_name("canned_queries.yaml")

FACETS = {
    "classification_results": ["eval_dataset_id", "adaptation_id", "test_time_id", "split_kind",
                               "extra_training_data", "finetune_dataset_id", "eval_resolution_px", "source_id"],
    "detection_results": ["head_id", "train_epochs", "eval_dataset_id", "eval_split", "test_time_id",
                          "adaptation_id", "extra_training_data", "source_id"],
    "segmentation_results": ["head_id", "eval_dataset_id", "crop_px", "test_time_id", "adaptation_id",
                             "extra_training_data", "source_id"],
    "throughput": ["gpu_id", "precision_id", "task_id", "batch_size", "memory_layout", "compile_mode"],
    "latency": ["device_id", "runtime_id", "precision_id", "task_id"],
    "citations": ["source_id", "rank"],
    "backbones": ["family_id"],
    "checkpoints": ["pretrain_dataset_id", "pretrain_method_id"],
    "families": ["token_mixer_id", "hierarchical"],
    "sources": ["kind", "year", "flops_convention"],
    "chain_stages": ["dataset_id", "stage"],
    "classification": ["family", "eval_dataset", "adaptation", "test_time", "split_kind", "extra_training_data",
                       "pretrain_dataset", "pretrain_method"],
    "detection": ["family", "head", "train_epochs", "eval_split", "test_time", "adaptation", "extra_training_data",
                  "pretrain_dataset"],
    "semantic_segmentation": ["family", "head", "crop_px", "test_time", "adaptation", "extra_training_data",
                              "pretrain_dataset"],
    "throughput_figures": ["gpu", "precision", "family", "task"],
    "latency_figures": ["device", "runtime", "precision", "family"],
}
SORT_DESC = {
    "classification_results": "top1",
    "detection_results": "box_ap",
    "segmentation_results": "miou_ss",
    "throughput": "images_per_s",
    "classification": "top1",
    "detection": "box_ap",
    "semantic_segmentation": "miou_ms",
    "throughput_figures": "images_per_s",
    "sources": "published",
}
VIEW_COLUMNS = {
    "family": "Family name.",
    "backbone": "Backbone name.",
    "pretrain_dataset": "Pretraining dataset.",
    "pretrain_method": "Pretraining method.",
    "eval_dataset": "Evaluation dataset.",
    "head": "Downstream head.",
    "source": "Title of the source document.",
    "gpu": "Accelerator ('Not stated' when the source does not say).",
    "precision": "Numeric precision ('Not stated' when the source does not say).",
    "task": "Task.",
    "adaptation": "How the backbone was adapted (Full fine-tune, Linear probe, kNN, ...).",
    "test_time": "Test-time procedure (single crop, multi-crop, single-scale, multi-scale...).",
    "backbone_first_published": "Date of the backbone's first public document.",
    "device": "Device the latency was measured on.",
    "runtime": "Inference runtime of the latency.",
}


def _table_meta(table: T.Table) -> dict:
    meta: dict = {
        "description": table.description,
        "columns": {c: T.COLUMN_DOCS.get(c, "") for c in table.columns},
    }
    if table.label:
        meta["label_column"] = table.label
    if table.name in FACETS:
        meta["facets"] = FACETS[table.name]
    if table.name in SORT_DESC:
        meta["sort_desc"] = SORT_DESC[table.name]
    return meta


def _view_meta(name: str, columns: list[str]) -> dict:
    docs = {**T.COLUMN_DOCS, **VIEW_COLUMNS}
    meta = {"description": VIEW_DOCS[name], "columns": {c: docs.get(c, "") for c in columns}}
    if name in FACETS:
        meta["facets"] = FACETS[name]
    if name in SORT_DESC:
        meta["sort_desc"] = SORT_DESC[name]
    return meta


def load_queries() -> dict:
    """The canned queries, as Datasette configuration for this database."""
    config = yaml.safe_load(QUERIES_FILE.read_text(encoding="utf-8"))
    return config["databases"][DB_STEM]["queries"]


def build_metadata(version: str, view_columns: dict[str, list[str]]) -> dict:
    """The Datasette metadata document for one release."""
    tables = {t.name: _table_meta(t) for t in T.TABLES}
    tables.update({v: _view_meta(v, cols) for v, cols in view_columns.items()})
    return {
        "title": f"{TITLE} {version}",
        "description": DESCRIPTION + " Compute is in GMACs; throughput in images/s; accuracies in %.",
        "license": LICENSE["name"],
        "license_url": LICENSE["path"],
        "source": "Hand-curated from the papers and model-zoo tables listed in the sources table",
        "source_url": "https://arxiv.org/",
        "plugins": {"heedless-links": {"viewer_url": {"$env": "HEEDLESS_VIEWER_URL"}}},
        "databases": {DB_STEM: {"description": f"{TITLE} release {version}", "tables": tables, "queries": load_queries()}},
    }


def write_datasette_metadata(out: Path, version: str, view_columns: dict[str, list[str]]) -> None:
    """Write datasette-metadata.json beside the release database."""
    meta = build_metadata(version, view_columns)
    (out / "datasette-metadata.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
