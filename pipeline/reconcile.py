"""Cross-check raw/ against reference data: timm's results and benchmark CSVs, mmpretrain's metafiles.

For every checkpoint result that names a timm model or an mmpretrain model, and every backbone
that names a timm architecture, compare params, GMACs at the matching resolution and ImageNet-1k
top-1. A difference beyond the field's tolerance is either listed (with its reason) in the
reviewed file of known differences, or the command fails. It reads only the files it is given.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from .build import validated_tables

TIMM_RESULTS = "timm/results-imagenet.csv"
# the most complete benchmark (covers every evaluated architecture; GMACs counted by fvcore)
TIMM_BENCHMARK = "timm/benchmark-infer-amp-nchw-pt291-cu130-5090.csv"
MMPRETRAIN = "mmpretrain"

# Tolerances, per field. Re-evaluated top-1 differs from the paper's by a few tenths (crop,
# resize, rounding); counters disagree by a few percent on attention GMACs; parameter counts are
# printed rounded ("29M"). A GMACs ratio near 2 is always reported as a FLOPs/MACs mix-up.
TOP1_ABS = 0.5
GMACS_REL = 0.08
PARAMS_REL = 0.05
FLOPS_MIXUP = (1.8, 2.25)


@dataclass(frozen=True)
class Difference:
    """One value that disagrees with a reference beyond tolerance."""

    kind: str  # result | backbone
    key: str  # result_id or backbone_id
    field: str  # top1 | gmacs | params_m
    ours: float
    reference: str  # timm | mmpretrain
    theirs: float
    reference_id: str

    @property
    def known_key(self) -> tuple[str, str, str]:
        return (self.key, self.field, self.reference)

    def describe(self) -> str:
        ratio = self.ours / self.theirs if self.theirs else float("inf")
        hint = ""
        if self.field == "gmacs" and (FLOPS_MIXUP[0] <= ratio <= FLOPS_MIXUP[1] or FLOPS_MIXUP[0] <= 1 / ratio <= FLOPS_MIXUP[1]):
            hint = " (about 2x: a FLOPs/MACs mix-up?)"
        return (f"{self.kind} {self.key}: {self.field} {self.ours:g} vs {self.reference} {self.theirs:g} "
                f"({self.reference_id}){hint}")


def _float(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def load_timm(sources: Path) -> tuple[dict[tuple[str, int], dict[str, Any]], dict[tuple[str, int], dict[str, Any]]]:
    """timm accuracy rows keyed by (model, img_size) and benchmark rows keyed by (arch, img_size)."""
    results: dict[tuple[str, int], dict[str, Any]] = {}
    path = sources / TIMM_RESULTS
    if path.exists():
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                results[(row["model"], int(row["img_size"]))] = row
    bench: dict[tuple[str, int], dict[str, Any]] = {}
    path = sources / TIMM_BENCHMARK
    if path.exists():
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                bench.setdefault((row["model"], int(row["infer_img_size"])), row)
    return results, bench


def load_mmpretrain(sources: Path) -> dict[str, dict[str, Any]]:
    """mmpretrain models by name: FLOPs (MACs), Parameters and ImageNet-1k top-1."""
    models: dict[str, dict[str, Any]] = {}
    root = sources / MMPRETRAIN
    for path in sorted(root.glob("*/metafile.yml")) if root.is_dir() else []:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in data.get("Models", []) or []:
            meta = model.get("Metadata") or {}
            top1 = None
            for result in model.get("Results") or []:
                if result.get("Dataset") == "ImageNet-1k" and "Top 1 Accuracy" in (result.get("Metrics") or {}):
                    top1 = result["Metrics"]["Top 1 Accuracy"]
            models[model["Name"]] = {"flops": meta.get("FLOPs"), "params": meta.get("Parameters"), "top1": top1}
    return models


def _check(out: list[Difference], kind: str, key: str, field: str, ours: float | None, theirs: float | None,
           reference: str, reference_id: str) -> bool:
    """Compare one value; True when both exist (a match was made)."""
    if ours is None or theirs is None:
        return False
    if field == "top1":
        bad = abs(ours - theirs) > TOP1_ABS
    else:
        tol = GMACS_REL if field == "gmacs" else PARAMS_REL
        bad = abs(ours - theirs) > tol * max(abs(theirs), 1e-9)
    if bad:
        out.append(Difference(kind, key, field, ours, reference, theirs, reference_id))
    return True


@dataclass
class Report:
    matched: dict[str, int]
    differences: list[Difference]
    explained: list[tuple[Difference, str]]
    stale: list[tuple[str, str, str]]


def reconcile(frames: dict[str, pl.DataFrame], sources: Path, known: dict[tuple[str, str, str], str]) -> Report:
    """Every comparison of raw/ with the reference files."""
    timm_results, timm_bench = load_timm(sources)
    mm = load_mmpretrain(sources)
    diffs: list[Difference] = []
    matched = {"timm results": 0, "timm benchmark": 0, "mmpretrain": 0, "timm params": 0}
    cls = frames["classification_results"].join(
        frames["checkpoints"].select("checkpoint_id", "backbone_id"), on="checkpoint_id", how="left", validate="m:1"
    ).join(frames["backbones"].select("backbone_id", "params_m", "timm_arch"), on="backbone_id", how="left", validate="m:1")
    for r in cls.filter(pl.col("eval_dataset_id") == "imagenet_1k").sort("result_id").iter_rows(named=True):
        res = r["eval_resolution_px"]
        if r["timm_model"]:
            row = timm_results.get((r["timm_model"], res))
            if row and _check(diffs, "result", r["result_id"], "top1", r["top1"], _float(row["top1"]), "timm", f"{r['timm_model']} @ {res}"):
                matched["timm results"] += 1
            arch = r["timm_model"].split(".")[0]
            brow = timm_bench.get((arch, res))
            if brow and _check(diffs, "result", r["result_id"], "gmacs", r["gmacs"], _float(brow["infer_gmacs"]), "timm", f"{arch} @ {res}"):
                matched["timm benchmark"] += 1
        if r["mmpretrain_model"] and r["mmpretrain_model"] in mm:
            ref = mm[r["mmpretrain_model"]]
            flops = ref["flops"] / 1e9 if ref["flops"] else None
            hit = _check(diffs, "result", r["result_id"], "top1", r["top1"], ref["top1"], "mmpretrain", r["mmpretrain_model"])
            hit |= _check(diffs, "result", r["result_id"], "gmacs", r["gmacs"], flops, "mmpretrain", r["mmpretrain_model"])
            matched["mmpretrain"] += int(hit)
    params: dict[str, float | None] = {}
    for (arch, _size), row in timm_bench.items():
        params.setdefault(arch, _float(row["param_count"]))
    for b in frames["backbones"].sort("backbone_id").iter_rows(named=True):
        if b["timm_arch"] and b["timm_arch"] in params:
            if _check(diffs, "backbone", b["backbone_id"], "params_m", b["params_m"], params[b["timm_arch"]], "timm", b["timm_arch"]):
                matched["timm params"] += 1
    explained = [(d, known[d.known_key]) for d in diffs if d.known_key in known]
    unexplained = [d for d in diffs if d.known_key not in known]
    found = {d.known_key for d in diffs}
    stale = sorted(k for k in known if k not in found)
    return Report(matched, unexplained, explained, stale)


def load_known(path: Path) -> dict[tuple[str, str, str], str]:
    """The reviewed known differences: (key, field, reference) -> reason."""
    if not path.exists():
        return {}
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return {(e["key"], e["field"], e["reference"]): e["reason"] for e in entries}


def render(report: Report) -> str:
    lines = ["Reconcile report"]
    lines += [f"  matched against {name}: {n}" for name, n in report.matched.items()]
    lines.append(f"  differences beyond tolerance: {len(report.differences) + len(report.explained)} "
                 f"({len(report.explained)} explained, {len(report.differences)} unexplained)")
    lines.append(f"  tolerances: top-1 {TOP1_ABS} points; GMACs {GMACS_REL:.0%}; params {PARAMS_REL:.0%}")
    if report.differences:
        lines.append("Unexplained (fix raw/ or add to the known differences with a reason):")
        lines += [f"  - {d.describe()}" for d in report.differences]
    if report.stale:
        lines.append("Known differences that no longer occur (remove them):")
        lines += [f"  - {k[0]} {k[1]} ({k[2]})" for k in report.stale]
    return "\n".join(lines)


def reconcile_main(args: argparse.Namespace) -> int:
    frames = validated_tables(Path(args.raw))
    report = reconcile(frames, Path(args.sources), load_known(Path(args.known)))
    print(render(report))
    return 1 if report.differences or report.stale else 0
