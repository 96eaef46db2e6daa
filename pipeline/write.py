"""Writers: Parquet per table, one SQLite database, datapackage.json, SHA256SUMS.

Everything written is a function of the tables and the version only (no clocks, no
paths), so building the same raw/ twice gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import polars as pl

from . import tables as T
from .datasette_meta import write_datasette_metadata
from .names import DB_NAME, DESCRIPTION, LICENSE, PACKAGE_NAME, TITLE
from .views import VIEWS

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
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()


def view_columns(db: Path) -> dict[str, list[str]]:
    """Column names of every readable view, read back from the database."""
    con = sqlite3.connect(db)
    try:
        return {v: [r[1] for r in con.execute(f"PRAGMA table_info({v})")] for v in VIEWS}
    finally:
        con.close()


def _schema(table: T.Table) -> dict:
    fields = [
        {"name": n, "type": FRICTIONLESS_TYPES[d], "description": T.COLUMN_DOCS.get(n, "")}
        for n, d in table.columns.items()
    ]
    # "nan": how the validator's Parquet reader (through pandas) hands over empty integers
    schema: dict = {"fields": fields, "missingValues": ["", "nan"], "primaryKey": list(table.primary_key)}
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": c, "reference": {"resource": r, "fields": T.TABLES_BY_NAME[r].primary_key[0]}}
            for c, r in table.foreign_keys
        ]
    return schema


def write_datapackage(frames: dict[str, pl.DataFrame], out: Path, version: str) -> None:
    """datapackage.json: every resource with path, bytes, sha256, schema and keys."""
    resources = []
    for table in T.TABLES:
        path = out / f"{table.name}.parquet"
        resources.append(
            {
                "name": table.name,
                "type": "table",
                "path": path.name,
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "description": table.description,
                "bytes": path.stat().st_size,
                "hash": f"sha256:{sha256(path)}",
                "schema": _schema(table),
            }
        )
    for path, media, desc in _extra_files(out):
        resources.append(
            {
                "name": path.stem.replace(".", "-").replace("_", "-").lower(),
                "type": "file",
                "path": path.name,
                "format": path.suffix.lstrip("."),
                "mediatype": media,
                "description": desc,
                "bytes": path.stat().st_size,
                "hash": f"sha256:{sha256(path)}",
            }
        )
    sources = frames["sources"].sort("source_id")
    package = {
        "profile": "data-package",
        "name": PACKAGE_NAME,
        "title": TITLE,
        "description": DESCRIPTION,
        "version": version,
        "licenses": [LICENSE],
        "sources": [{"title": r["title"], "path": r["url"]} for r in sources.iter_rows(named=True)],
        "resources": resources,
    }
    (out / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n")


def _extra_files(out: Path) -> list[tuple[Path, str, str]]:
    known = {
        DB_NAME: ("application/vnd.sqlite3", "The same tables in SQLite, with keys, indexes and readable per-task views."),
        "datasette-metadata.json": ("application/json", "Datasette metadata: descriptions, units, labels, facets."),
    }
    return [(out / name, media, desc) for name, (media, desc) in known.items() if (out / name).exists()]


def write_checksums(out: Path) -> None:
    """SHA256SUMS over every file of the release (sha256sum -c compatible)."""
    files = sorted(p for p in out.iterdir() if p.is_file() and p.name != "SHA256SUMS")
    lines = [f"{sha256(p)}  {p.name}" for p in files]
    (out / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def write_release(frames: dict[str, pl.DataFrame], out: Path, version: str) -> None:
    """Write every release file into `out` (which must exist and be empty)."""
    write_parquet(frames, out)
    write_sqlite(frames, out / DB_NAME)
    write_datasette_metadata(out, version, view_columns(out / DB_NAME))
    write_datapackage(frames, out, version)
    write_checksums(out)
