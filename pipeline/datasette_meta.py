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
    "where_in_source": "Where in the source the number is (table, figure, section): the same as `where`, under a "
    "name SQL needs no quotes for. `where` stays in the views until the next major release.",
}


SETTINGS = {
    "sql_time_limit_ms": 1000,
    "max_returned_rows": 5000,
    "allow_download": True,
    "default_cache_ttl": 86400,
    "max_csv_mb": 20,
}
SEARCH_TABLE = "search_index"
SEARCH_DOC = ("Full-text index of names: families, backbones (with timm and Hugging Face names), checkpoints, "
              "sources (title and authors), datasets and heads. Search it here or with the search canned query.")


def _table_meta(table: T.Table) -> dict:
    return {"description": table.description, "columns": {c: T.COLUMN_DOCS.get(c, "") for c in table.columns}}


def _table_config(name: str, label: str | None = None) -> dict:
    config: dict = {}
    if label:
        config["label_column"] = label
    if name in FACETS:
        config["facets"] = FACETS[name]
    if name in SORT_DESC:
        config["sort_desc"] = SORT_DESC[name]
    return config


def _view_meta(name: str, columns: list[str]) -> dict:
    docs = {**T.COLUMN_DOCS, **VIEW_COLUMNS}
    return {"description": VIEW_DOCS[name], "columns": {c: docs.get(c, "") for c in columns}}


def load_queries() -> dict:
    """The canned queries, as Datasette configuration for this database."""
    config = yaml.safe_load(QUERIES_FILE.read_text(encoding="utf-8"))
    return config["databases"][DB_STEM]["queries"]


def build_metadata(version: str, view_columns: dict[str, list[str]]) -> dict:
    """Datasette metadata for one release (the Datasette 1.0 split: what the data is, never how to serve it)."""
    tables = {t.name: _table_meta(t) for t in T.TABLES}
    tables.update({v: _view_meta(v, cols) for v, cols in view_columns.items()})
    tables[SEARCH_TABLE] = {"description": SEARCH_DOC, "columns": {
        "kind": "What the row names: family, backbone, checkpoint, source, dataset or head.",
        "id": "Its id (the key of its table).",
        "name": "Its name.",
        "detail": "Other names it goes by (ids, timm and Hugging Face names, authors).",
    }}
    return {
        "title": f"{TITLE} {version}",
        "description": DESCRIPTION + " Compute is in GMACs; throughput in images/s; accuracies in %.",
        "license": LICENSE["name"],
        "license_url": LICENSE["path"],
        "source": "Hand-curated from the papers and model-zoo tables listed in the sources table",
        "source_url": "https://arxiv.org/",
        "databases": {DB_STEM: {"description": f"{TITLE} release {version}", "tables": tables}},
    }


def build_config(view_columns: dict[str, list[str]]) -> dict:
    """datasette.yaml for one release: settings, plugins, canned queries and table options (Datasette 1.0 layout)."""
    tables = {t.name: _table_config(t.name, t.label) for t in T.TABLES}
    tables.update({v: _table_config(v) for v in view_columns})
    return {
        "settings": SETTINGS,
        "plugins": {"heedless-links": {"viewer_url": {"$env": "HEEDLESS_VIEWER_URL"}}},
        "databases": {DB_STEM: {"tables": {k: v for k, v in tables.items() if v}, "queries": load_queries()}},
    }


def write_datasette_metadata(out: Path, version: str, view_columns: dict[str, list[str]]) -> None:
    """Write datasette-metadata.json and datasette.yaml beside the release database."""
    meta = build_metadata(version, view_columns)
    (out / "datasette-metadata.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    header = ("# Datasette configuration for this release (Datasette 1.0 layout: datasette -c datasette.yaml\n"
              "# -m datasette-metadata.json). On Datasette 0.65, `heedless serve` merges the two into the metadata.\n")
    text = yaml.safe_dump(build_config(view_columns), sort_keys=False, allow_unicode=True, width=100)
    (out / "datasette.yaml").write_text(header + text)
