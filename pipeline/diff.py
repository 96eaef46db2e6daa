"""What changed between two releases: schema, added, removed and changed rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

LIST_LIMIT = 200  # rows listed per table and kind in the changelog; diff prints all


@dataclass
class TableDiff:
    """Differences in one table between two releases."""

    name: str
    key: list[str]
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, str, object, object, str]] = field(default_factory=list)  # key, col, old, new, source
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    columns_retyped: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.columns_added or self.columns_removed or self.columns_retyped)


@dataclass
class ReleaseDiff:
    """Differences between two releases, table by table."""

    tables: list[TableDiff]
    tables_added: list[str]
    tables_removed: list[str]

    @property
    def empty(self) -> bool:
        return not self.tables_added and not self.tables_removed and all(t.empty for t in self.tables)

    def required_bump(self) -> str | None:
        """Data SemVer: major for breaking schema, minor for additions/removals, patch for corrections."""
        if self.tables_removed or any(t.columns_removed or t.columns_retyped for t in self.tables):
            return "major"
        if self.tables_added or any(t.columns_added or t.added or t.removed for t in self.tables):
            return "minor"
        if any(t.changed for t in self.tables):
            return "patch"
        return None


def read_release(folder: Path) -> tuple[dict[str, pl.DataFrame], dict[str, list[str]]]:
    """Tables and primary keys of a release, read from its datapackage.json and Parquet files."""
    package = json.loads((folder / "datapackage.json").read_text())
    frames, keys = {}, {}
    for res in package["resources"]:
        if res.get("format") == "parquet":
            frames[res["name"]] = pl.read_parquet(folder / res["path"])
            keys[res["name"]] = list(res["schema"]["primaryKey"])
    return frames, keys


def _key_expr(key: list[str]) -> pl.Expr:
    return pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator="|").alias("_key")


def _source_col(frame: pl.DataFrame) -> str | None:
    for c in ("source_id", "params_source_id"):
        if c in frame.columns:
            return c
    return None


def diff_table(name: str, key: list[str], old: pl.DataFrame, new: pl.DataFrame) -> TableDiff:
    """Compare one table by its primary key."""
    out = TableDiff(name, key)
    out.columns_added = [c for c in new.columns if c not in old.columns]
    out.columns_removed = [c for c in old.columns if c not in new.columns]
    out.columns_retyped = [c for c in new.columns if c in old.columns and new.schema[c] != old.schema[c]]
    old_k, new_k = old.with_columns(_key_expr(key)), new.with_columns(_key_expr(key))
    out.added = new_k.join(old_k, on="_key", how="anti").get_column("_key").sort().to_list()
    out.removed = old_k.join(new_k, on="_key", how="anti").get_column("_key").sort().to_list()
    common = [c for c in new.columns if c in old.columns and c not in key and c not in out.columns_retyped]
    both = new_k.select("_key", *common).join(old_k.select("_key", *common), on="_key", how="inner", suffix="__old")
    src = _source_col(new)
    for col in common:
        differs = both.filter(pl.col(col).ne_missing(pl.col(f"{col}__old")))
        for row in differs.sort("_key").iter_rows(named=True):
            source = str(row[src]) if src and row.get(src) else ""
            out.changed.append((row["_key"], col, row[f"{col}__old"], row[col], source))
    return out


def diff_releases(old_dir: Path, new_dir: Path) -> ReleaseDiff:
    """Diff two release folders."""
    old, old_keys = read_release(old_dir)
    new, new_keys = read_release(new_dir)
    tables = [diff_table(n, new_keys[n], old[n], new[n]) for n in sorted(new) if n in old]
    return ReleaseDiff(tables, sorted(set(new) - set(old)), sorted(set(old) - set(new)))


def _fmt(value: object) -> str:
    return "(empty)" if value is None else str(value)


def render(diff: ReleaseDiff, limit: int | None = None) -> list[str]:
    """Markdown lines: Added, Changed, Removed (each row, up to `limit` per table and kind)."""
    lines: list[str] = []

    def listed(items: list[str], fmt) -> None:  # type: ignore[no-untyped-def]
        shown = items if limit is None else items[:limit]
        lines.extend(fmt(i) for i in shown)
        if len(items) > len(shown):
            lines.append(f"  - ... and {len(items) - len(shown)} more (`python -m pipeline diff` lists all)")

    lines.append("### Added")
    for name in diff.tables_added:
        lines.append(f"- table `{name}`")
    for t in diff.tables:
        for c in t.columns_added:
            lines.append(f"- column `{t.name}.{c}`")
        if t.added:
            lines.append(f"- {t.name}: {len(t.added)} row(s)")
            listed(t.added, lambda k: f"  - `{k}`")
    lines.append("")
    lines.append("### Changed")
    for t in diff.tables:
        for c in t.columns_retyped:
            lines.append(f"- column `{t.name}.{c}` changed type")
        if t.changed:
            lines.append(f"- {t.name}: {len(t.changed)} value(s)")

            def change(ch):  # type: ignore[no-untyped-def]
                key, col, old, new, source = ch
                src = f" (source {source})" if source else ""
                return f"  - `{key}` {col}: {_fmt(old)} -> {_fmt(new)}{src}"

            listed(t.changed, change)  # type: ignore[arg-type]
    lines.append("")
    lines.append("### Removed")
    for name in diff.tables_removed:
        lines.append(f"- table `{name}`")
    for t in diff.tables:
        for c in t.columns_removed:
            lines.append(f"- column `{t.name}.{c}`")
        if t.removed:
            lines.append(f"- {t.name}: {len(t.removed)} row(s)")
            listed(t.removed, lambda k: f"  - `{k}`")
    return lines


CORRECTIONS_SHOWN = 20
HEADLINE = (("families", "family", "families"), ("backbones", "backbone", "backbones"),
            ("checkpoints", "checkpoint", "checkpoints"),
            ("classification_results", "classification result", "classification results"),
            ("detection_results", "detection result", "detection results"),
            ("segmentation_results", "segmentation result", "segmentation results"),
            ("throughput", "throughput figure", "throughput figures"), ("latency", "latency figure", "latency figures"),
            ("sources", "source", "sources"))


def _headline(diff: ReleaseDiff, pick: str) -> str:
    by_name = {t.name: t for t in diff.tables}
    parts = []
    for name, one, many in HEADLINE:
        t = by_name.get(name)
        n = len(getattr(t, pick)) if t else 0
        if n:
            parts.append(f"{n:,} {one if n == 1 else many}")
    return ", ".join(parts) or "nothing"


def summary(diff: ReleaseDiff, previous: str, counts: dict[str, int]) -> list[str]:
    """What a person reads first: headline counts, a per-table table of counts, then the corrections."""
    lines = [
        f"Compared with v{previous} (a {diff.required_bump()} change). Added: {_headline(diff, 'added')}. "
        f"Removed: {_headline(diff, 'removed')}. Values corrected: {sum(len(t.changed) for t in diff.tables)}.",
        "",
    ]
    if diff.tables_added or diff.tables_removed:
        lines += [f"New tables: {', '.join(f'`{n}`' for n in diff.tables_added) or 'none'}; removed tables: "
                  f"{', '.join(f'`{n}`' for n in diff.tables_removed) or 'none'}.", ""]
    lines += ["| table | rows now | added | changed values | removed |", "|---|---|---|---|---|"]
    for t in diff.tables:
        if not t.empty:
            lines.append(f"| `{t.name}` | {counts.get(t.name, '')} | {len(t.added)} | {len(t.changed)} | {len(t.removed)} |")
    for name in diff.tables_added:
        lines.append(f"| `{name}` (new) | {counts.get(name, '')} | {counts.get(name, '')} | 0 | 0 |")
    corrections = [(t.name, c) for t in diff.tables for c in t.changed]
    if corrections:
        lines += ["", "Corrections (old -> new, and the source that says so):", ""]
        for name, (key, col, old, new, source) in corrections[:CORRECTIONS_SHOWN]:
            src = f" (source {source})" if source else ""
            lines.append(f"- {name} `{key}` {col}: {_fmt(old)} -> {_fmt(new)}{src}")
        if len(corrections) > CORRECTIONS_SHOWN:
            lines.append(f"- ... and {len(corrections) - CORRECTIONS_SHOWN} more, listed below")
    return lines
