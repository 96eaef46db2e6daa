"""Writers: Parquet per table, SQLite, data dictionary, dataset card, Croissant, datapackage.json, SHA256SUMS.

Everything written is a function of the tables, the version and the release date only (no clocks, no
paths), so building the same raw/ twice gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import polars as pl

from . import card, dictionary
from . import tables as T
from .datasette_meta import write_datasette_metadata
from .names import DB_NAME, DESCRIPTION, LICENSE, PACKAGE_NAME, TITLE
from .views import VIEWS

DICTIONARY = "data-dictionary"
SQL_TYPES = {pl.String: "TEXT", pl.Int64: "INTEGER", pl.Float64: "REAL", pl.Boolean: "INTEGER", pl.Date: "TEXT"}
FRICTIONLESS_TYPES = {pl.String: "string", pl.Int64: "integer", pl.Float64: "number", pl.Boolean: "boolean", pl.Date: "date"}

def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_parquet(frames: dict[str, pl.DataFrame], out: Path) -> None:
    """One Parquet file per table, with the declared types."""
    for table in T.TABLES:
        frames[table.name].write_parquet(out / f"{table.name}.parquet", compression="zstd", statistics=True)


def _create_sql(table: T.Table) -> str:
    cols = []
    for name, dtype in table.columns.items():
        null = " NOT NULL" if name in table.primary_key else ""
        cols.append(f'  "{name}" {SQL_TYPES[dtype]}{null}')
    cols.append(f"  PRIMARY KEY ({', '.join(table.primary_key)})")
    for column, ref in table.foreign_keys:
        key = T.TABLES_BY_NAME[ref].primary_key[0]
        cols.append(f'  FOREIGN KEY ("{column}") REFERENCES {ref}({key})')
    return f"CREATE TABLE {table.name} (\n" + ",\n".join(cols) + "\n) WITHOUT ROWID"


def write_sqlite(frames: dict[str, pl.DataFrame], path: Path) -> None:
    """The same tables in SQLite, with keys, foreign keys, indexes and readable views."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        for table in T.TABLES:
            con.execute(_create_sql(table))
            for column, _ref in table.foreign_keys:
                con.execute(f'CREATE INDEX idx_{table.name}_{column} ON {table.name}("{column}")')
            marks = ", ".join("?" * len(table.columns))
            # SQLite has no boolean or date: cast in polars (fast) rather than per value in Python
            frame = frames[table.name].with_columns(
                *(pl.col(n).cast(pl.Int64) for n, d in table.columns.items() if d == pl.Boolean),
                *(pl.col(n).cast(pl.String) for n, d in table.columns.items() if d == pl.Date),
            )
            con.executemany(f"INSERT INTO {table.name} VALUES ({marks})", frame.iter_rows())
        for name, sql in VIEWS.items():
            con.execute(f"CREATE VIEW {name} AS {sql.strip()}")
        write_search_index(con)
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()


SEARCH_ROWS = """
SELECT 'family', family_id, name, family_id FROM families
UNION ALL SELECT 'backbone', backbone_id, name, backbone_id || ' ' || coalesce(timm_arch, '') || ' ' || coalesce(hf_id, '') FROM backbones
UNION ALL SELECT 'checkpoint', checkpoint_id, checkpoint_id, replace(checkpoint_id, '.', ' ') FROM checkpoints
UNION ALL SELECT 'source', source_id, title, source_id || ' ' || authors || ' ' || coalesce(arxiv_id, '') FROM sources
UNION ALL SELECT 'dataset', dataset_id, name, dataset_id FROM datasets
UNION ALL SELECT 'head', head_id, name, head_id FROM heads
ORDER BY 1, 2"""


def write_search_index(con: sqlite3.Connection) -> None:
    """search_index: an FTS5 table of every name, for Datasette's search box and the `search` canned query."""
    con.execute("CREATE VIRTUAL TABLE search_index USING fts5(kind UNINDEXED, id UNINDEXED, name, detail)")
    con.execute(f"INSERT INTO search_index (kind, id, name, detail) {SEARCH_ROWS}")


def view_columns(db: Path) -> dict[str, list[str]]:
    """Column names of every readable view, read back from the database."""
    con = sqlite3.connect(db)
    try:
        return {v: [r[1] for r in con.execute(f"PRAGMA table_info({v})")] for v in VIEWS}
    finally:
        con.close()


DP_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
DR_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"
TS_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"


def _schema(table: T.Table) -> dict:
    fields = []
    for n, d in table.columns.items():
        field: dict = {"name": n, "type": FRICTIONLESS_TYPES[d], "description": T.COLUMN_DOCS.get(n, "")}
        if dictionary.null_meaning(table.name, n) is None:
            field["constraints"] = {"required": True}
        fields.append(field)
    # null is the only missing value in the data. "nan" is listed because the validator reads Parquet through
    # pandas, which hands over a null in an integer column as NaN; no string column holds "nan" (a test checks)
    schema: dict = {"$schema": TS_PROFILE, "fields": fields, "missingValues": ["", "nan"],
                    "primaryKey": list(table.primary_key)}
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": [c], "reference": {"resource": r, "fields": [T.TABLES_BY_NAME[r].primary_key[0]]}}
            for c, r in table.foreign_keys
        ]
    return schema


def created(date: str) -> str:
    """The release date as datapackage.json's `created` (RFC 3339)."""
    return f"{date}T00:00:00Z"


def release_date(folder: Path) -> str | None:
    """The date a release folder was cut (None for releases older than dates)."""
    package = json.loads((folder / "datapackage.json").read_text())
    value = package.get("created")
    return str(value)[:10] if value else None


def write_datapackage(frames: dict[str, pl.DataFrame], out: Path, version: str, date: str) -> None:
    """datapackage.json (Data Package v2): every resource with path, sha256, schema and keys."""
    resources: list[dict[str, object]] = []
    for table in T.TABLES:
        path = out / f"{table.name}.parquet"
        # no "bytes" on tables: the validator reads Parquet through pyarrow, never as a byte stream, so it
        # cannot count them and would mark every table invalid; the sha256 and SHA256SUMS pin the bytes
        resources.append(
            {
                "$schema": DR_PROFILE,
                "name": table.name,
                "type": "table",
                "path": path.name,
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "description": table.description,
                "hash": f"sha256:{sha256(path)}",
                "schema": _schema(table),
            }
        )
    for path, media, desc in _extra_files(out):
        rel = path.relative_to(out).as_posix()
        resources.append(
            {
                "$schema": DR_PROFILE,
                "name": rel.rsplit(".", 1)[0].replace("/", "-").replace(".", "-").replace("_", "-").lower(),
                "type": "file",
                "path": rel,
                "format": path.suffix.lstrip("."),
                "mediatype": media,
                "description": desc,
                "bytes": path.stat().st_size,
                "hash": f"sha256:{sha256(path)}",
            }
        )
    sources = frames["sources"].sort("source_id")
    package: dict[str, object] = {
        "$schema": DP_PROFILE,
        "name": PACKAGE_NAME,
        "title": TITLE,
        "description": DESCRIPTION,
        "version": version,
        "created": created(date),
        "licenses": [LICENSE],
        "contributors": [{"title": card.AUTHOR, "roles": ["creator"]}],
        "keywords": ["computer vision", "backbones", "benchmark"],
        "sources": [{"title": r["title"], "path": r["url"]} for r in sources.iter_rows(named=True)],
        "resources": resources,
    }
    (out / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n")


EXTRA_FILES = {
    DB_NAME: ("application/vnd.sqlite3", "The same tables in SQLite, with keys, indexes and readable per-task views."),
    "README.md": ("text/markdown", "Dataset card: what the release holds, how to load it, licence and citation."),
    "croissant.json": ("application/ld+json", "Croissant (MLCommons) metadata of the same files and columns."),
    "datasette.yaml": ("application/yaml", "Datasette configuration: canned queries, plugins, full-text search."),
    "datasette-metadata.json": ("application/json", "Datasette metadata: descriptions, units, labels, facets."),
}


def _extra_files(out: Path) -> list[tuple[Path, str, str]]:
    found = [(out / name, media, desc) for name, (media, desc) in EXTRA_FILES.items() if (out / name).exists()]
    for page in sorted((out / DICTIONARY).glob("*.md")):
        what = "index" if page.stem == "index" else f"table {page.stem}"
        found.append((page, "text/markdown", f"Data dictionary: {what}."))
    return found


def write_dictionary(frames: dict[str, pl.DataFrame], out: Path) -> None:
    """data-dictionary/: an index and one page per table."""
    folder = out / DICTIONARY
    folder.mkdir()
    counts = {t.name: frames[t.name].height for t in T.TABLES}
    for table in T.TABLES:
        (folder / f"{table.name}.md").write_text(dictionary.dictionary_page(table, counts[table.name]))
    (folder / "index.md").write_text(dictionary.dictionary_index(counts))


def write_card(frames: dict[str, pl.DataFrame], out: Path, version: str, date: str) -> None:
    """README.md (dataset card) and croissant.json."""
    counts = {t.name: frames[t.name].height for t in T.TABLES}
    (out / "README.md").write_text(card.dataset_card(version, date, counts))
    sums = {f"{t.name}.parquet": sha256(out / f"{t.name}.parquet") for t in T.TABLES}
    (out / "croissant.json").write_text(card.croissant_text(version, date, sums))


def write_checksums(out: Path) -> None:
    """SHA256SUMS over every file of the release, folders included (sha256sum -c compatible)."""
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    lines = [f"{sha256(out / p)}  {p}" for p in files]
    (out / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def write_release(frames: dict[str, pl.DataFrame], out: Path, version: str, date: str) -> None:
    """Write every release file into `out` (which must exist and be empty); `date` is YYYY-MM-DD."""
    write_parquet(frames, out)
    write_sqlite(frames, out / DB_NAME)
    write_datasette_metadata(out, version, view_columns(out / DB_NAME))
    write_dictionary(frames, out)
    write_card(frames, out, version, date)
    write_datapackage(frames, out, version, date)
    write_checksums(out)
