"""What a release says about itself: the dataset card (README.md) and the Croissant metadata.

The card's YAML header is the Hugging Face dataset-card format: one config per table, each pointing at
its Parquet file, so `datasets.load_dataset(folder, "families")` loads one table. Croissant
(croissant.json) describes the same files and columns for dataset search engines and ML tooling.
"""

from __future__ import annotations

import json

import polars as pl

from . import tables as T
from .names import DB_NAME, DESCRIPTION, LICENSE, PACKAGE_NAME, TITLE

HF_LICENSE = "cc-by-4.0"
AUTHOR = "Heedless Backbones contributors"
CROISSANT_TYPES = {
    pl.String: "sc:Text",
    pl.Int64: "sc:Integer",
    pl.Float64: "sc:Float",
    pl.Boolean: "sc:Boolean",
    pl.Date: "sc:Date",
}
RESULT_TABLES = ("classification_results", "detection_results", "segmentation_results")


def counts_line(counts: dict[str, int]) -> str:
    """'12 families, 40 backbones, ...' for the card and the changelog."""
    results = sum(counts[t] for t in RESULT_TABLES)
    return (
        f"{counts['families']} families, {counts['backbones']} backbones, {counts['checkpoints']} checkpoints, "
        f"{results} results ({counts['classification_results']} classification, {counts['detection_results']} "
        f"detection, {counts['segmentation_results']} semantic segmentation), {counts['throughput']} throughput "
        f"and {counts['latency']} latency figures, from {counts['sources']} sources"
    )


def bibtex(version: str, date: str) -> str:
    """A BibTeX entry for one release."""
    key = f"heedless_backbones_{version.replace('.', '_')}"
    return (
        f"@misc{{{key},\n"
        f"  title = {{{{{TITLE}}}: computer-vision backbones compared across tasks, release {version}}},\n"
        f"  author = {{{{{AUTHOR}}}}},\n"
        f"  year = {{{date[:4]}}},\n"
        f"  version = {{{version}}},\n"
        f"  note = {{Dataset release v{version} of {date}, licensed {LICENSE['name']}}}\n"
        "}"
    )


def _yaml_header(counts: dict[str, int]) -> list[str]:
    total = sum(counts.values())
    size = "1K<n<10K" if total < 10_000 else "10K<n<100K" if total < 100_000 else "100K<n<1M"
    lines = [
        "---",
        f"pretty_name: {TITLE}",
        f"license: {HF_LICENSE}",
        "language:",
        "- en",
        "tags:",
        "- computer-vision",
        "- benchmark",
        "- image-classification",
        "- object-detection",
        "- semantic-segmentation",
        "- tabular",
        "size_categories:",
        f"- {size}",
        "configs:",
    ]
    for table in T.TABLES:
        lines += [f"- config_name: {table.name}", f"  data_files: {table.name}.parquet"]
        if table.name == "classification_results":
            lines.append("  default: true")
    lines.append("---")
    return lines


def dataset_card(version: str, date: str, counts: dict[str, int]) -> str:
    """README.md of a release: Hugging Face dataset card header, then what a reader needs."""
    lines = _yaml_header(counts)
    lines += [
        "",
        f"# {TITLE} v{version}",
        "",
        f"Released {date}. {DESCRIPTION}",
        "",
        f"This release: {counts_line(counts)}.",
        "",
        "## Files",
        "",
        "| file | what it is |",
        "|---|---|",
        "| `<table>.parquet` | one Parquet file per table (zstd), rows sorted by the primary key |",
        f"| `{DB_NAME}` | the same tables in SQLite, with keys, indexes and per-task views readable without joins |",
        "| `datapackage.json` | Frictionless Data Package (v2): schemas, keys, licence, sha256 of every file |",
        "| `croissant.json` | Croissant (MLCommons) metadata of the same files and columns |",
        "| `data-dictionary/` | one page per table: every column, its type, unit and what an empty value means |",
        "| `datasette.yaml`, `datasette-metadata.json` | Datasette configuration (canned queries, full-text search) and metadata |",
        "| `SHA256SUMS` | checksums of every file: `sha256sum -c SHA256SUMS` |",
        "",
        "## Load it",
        "",
        "```python",
        "import polars as pl",
        'results = pl.read_parquet("classification_results.parquet")',
        "print(results.height)",
        "",
        "import pandas as pd  # pyarrow types keep integer columns with nulls as integers",
        'results = pd.read_parquet("classification_results.parquet", dtype_backend="pyarrow")',
        "print(len(results), results.eval_resolution_px.dtype)",
        "",
        "import duckdb",
        "print(duckdb.sql(\"SELECT count(*) FROM 'classification_results.parquet'\").fetchall()[0][0])",
        "",
        "from pathlib import Path",
        "from datasets import load_dataset  # one config per table, named as the table",
        'families = load_dataset(str(Path.cwd()), "families", split="train")',
        "print(families.num_rows)",
        "```",
        "",
        "```sh",
        f"sqlite3 {DB_NAME} \"SELECT backbone, checkpoint_id, top1, gmacs FROM classification "
        "WHERE eval_dataset = 'ImageNet-1k' AND adaptation = 'Full fine-tune' AND test_time = 'Single crop' "
        "AND split_kind = 'val' ORDER BY top1 DESC LIMIT 5\"",
        "```",
        "",
        "## Missing values",
        "",
        "A missing value is null in every table and format (Parquet null, SQL NULL); no table writes \"\", "
        "\"nan\" or a placeholder. The data dictionary says, column by column, what null means. Two kinds of "
        "column carry words on purpose: `chain` is '-' for a result with no training stage after pretraining, "
        "and a figure's context ids (`gpu_id`, `precision_id`, `device_id`, `runtime_id`) are the vocabulary "
        "entry 'unknown' when the document does not state them.",
        "",
        "## Tables",
        "",
        "| table | rows | what it holds |",
        "|---|---|---|",
    ]
    for table in T.TABLES:
        lines.append(f"| [`{table.name}`](data-dictionary/{table.name}.md) | {counts[table.name]} | {table.description} |")
    lines += [
        "",
        "## Licence",
        "",
        f"The data (every table and file of this release) is licensed {LICENSE['title']} ({LICENSE['name']}, "
        f"{LICENSE['path']}): share and adapt it with attribution. The numbers are facts read from the documents "
        "in the `sources` table, each cited with where in it; those documents keep their own licences. "
        "`checkpoints.license` records the licence of each checkpoint's *weights* as its documents state it; it "
        "governs the weights, not this data.",
        "",
        "## Citation",
        "",
        "```bibtex",
        bibtex(version, date),
        "```",
        "",
    ]
    return "\n".join(lines)


def croissant(version: str, date: str, sha256s: dict[str, str]) -> dict:
    """Croissant 1.0 JSON-LD: one FileObject and one RecordSet per table."""
    context = {
        "@language": "en",
        "@vocab": "https://schema.org/",
        "citeAs": "cr:citeAs",
        "column": "cr:column",
        "conformsTo": "dct:conformsTo",
        "cr": "http://mlcommons.org/croissant/",
        "rai": "http://mlcommons.org/croissant/RAI/",
        "data": {"@id": "cr:data", "@type": "@json"},
        "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
        "dct": "http://purl.org/dc/terms/",
        "equivalentProperty": "cr:equivalentProperty",
        "examples": {"@id": "cr:examples", "@type": "@json"},
        "extract": "cr:extract",
        "field": "cr:field",
        "fileProperty": "cr:fileProperty",
        "fileObject": "cr:fileObject",
        "fileSet": "cr:fileSet",
        "format": "cr:format",
        "includes": "cr:includes",
        "isLiveDataset": "cr:isLiveDataset",
        "jsonPath": "cr:jsonPath",
        "key": "cr:key",
        "md5": "cr:md5",
        "parentField": "cr:parentField",
        "path": "cr:path",
        "recordSet": "cr:recordSet",
        "references": "cr:references",
        "regex": "cr:regex",
        "repeated": "cr:repeated",
        "replace": "cr:replace",
        "samplingRate": "cr:samplingRate",
        "sc": "https://schema.org/",
        "separator": "cr:separator",
        "source": "cr:source",
        "subField": "cr:subField",
        "transform": "cr:transform",
    }
    files = [
        {
            "@type": "cr:FileObject",
            "@id": f"{t.name}.parquet",
            "name": f"{t.name}.parquet",
            "description": t.description,
            "contentUrl": f"{t.name}.parquet",
            "encodingFormat": "application/x-parquet",
            "sha256": sha256s[f"{t.name}.parquet"],
        }
        for t in T.TABLES
    ]
    record_sets = []
    for t in T.TABLES:
        fields = [
            {
                "@type": "cr:Field",
                "@id": f"{t.name}/{c}",
                "name": c,
                "description": T.COLUMN_DOCS.get(c, c),
                "dataType": CROISSANT_TYPES[d],
                "source": {"fileObject": {"@id": f"{t.name}.parquet"}, "extract": {"column": c}},
            }
            for c, d in t.columns.items()
        ]
        record_set: dict = {"@type": "cr:RecordSet", "@id": t.name, "name": t.name, "description": t.description}
        record_set["key"] = [{"@id": f"{t.name}/{k}"} for k in t.primary_key]
        record_set["field"] = fields
        record_sets.append(record_set)
    return {
        "@context": context,
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": PACKAGE_NAME,
        "alternateName": TITLE,
        "description": DESCRIPTION,
        "version": version,
        "datePublished": date,
        "license": LICENSE["path"],
        "creator": {"@type": "sc:Organization", "name": AUTHOR},
        "citeAs": bibtex(version, date),
        "keywords": ["computer vision", "backbones", "benchmark", "image classification", "object detection",
                     "semantic segmentation"],
        "isLiveDataset": False,
        "distribution": files,
        "recordSet": record_sets,
    }


def croissant_text(version: str, date: str, sha256s: dict[str, str]) -> str:
    return json.dumps(croissant(version, date, sha256s), indent=2, ensure_ascii=False) + "\n"

