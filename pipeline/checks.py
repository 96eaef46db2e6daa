"""Cross-table checks: references, vocabularies, dataset roles, chains, suspicious compute."""

from __future__ import annotations

import difflib

import polars as pl

from . import tables as T
from .errors import Problem
from .schemas import RAW_NAMES

VOCAB_FILES = {t.name: f"vocab/{t.name}.yaml" for t in T.VOCAB_TABLES}
HOME = {
    "sources": "sources/<id>.yaml",
    "families": "families/<family>.yaml",
    "backbones": "the family's file in families/",
    "checkpoints": "the family's file in families/",
}
# GMACs within these ratios of another figure for the same backbone and resolution
# look like one source counting FLOPs (2 x MACs) and the other MACs.
SUSPICIOUS_RATIO = (1.8, 2.25)
# "did you mean" is worked out for this many distinct unknown values per column: a guess costs a scan of
# every id, and thousands of unknown values have one cause that the first guesses already show
SUGGESTIONS = 100


def _path(row: dict) -> tuple[str | int, ...]:
    return tuple(int(p) if p.isdigit() else p for p in row["_path"].split(".") if p)


def _field(column: str, row: dict) -> str:
    name = RAW_NAMES.get(column, column)
    path = _path(row)
    if "chain" in path:
        return f"chain[{path[path.index('chain') + 1]}].{name}"
    return name


def _problem(row: dict, column: str, message: str) -> Problem:
    return Problem(row["_file"], row["_label"], _field(column, row), message, _path(row) + (RAW_NAMES.get(column, column),))


def check_references(frames: dict[str, pl.DataFrame]) -> list[Problem]:
    """Every foreign key names an existing row; unknown vocabulary values are errors."""
    problems = []
    for table in T.TABLES:
        frame = frames[table.name]
        for column, ref_name in table.foreign_keys:
            ref = T.TABLES_BY_NAME[ref_name]
            key = ref.primary_key[0]
            known = frames[ref_name].get_column(key).drop_nulls()
            bad = frame.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(known.implode()))
            if bad.is_empty():
                continue
            choices = known.to_list()
            guesses: dict[str, str] = {}
            for row in bad.iter_rows(named=True):
                value = row[column]
                if value not in guesses and len(guesses) < SUGGESTIONS:
                    close = difflib.get_close_matches(value, choices, n=1)
                    guesses[value] = f" (did you mean '{close[0]}'?)" if close else ""
                guess = guesses.get(value, "")
                what = ref_name[:-1] if ref_name != "gpus" else "GPU"
                if ref_name in VOCAB_FILES:
                    fix = f"use an id from {VOCAB_FILES[ref_name]}{guess} or add it there"
                else:
                    fix = f"fix the id{guess} or add it to {HOME.get(ref_name, ref_name)}"
                problems.append(_problem(row, column, f"unknown {what.replace('_', ' ')} '{value}'; {fix}"))
    return problems


def _roles(frames: dict[str, pl.DataFrame]) -> dict[str, set[str]]:
    return {
        r["dataset_id"]: set((r["roles"] or "").split(","))
        for r in frames["datasets"].iter_rows(named=True)
    }


def check_roles_and_chains(frames: dict[str, pl.DataFrame]) -> list[Problem]:
    """Datasets used in the role they serve; chain stages name their dataset."""
    roles = _roles(frames)
    problems = []

    def need(frame: pl.DataFrame, column: str, role: str, allowed: set[str]) -> None:
        ok = [d for d, r in roles.items() if r & allowed]
        bad = frame.filter(pl.col(column).is_in(list(roles)) & ~pl.col(column).is_in(ok))
        for row in bad.iter_rows(named=True):
            problems.append(_problem(row, column, f"dataset '{row[column]}' is not marked for {role} in vocab/datasets.yaml; pick a {role} dataset or add the role there"))

    need(frames["checkpoints"], "pretrain_dataset_id", "pretraining", {"pretraining"})
    for table in T.RESULT_TABLES:
        need(frames[table.name], "eval_dataset_id", "evaluation", {"evaluation"})
    stages = frames["chain_stages"]
    need(stages, "dataset_id", "training", {"training", "pretraining"})
    for row in stages.filter(pl.col("dataset_id").is_null()).iter_rows(named=True):
        what = [c for c in ("resolution_px", "crop_px", "epochs", "iterations") if row[c] is not None]
        detail = f" ({', '.join(what)} given)" if what else ""
        problems.append(_problem(row, "dataset_id", f"a chain stage without a dataset{detail}: name the dataset this stage trained on, or remove the stage"))
    return problems


def check_heads(frames: dict[str, pl.DataFrame]) -> list[Problem]:
    """A head serves the task of the results it is used for."""
    tasks = {r["head_id"]: set((r["tasks"] or "").split(",")) for r in frames["heads"].iter_rows(named=True)}
    problems = []
    for table, allowed in (
        ("detection_results", {"detection", "instance_segmentation"}),
        ("segmentation_results", {"semantic_segmentation"}),
    ):
        for row in frames[table].filter(pl.col("head_id").is_in(list(tasks))).iter_rows(named=True):
            if not tasks[row["head_id"]] & allowed:
                problems.append(_problem(row, "head_id", f"head '{row['head_id']}' does not serve {' or '.join(sorted(allowed))} in vocab/heads.yaml; pick another head or add the task there"))
    return problems


def check_results_have_numbers(frames: dict[str, pl.DataFrame]) -> list[Problem]:
    """A result gives at least one metric; a throughput figure says what size it measured."""
    problems = []
    metrics = {
        "classification_results": T.CLASSIFICATION_METRICS,
        "detection_results": T.BOX + T.MASK,
        "segmentation_results": T.SEGMENTATION_METRICS,
    }
    for table, cols in metrics.items():
        empty = frames[table].filter(pl.all_horizontal(pl.col(c).is_null() for c in cols))
        for row in empty.iter_rows(named=True):
            problems.append(Problem(row["_file"], row["_label"], "-", f"gives no metric; add one of {', '.join(cols)} or remove the entry", _path(row)))
    tp = frames["throughput"].filter(
        pl.col("resolution_px").is_null() & pl.col("input_size").is_null() & (pl.col("task_id") == "classification")
    )
    for row in tp.iter_rows(named=True):
        problems.append(_problem(row, "resolution_px", "a classification throughput figure needs resolution_px: say what image size was timed"))
    undated = frames["sources"].filter(
        ((pl.col("kind") == "paper") | pl.col("commit").is_not_null()) & pl.col("published").is_null()
    )
    for row in undated.iter_rows(named=True):
        what = "a paper needs its first publication date (arXiv v1 date)" if row["kind"] == "paper" else (
            "a document pinned at a commit needs that commit's date (git show -s --format=%cI <commit>)"
        )
        problems.append(_problem(row, "published", f"{what}, written YYYY-MM-DD"))
    return problems


def check_compute(frames: dict[str, pl.DataFrame]) -> list[Problem]:
    """Compute needs a known convention; values near 2x another for the same backbone are suspect."""
    problems = []
    unknown = frames["sources"].filter(pl.col("flops_convention") == "unknown").get_column("source_id")
    for table in T.RESULT_TABLES:
        frame = frames[table.name]
        # gmacs is null when the convention is unknown, so look at the raw figure's presence
        bad = frame.filter(pl.col("source_id").is_in(unknown.implode()) & pl.col("_has_flops"))
        for row in bad.iter_rows(named=True):
            problems.append(_problem(row, "gmacs", f"source '{row['source_id']}' has flops_convention: unknown, so its compute cannot be converted; set the convention in sources/{row['source_id']}.yaml"))
    cls = frames["classification_results"].join(
        frames["checkpoints"].select("checkpoint_id", "backbone_id"), on="checkpoint_id", how="left", validate="m:1"
    ).filter(pl.col("gmacs").is_not_null())
    ref = cls.group_by("backbone_id", "eval_resolution_px").agg(
        pl.col("gmacs").min().alias("_min"), pl.col("gmacs").max().alias("_max")
    )
    lo, hi = SUSPICIOUS_RATIO
    flagged = cls.join(ref, on=["backbone_id", "eval_resolution_px"], how="left", validate="m:1").filter(
        (pl.col("_max") / pl.col("_min")).is_between(lo, hi)
        & ((pl.col("gmacs") / pl.col("_min")).is_between(lo, hi))
    )
    for row in flagged.iter_rows(named=True):
        others = cls.filter(
            (pl.col("backbone_id") == row["backbone_id"])
            & (pl.col("eval_resolution_px") == row["eval_resolution_px"])
            & (pl.col("gmacs") == row["_min"])
        ).row(0, named=True)
        problems.append(
            _problem(
                row,
                "gmacs",
                f"{row['gmacs']:g} GMACs is about {row['gmacs'] / row['_min']:.1f}x the {row['_min']:g} GMACs of "
                f"{others['_file']} {others['_label']} for {row['backbone_id']} at {row['eval_resolution_px']}px: "
                f"is one source counting FLOPs (2 x MACs)? Check flops_convention in sources/",
            )
        )
    return problems


def cross_checks(frames: dict[str, pl.DataFrame]) -> list[Problem]:
    """All cross-table checks."""
    return [
        *check_references(frames),
        *check_roles_and_chains(frames),
        *check_heads(frames),
        *check_results_have_numbers(frames),
        *check_compute(frames),
    ]
