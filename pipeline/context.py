"""How each number was measured, beyond its own row: split kind, training data seen, citations.

- `split_kind` comes from the splits vocabulary (val, test_dev, test).
- `training_data_seen` lists every dataset the weights saw before the evaluation (the checkpoint's
  pretraining dataset, then each chain stage); `extra_training_data` says whether any of them lies
  outside the evaluation dataset's standard training set (`standard_training` in vocab/datasets.yaml).
- One measurement, many citations: results of different documents that agree on the checkpoint,
  chain, evaluation and protocol and on every metric both give are one result citing all of them
  (papers first, then the earliest document). Different values stay apart, marked as a conflict.
- A backbone's `first_published` is the earliest date among the documents that report it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import polars as pl

from . import tables as T

MEASUREMENT_KEYS = {
    "classification_results": (
        "checkpoint_id", "chain", "eval_dataset_id", "eval_resolution_px", "eval_split",
        "adaptation_id", "test_time_id", "test_crops",
    ),
    "detection_results": (
        "checkpoint_id", "head_id", "chain", "eval_dataset_id", "eval_split", "adaptation_id", "test_time_id",
    ),
    "segmentation_results": (
        "checkpoint_id", "head_id", "chain", "eval_dataset_id", "eval_split", "crop_px", "adaptation_id",
        "test_time_id",
    ),
}
METRICS = {
    "classification_results": T.CLASSIFICATION_METRICS,
    "detection_results": T.BOX + T.MASK,
    "segmentation_results": T.SEGMENTATION_METRICS,
}
FILLED = ("gmacs", "input_size")  # taken from a later citation when the primary leaves them empty


def add_measurement_context(frames: dict[str, pl.DataFrame]) -> None:
    """Add split kinds, training data seen, citations and first dates to the frames, in place."""
    citations: list[pl.DataFrame] = []
    removed: set[str] = set()
    for table in T.RESULT_TABLES:
        frame = _add_split_kind(frames[table.name], frames["splits"])
        frame = _add_training_data(frame, frames["checkpoints"], frames["chain_stages"], frames["datasets"])
        frame, cites, gone = _merge_citations(table.name, frame, frames["sources"])
        frames[table.name] = frame
        citations.append(cites)
        removed |= gone
    if removed:
        frames["chain_stages"] = frames["chain_stages"].filter(~pl.col("result_id").is_in(list(removed)))
    frames["citations"] = pl.concat(citations)
    frames["backbones"] = _add_first_published(frames)


def _unique(frame: pl.DataFrame, key: str, *cols: str) -> pl.DataFrame:
    return frame.select(key, *cols).filter(pl.col(key).is_not_null()).unique(key, keep="first", maintain_order=True)


def _add_split_kind(frame: pl.DataFrame, splits: pl.DataFrame) -> pl.DataFrame:
    kinds = _unique(splits, "split_id", "kind").rename({"split_id": "eval_split", "kind": "_kind"})
    return (
        frame.drop("split_kind")
        .join(kinds, on="eval_split", how="left", validate="m:1")
        .rename({"_kind": "split_kind"})
    )


def _add_training_data(
    frame: pl.DataFrame, checkpoints: pl.DataFrame, stages: pl.DataFrame, datasets: pl.DataFrame
) -> pl.DataFrame:
    pretrain = _unique(checkpoints, "checkpoint_id", "pretrain_dataset_id").rename({"pretrain_dataset_id": "_pre"})
    seen_in_chain = (
        stages.filter(pl.col("result_id").is_in(frame.get_column("result_id").implode()))
        .sort("result_id", "stage")
        .group_by("result_id", maintain_order=True)
        .agg(pl.col("dataset_id").drop_nulls().alias("_stages"))
    )
    standard = _unique(datasets, "dataset_id", "standard_training").rename(
        {"dataset_id": "eval_dataset_id", "standard_training": "_std"}
    )
    seen = pl.concat_list(pl.col("_pre"), pl.col("_stages")).list.drop_nulls().list.unique(
        maintain_order=True
    )
    std = pl.concat_list(
        pl.col("_std").str.split(",").fill_null(pl.lit([], dtype=pl.List(pl.String))), pl.col("eval_dataset_id")
    )
    return (
        frame.drop("training_data_seen", "extra_training_data")
        .join(pretrain, on="checkpoint_id", how="left", validate="m:1")
        .join(seen_in_chain, on="result_id", how="left", validate="m:1")
        .with_columns(pl.col("_stages").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .join(standard, on="eval_dataset_id", how="left", validate="m:1")
        .with_columns(_seen=seen, _stdl=std)
        .with_columns(
            pl.col("_seen").list.join(",").alias("training_data_seen"),
            (pl.col("_seen").list.set_difference(pl.col("_stdl")).list.len() > 0).alias("extra_training_data"),
        )
        .drop("_pre", "_stages", "_std", "_seen", "_stdl")
    )


def _source_order(sources: pl.DataFrame) -> dict[str, tuple]:
    """Papers before model zoos and other documents, then the earliest, then by id."""
    order = {}
    for r in sources.iter_rows(named=True):
        published = r["published"].isoformat() if r["published"] is not None else "9999"
        order[r["source_id"]] = (0 if r["kind"] == "paper" else 1, published, r["source_id"])
    return order


def _compatible(values: dict[str, Any], row: dict[str, Any], metrics: tuple[str, ...]) -> bool:
    common = [m for m in metrics if values.get(m) is not None and row.get(m) is not None]
    return bool(common) and all(abs(values[m] - row[m]) < 1e-9 for m in common)


def _clusters(rows: list[dict[str, Any]], metrics: tuple[str, ...]) -> list[list[dict[str, Any]]]:
    clusters: list[list[dict[str, Any]]] = []
    values: list[dict[str, Any]] = []
    for row in rows:
        for cluster, vals in zip(clusters, values, strict=True):
            if row["source_id"] not in {r["source_id"] for r in cluster} and _compatible(vals, row, metrics):
                cluster.append(row)
                for m in metrics:
                    if vals.get(m) is None:
                        vals[m] = row.get(m)
                break
        else:
            clusters.append([row])
            values.append({m: row.get(m) for m in metrics})
    return clusters


def _cluster_values(cluster: list[dict[str, Any]], metrics: tuple[str, ...]) -> dict[str, Any]:
    """Each metric's value in a cluster (the first document that gives it)."""
    return {m: next((r[m] for r in cluster if r.get(m) is not None), None) for m in metrics}


def _disagree(va: dict[str, Any], vb: dict[str, Any], metrics: tuple[str, ...]) -> bool:
    """Two clusters give different values for a metric both report."""
    return any(va[m] is not None and vb[m] is not None and abs(va[m] - vb[m]) >= 1e-9 for m in metrics)


def _cite(row: dict[str, Any]) -> str:
    return f"{row['source_id']} ({row['where']})"


def _merge_citations(
    name: str, frame: pl.DataFrame, sources: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, set[str]]:
    metrics = METRICS[name]
    keys = list(MEASUREMENT_KEYS[name])
    frame = frame.drop("citations", "citation_count", "conflict", "conflicts_with").with_row_index("_row")
    sizes = frame.group_by(keys).agg(pl.len().alias("_len"), pl.col("source_id").n_unique().alias("_n"))
    shared = sizes.filter(pl.col("_n") > 1)
    fills = (*metrics, *(c for c in FILLED if c in frame.columns))
    # the common case, two documents per measurement, is settled in polars; larger groups in Python
    pair_updates, pair_cites, pair_dropped = _merge_pairs(
        frame.join(shared.filter(pl.col("_len") == 2).select(keys), on=keys, how="semi", nulls_equal=True),
        keys, metrics, fills, sources,
    )
    multi = frame.join(shared.filter(pl.col("_len") > 2).select(keys), on=keys, how="semi", nulls_equal=True)
    order = _source_order(sources)
    updates: list[dict[str, Any]] = pair_updates
    citations: list[dict[str, Any]] = pair_cites
    dropped: set[int] = pair_dropped
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    needed = list(dict.fromkeys([*keys, "_row", "source_id", "result_id", "where", *fills, "_file", "_label", "_path"]))
    for row in multi.select(needed).iter_rows(named=True):
        groups[tuple(row[k] for k in keys)].append(row)
    for rows in groups.values():
        rows.sort(key=lambda r: (order.get(r["source_id"], (2, "9999", str(r["source_id"]))), r["_row"]))
        clusters = _clusters(rows, metrics)
        members = [{r["source_id"] for r in c} for c in clusters]
        values = [_cluster_values(c, metrics) for c in clusters]
        for i, cluster in enumerate(clusters):
            primary, rest = cluster[0], cluster[1:]
            others = [
                clusters[j][0]["result_id"] for j in range(len(clusters))
                if j != i and not (members[j] <= members[i] or members[i] <= members[j])
                and _disagree(values[i], values[j], metrics)
            ] if len(clusters) > 1 else []
            upd: dict[str, Any] = {
                "_row": primary["_row"],
                "citations": "; ".join(_cite(r) for r in cluster),
                "citation_count": len(cluster),
                "conflict": bool(others),
                "conflicts_with": "; ".join(others) if others else None,
            }
            for col in fills:
                upd[f"_fill_{col}"] = next((r[col] for r in rest if r[col] is not None), None) if rest else None
            updates.append(upd)
            dropped.update(r["_row"] for r in rest)
            citations.extend(
                {"result_id": primary["result_id"], "rank": rank, "source_id": c["source_id"], "where": c["where"],
                 "_file": c["_file"], "_label": c["_label"], "_path": c["_path"]}
                for rank, c in enumerate(cluster, start=1)
            )
    gone = set(frame.filter(pl.col("_row").is_in(list(dropped))).get_column("result_id").to_list())
    upd_schema: dict[str, Any] = {
        "_row": pl.UInt32, "citations": pl.String, "citation_count": pl.Int64, "conflict": pl.Boolean,
        "conflicts_with": pl.String, **{f"_fill_{c}": frame.schema[c] for c in fills},
    }
    upd_frame = pl.from_dicts(updates, schema=upd_schema) if updates else pl.DataFrame(schema=upd_schema)
    merged = (
        frame.filter(~pl.col("_row").is_in(list(dropped)))
        .join(upd_frame, on="_row", how="left", validate="1:1")
        .with_columns(
            pl.col("citations").fill_null(pl.concat_str(pl.col("source_id"), pl.lit(" ("), pl.col("where"), pl.lit(")"))),
            pl.col("citation_count").fill_null(1),
            pl.col("conflict").fill_null(False),
            *(pl.coalesce(c, f"_fill_{c}").alias(c) for c in fills),
        )
        .drop("_row", *(f"_fill_{c}" for c in fills))
    )
    cited_rows = {u["_row"] for u in updates}
    single = frame.filter(~pl.col("_row").is_in(list(dropped | cited_rows)))
    cols = ["result_id", "rank", "source_id", "where", "_file", "_label", "_path"]
    schema = {c: (pl.Int64 if c == "rank" else pl.String) for c in cols}
    cited = pl.concat(
        [
            pl.from_dicts(citations, schema=schema) if citations else pl.DataFrame(schema=schema),
            single.select("result_id", pl.lit(1, pl.Int64).alias("rank"), *cols[2:]).cast(schema),  # type: ignore[arg-type]
        ]
    )
    return merged, cited, gone


def _merge_pairs(
    pairs: pl.DataFrame, keys: list[str], metrics: tuple[str, ...], fills: tuple[str, ...], sources: pl.DataFrame
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[int]]:
    """Measurements reported by exactly two documents: merged when they agree, both marked when they differ
    (the same rules as _clusters, vectorised)."""
    if pairs.is_empty():
        return [], [], set()
    order = sources.select(
        "source_id",
        pl.when(pl.col("kind") == "paper").then(0).otherwise(1).alias("_kind"),
        pl.col("published").cast(pl.String).fill_null("9999").alias("_pub"),
    ).unique("source_id", keep="first")
    cols = list(dict.fromkeys([*keys, "_row", "source_id", "result_id", "where", *fills, "_file", "_label", "_path"]))
    ranked = (
        pairs.select(cols)
        .join(order, on="source_id", how="left", validate="m:1")
        .with_columns(pl.col("_kind").fill_null(2), pl.col("_pub").fill_null("9999"))
        .sort([*keys, "_kind", "_pub", "source_id", "_row"], nulls_last=True)
        .with_columns(pl.int_range(pl.len()).over(keys).alias("_pos"))
    )
    a = ranked.filter(pl.col("_pos") == 0).drop("_pos", "_kind", "_pub")
    b = ranked.filter(pl.col("_pos") == 1).drop("_pos", "_kind", "_pub")
    both = a.join(b, on=keys, how="inner", suffix="_b", nulls_equal=True, validate="1:1")
    common = [pl.col(m).is_not_null() & pl.col(f"{m}_b").is_not_null() for m in metrics]
    differ = [c & ((pl.col(m) - pl.col(f"{m}_b")).abs() >= 1e-9) for c, m in zip(common, metrics, strict=True)]
    both = both.with_columns(
        (pl.any_horizontal(common) & ~pl.any_horizontal(differ)).alias("_same"),
        pl.any_horizontal(differ).alias("_differ"),
    )
    updates: list[dict[str, Any]] = []
    citations: list[dict[str, Any]] = []
    dropped: set[int] = set()
    for r in both.iter_rows(named=True):
        cite_a = {"result_id": r["result_id"], "rank": 1, "source_id": r["source_id"], "where": r["where"],
                  "_file": r["_file"], "_label": r["_label"], "_path": r["_path"]}
        if r["_same"]:
            updates.append({"_row": r["_row"], "citations": f"{_cite(r)}; {r['source_id_b']} ({r['where_b']})",
                            "citation_count": 2, "conflict": False, "conflicts_with": None,
                            **{f"_fill_{c}": r[f"{c}_b"] for c in fills}})
            dropped.add(r["_row_b"])
            citations += [cite_a, {"result_id": r["result_id"], "rank": 2, "source_id": r["source_id_b"],
                                   "where": r["where_b"], "_file": r["_file_b"], "_label": r["_label_b"],
                                   "_path": r["_path_b"]}]
            continue
        conflict = bool(r["_differ"])
        for row, other, suffix in ((r["_row"], r["result_id_b"], ""), (r["_row_b"], r["result_id"], "_b")):
            updates.append({"_row": row, "citations": f"{r['source_id' + suffix]} ({r['where' + suffix]})",
                            "citation_count": 1, "conflict": conflict, "conflicts_with": other if conflict else None,
                            **{f"_fill_{c}": None for c in fills}})
        citations += [cite_a, {"result_id": r["result_id_b"], "rank": 1, "source_id": r["source_id_b"],
                               "where": r["where_b"], "_file": r["_file_b"], "_label": r["_label_b"],
                               "_path": r["_path_b"]}]
    return updates, citations, dropped


def _add_first_published(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    dates = _unique(frames["sources"], "source_id", "published")
    ckpt = _unique(frames["checkpoints"], "checkpoint_id", "backbone_id")
    backbones = frames["backbones"]
    pairs = [
        backbones.select("backbone_id", pl.col("params_source_id").alias("source_id")),
        backbones.join(_unique(frames["families"], "family_id", "source_id"), on="family_id", how="inner").select(
            "backbone_id", "source_id"
        ),
        frames["throughput"].select("backbone_id", "source_id"),
        frames["latency"].select("backbone_id", "source_id"),
        *(
            frames[t.name].select("checkpoint_id", "source_id").join(ckpt, on="checkpoint_id", how="inner").select(
                "backbone_id", "source_id"
            )
            for t in T.RESULT_TABLES
        ),
    ]
    first = (
        pl.concat(pairs)
        .join(dates, on="source_id", how="inner")
        .group_by("backbone_id")
        .agg(pl.col("published").min().alias("_first"))
    )
    return (
        backbones.drop("first_published")
        .join(first, on="backbone_id", how="left", validate="m:1")
        .rename({"_first": "first_published"})
    )
