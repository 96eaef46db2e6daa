"""The data dictionary: every column's type, unit and what an empty (null) value means.

One convention for missing values holds in every table and format: a value that is missing is null
(a Parquet null, SQL NULL, an empty cell in CSV). No table writes "", "nan", "n/a" or a placeholder
for it. Two kinds of column carry words on purpose, and they are values, not missing ones: `chain` is
'-' for a result with no training stage after pretraining (then `chain_length` is 0), and the context
of a throughput or latency figure (`gpu_id`, `precision_id`, `device_id`, `runtime_id`) and a source's
`flops_convention` are the vocabulary entry 'unknown' when the document was read and does not state
them, because they are part of the figure's key and must be counted and filtered like any other value.
"""

from __future__ import annotations

import polars as pl

from . import tables as T

TYPE_NAMES = {pl.String: "string", pl.Int64: "integer", pl.Float64: "number", pl.Boolean: "boolean", pl.Date: "date"}

PERCENT = "%"
UNITS: dict[str, str] = {
    **{m: PERCENT for m in (*T.CLASSIFICATION_METRICS, *T.BOX, *T.MASK, *T.SEGMENTATION_METRICS)},
    "gmacs": "GMACs (10^9 multiply-accumulates) per image",
    "params_m": "millions of parameters",
    "images_per_s": "images per second",
    "latency_ms": "milliseconds per batch",
    "eval_resolution_px": "pixels (image side)",
    "pretrain_resolution_px": "pixels (image side)",
    "resolution_px": "pixels (image side)",
    "crop_px": "pixels (crop side)",
    "pretrain_epochs": "epochs",
    "epochs": "epochs",
    "train_epochs": "epochs",
    "iterations": "iterations",
    "train_iterations": "iterations",
    "size_images": "images",
    "batch_size": "images per batch",
    "year": "calendar year",
    "crop_ratio": "ratio (crop side / resized side)",
    "published": "ISO 8601 date",
    "first_published": "ISO 8601 date",
}

NOT_STATED = "the source does not state it"
NONE_RECORDED = "none recorded"
NOT_REPORTED = "the source reports no such value for this result"
# What a null means, per column (or per "table.column" where one table differs). A column not named
# here is never null; a test checks every null in a release against this list.
NULL_MEANING: dict[str, str] = {
    **{m: NOT_REPORTED for m in (*T.CLASSIFICATION_METRICS, *T.BOX, *T.MASK, *T.SEGMENTATION_METRICS)},
    "gmacs": "the source gives no compute figure for this result",
    "notes": NONE_RECORDED,
    "tag": "no other result of the source shares everything else",
    "timm_arch": "no timm architecture of this name",
    "hf_id": "no Hugging Face model recorded",
    "timm_model": "no timm weights recorded",
    "mmpretrain_model": "no mmpretrain model recorded",
    "code_url": "no code repository recorded",
    "url": "no web address recorded",
    "weights_url": "no download address recorded",
    "license": "the documents state no weights licence",
    "commercial_use": "unknown, or the licence has conditions to read",
    "distillation_teacher": "not a distilled checkpoint",
    "pretrain_resolution_px": NOT_STATED,
    "pretrain_epochs": NOT_STATED,
    "finetune_dataset_id": "no fine-tuning stage after pretraining",
    "eval_resolution_px": NOT_STATED,
    "test_crops": "not a multi-crop evaluation",
    "crop_ratio": NOT_STATED,
    "conflicts_with": "no document reports a different value",
    "train_epochs": NOT_STATED + " (or the schedule is given in iterations)",
    "train_iterations": NOT_STATED + " (or the schedule is given in epochs)",
    "input_size": NOT_STATED,
    "crop_px": NOT_STATED,
    "segmentation_results.test_time_id": NOT_STATED + " (miou_ms absent)",
    "head_id": "a backbone-only figure (no downstream head)",
    "resolution_px": NOT_STATED,
    "batch_size": NOT_STATED,
    "memory_layout": NOT_STATED,
    "compile_mode": NOT_STATED,
    "framework": NOT_STATED,
    "context_where": "the context is stated beside the number (see where)",
    "chain_stages.epochs": NOT_STATED + " (or the stage is counted in iterations)",
    "chain_stages.iterations": NOT_STATED + " (or the stage is counted in epochs)",
    "chain_stages.resolution_px": NOT_STATED,
    "chain_stages.crop_px": NOT_STATED,
    "standard_training": "not an evaluation dataset with a standard training set",
    "public": "availability not recorded",
    "size_images": "no primary document states the size",
    "size_where": "no size recorded",
    "arxiv_id": "not an arXiv document",
    "arxiv_version": "not an arXiv document",
    "venue": "no venue (preprint or model zoo)",
    "published": "date not recorded",
    "commit": "not a model-zoo document",
}


def null_meaning(table: str, column: str) -> str | None:
    """What a null in this column means, or None when the column is never null."""
    return NULL_MEANING.get(f"{table}.{column}", NULL_MEANING.get(column))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def dictionary_page(table: T.Table, rows: int) -> str:
    """One Markdown page: the table's meaning, keys, and every column with type, unit and null meaning."""
    lines = [f"# `{table.name}`", "", table.description, "", f"Rows in this release: {rows}.", ""]
    lines.append(f"Primary key: {', '.join(f'`{k}`' for k in table.primary_key)}.")
    if table.foreign_keys:
        refs = ", ".join(
            f"`{c}` -> [`{r}`]({r}.md).`{T.TABLES_BY_NAME[r].primary_key[0]}`" for c, r in table.foreign_keys
        )
        lines.append(f"Foreign keys: {refs}.")
    lines += ["", "| column | type | unit | empty (null) means | description |", "|---|---|---|---|---|"]
    for name, dtype in table.columns.items():
        meaning = null_meaning(table.name, name) or "never empty"
        lines.append(
            f"| `{name}` | {TYPE_NAMES[dtype]} | {_cell(UNITS.get(name, ''))} | {_cell(meaning)} "
            f"| {_cell(T.COLUMN_DOCS.get(name, ''))} |"
        )
    lines += [
        "",
        "Missing values: null is the only marker (Parquet null, SQL NULL); no table writes \"\", \"nan\" or "
        "a placeholder. In pandas, read with `dtype_backend=\"pyarrow\"` so integer columns with nulls stay "
        "integers.",
        "",
    ]
    return "\n".join(lines)


def dictionary_index(counts: dict[str, int]) -> str:
    """The dictionary's index page: one line per table."""
    lines = ["# Data dictionary", "", "One page per table: every column, its type, unit and what an empty value means.", ""]
    lines += ["| table | rows | what it holds |", "|---|---|---|"]
    for t in T.TABLES:
        lines.append(f"| [`{t.name}`]({t.name}.md) | {counts[t.name]} | {_cell(t.description)} |")
    lines += ["", "## Missing values", "", (__doc__ or "").split("\n\n", 1)[1].strip().replace("\n", " "), ""]
    return "\n".join(lines)
