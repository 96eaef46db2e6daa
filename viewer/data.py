"""The release as the viewer sees it: Parquet tables loaded once, plus derived frames.

Nothing here imports the pipeline's builders: the release files are the contract, checked
against their SHA256SUMS (pipeline.integrity, standard library only) before they are read.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from pipeline.integrity import sha256_file, verify_bytes, verify_folder
from viewer.releases import ReleaseDamaged, Verified, list_versions, resolve

TASK_TABLES = {
    "classification": "classification_results",
    "detection": "detection_results",
    "semantic_segmentation": "segmentation_results",
}
# metrics a task's table offers, in the order the explorer lists them
TASK_METRICS = {
    "classification": ["top1", "top5", "mce"],
    "detection": ["box_ap", "box_ap50", "box_ap75", "box_ap_s", "box_ap_m", "box_ap_l",
                  "mask_ap", "mask_ap50", "mask_ap75", "mask_ap_s", "mask_ap_m", "mask_ap_l"],
    "semantic_segmentation": ["miou_ss", "miou_ms", "pixel_acc", "mean_acc"],
}


@dataclass
class Release:
    """Every table of one release, and the long frame of result values the explorer plots."""

    folder: Path
    version: str
    tables: dict[str, pl.DataFrame]
    values: pl.DataFrame = field(init=False)
    names: dict[str, dict[str, str]] = field(init=False)
    _memo: dict[tuple, Any] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.names = {
            t: dict(self.tables[t].select(pl.first(), pl.col("name")).iter_rows())
            for t in ("families", "backbones", "datasets", "heads", "gpus", "precisions",
                      "pretraining_methods", "token_mixers", "tasks", "metrics", "adaptations",
                      "test_time_procedures", "splits", "devices", "runtimes")
        }
        self.names["sources"] = dict(self.tables["sources"].select("source_id", "title").iter_rows())
        self.values = self._long_values()

    def _context(self) -> pl.DataFrame:
        t = self.tables
        return (
            t["checkpoints"].select("checkpoint_id", "backbone_id", "pretrain_dataset_id", "pretrain_method_id",
                                    "license", "commercial_use")
            .join(t["backbones"].select("backbone_id", "family_id", "params_m", "first_published"), on="backbone_id",
                  how="left", validate="m:1")
            .join(t["families"].select("family_id", "token_mixer_id", "hierarchical"), on="family_id", how="left", validate="m:1")
        )

    def _long_values(self) -> pl.DataFrame:
        """One row per (result, metric) with everything a point needs."""
        frames = []
        for task, name in TASK_TABLES.items():
            table = self.tables[name]
            common = [
                pl.col("result_id"), pl.lit(task).alias("task_id"), pl.col("checkpoint_id"), pl.col("source_id"),
                pl.col("eval_dataset_id").alias("dataset_id"), pl.col("chain"), pl.col("gmacs"), pl.col("where"),
                pl.col("adaptation_id"), pl.col("test_time_id"), pl.col("eval_split"), pl.col("split_kind"),
                pl.col("training_data_seen"), pl.col("extra_training_data"), pl.col("citations"), pl.col("conflict"),
                pl.col("gmacs_scope"),
            ]
            if task == "classification":
                extra = [pl.lit(None, pl.String).alias("head_id"), pl.col("eval_resolution_px").alias("resolution_px"),
                         pl.lit(None, pl.Int64).alias("schedule")]
            elif task == "detection":
                extra = [pl.col("head_id"), pl.lit(None, pl.Int64).alias("resolution_px"), pl.col("train_epochs").alias("schedule")]
            else:
                extra = [pl.col("head_id"), pl.col("crop_px").alias("resolution_px"), pl.col("train_iterations").alias("schedule")]
            wide = table.select(*common, *extra, *TASK_METRICS[task])
            frames.append(
                wide.unpivot(index=[c for c in wide.columns if c not in TASK_METRICS[task]], variable_name="metric_id", value_name="value")
                .filter(pl.col("value").is_not_null())
            )
        published = self.tables["sources"].select("source_id", "published")
        # segmentation's miou_ss is single-scale by definition; its row's test_time describes miou_ms
        value_test_time = (
            pl.when((pl.col("task_id") == "semantic_segmentation") & (pl.col("metric_id") != "miou_ms"))
            .then(pl.lit("single_scale")).otherwise(pl.col("test_time_id")).alias("test_time_id")
        )
        return (
            pl.concat(frames, how="vertical_relaxed")
            .with_columns(value_test_time)
            .join(self._context(), on="checkpoint_id", how="left", validate="m:1")
            .join(published, on="source_id", how="left", validate="m:1")
            .sort("result_id", "metric_id")
        )

    def present(self, column: str, task: str | None = None, dataset: str | None = None) -> list[str]:
        """Distinct values of a result column (optionally within a task and dataset), as text,
        numbers in numeric order. Memoised: the release never changes."""
        key = (column, task, dataset)
        if key not in self._memo:
            frame = self.values
            if task:
                frame = frame.filter(pl.col("task_id") == task)
            if dataset:
                frame = frame.filter(pl.col("dataset_id") == dataset)
            found = {str(v) for v in frame.get_column(column).drop_nulls().unique().to_list()}
            self._memo[key] = sorted(found, key=lambda v: (0, int(v), "") if v.isdigit() else (1, 0, v))
        return self._memo[key]

    def seen_datasets(self) -> list[str]:
        """Every dataset any result's weights saw (pretraining or a chain stage)."""
        key = ("seen",)
        if key not in self._memo:
            seen = self.values.get_column("training_data_seen").drop_nulls().str.split(",").explode()
            self._memo[key] = sorted(set(seen.to_list()) - {""})
        return self._memo[key]  # type: ignore[no-any-return]

    def series(self, task: str, dataset: str, metric: str) -> pl.DataFrame:
        """The values of one metric on one dataset (memoised: the explorer's starting point)."""
        key = ("series", task, dataset, metric)
        if key not in self._memo:
            self._memo[key] = self._partitions().get((task, dataset, metric), self.values.clear())
        return self._memo[key]  # type: ignore[no-any-return]

    def _partitions(self) -> dict[tuple, pl.DataFrame]:
        if ("partitions",) not in self._memo:
            parts = self.values.partition_by(["task_id", "dataset_id", "metric_id"], as_dict=True, maintain_order=True)
            self._memo[("partitions",)] = parts
        return self._memo[("partitions",)]  # type: ignore[no-any-return]

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """A value derived from the release, built once: the release never changes."""
        memo_key = ("derived", key)
        if memo_key not in self._memo:
            self._memo[memo_key] = build()
        return self._memo[memo_key]

    def name(self, kind: str, key: str | None) -> str:
        """Display name of an id (the id itself when unnamed)."""
        if key is None:
            return ""
        return self.names.get(kind, {}).get(key, key)


def _verified_bytes(folder: Path, name: str, sums: dict[str, str]) -> bytes:
    """A release file's bytes, checked against SHA256SUMS: what is parsed is what was hashed."""
    if name not in sums:
        raise ReleaseDamaged(folder.name, [f"{name} is not listed in SHA256SUMS"])
    try:
        data = (folder / name).read_bytes()
    except OSError as exc:
        raise ReleaseDamaged(folder.name, [f"{name} cannot be read ({exc.strerror})"]) from None
    verify_bytes(folder, name, data, sums)
    return data


def load_release(folder: Path, sums: dict[str, str] | None = None) -> Release:
    """Read a release folder's Parquet tables (listed by its datapackage.json), each file checked
    against the release's SHA256SUMS; raise ReleaseDamaged rather than load a changed file."""
    sums = verify_folder(folder) if sums is None else sums
    package = json.loads(_verified_bytes(folder, "datapackage.json", sums))
    tables = {
        r["name"]: pl.read_parquet(io.BytesIO(_verified_bytes(folder, r["path"], sums)))
        for r in package["resources"] if r.get("format") == "parquet"
    }
    return Release(folder, package["version"], tables)


class ReleaseStore:
    """Releases loaded lazily, once per process, and kept: they are immutable. A release whose
    files do not match its SHA256SUMS is refused (ReleaseDamaged), never replaced by another."""

    def __init__(self, releases_dir: Path, default: str = "latest"):
        self.releases_dir = releases_dir
        self.default = default
        self.verified = Verified()
        self._loaded: dict[Path, Release] = {}
        self._lock = threading.Lock()

    def versions(self) -> list[str]:
        return list_versions(self.releases_dir)

    def check(self, name: str | None = None) -> Path:
        """Hash the files of the release `name` (default: the one served); return its folder."""
        folder = resolve(self.releases_dir, name or self.default)
        self.verified.sums(folder)
        return folder

    def get(self, name: str | None = None) -> Release:
        folder = resolve(self.releases_dir, name or self.default)
        with self._lock:
            if folder not in self._loaded:
                self._loaded[folder] = load_release(folder, self.verified.sums(folder))
            return self._loaded[folder]

    def download(self, version: str, filename: str) -> tuple[Path, str]:
        """The path and SHA-256 of one file of a release, for download. Only files listed in a
        release's verified SHA256SUMS are served (no request-derived path reaches the disk)."""
        if version not in self.versions():
            raise LookupError(f"There is no release '{version[:80]}'. See the releases page.")
        folder = self.releases_dir / version
        sums = self.verified.sums(folder)
        if filename != "SHA256SUMS" and filename not in sums:
            raise LookupError(f"Release {version} has no file '{filename[:80]}'.")
        digest = sums.get(filename) or sha256_file(folder / filename)
        return folder / filename, digest
