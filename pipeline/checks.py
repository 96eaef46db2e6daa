"""Cross-table checks: references, vocabularies, dataset roles, chains, suspicious compute."""

from __future__ import annotations

import datetime as dt
import difflib

import polars as pl

from . import tables as T
from .errors import Problem, shown
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
                problems.append(_problem(row, column, f"unknown {what.replace('_', ' ')} '{shown(value)}'; {fix}"))
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
    # a checkpoint id entered twice is reported by its schema; here the first one counts
    backbone_of = frames["checkpoints"].select("checkpoint_id", "backbone_id").unique("checkpoint_id", keep="first")
    cls = frames["classification_results"].join(
        backbone_of, on="checkpoint_id", how="left", validate="m:1"
    ).filter(pl.col("gmacs").is_not_null())
    ref = cls.group_by("backbone_id", "eval_resolution_px").agg(
        pl.col("gmacs").min().alias("_min"), pl.col("gmacs").max().alias("_max")
    )
    lo, hi = SUSPICIOUS_RATIO
    flagged = cls.join(ref, on=["backbone_id", "eval_resolution_px"], how="left", validate="m:1").filter(
        (pl.col("_max") / pl.col("_min")).is_between(lo, hi)
        & ((pl.col("gmacs") / pl.col("_min")).is_between(lo, hi))
    )
    lowest: dict[tuple, dict] = {}  # the first result giving each (backbone, resolution, GMACs): one pass
    if not flagged.is_empty():
        for r in cls.iter_rows(named=True):
            lowest.setdefault((r["backbone_id"], r["eval_resolution_px"], r["gmacs"]), r)
    for row in flagged.iter_rows(named=True):
        others = lowest[(row["backbone_id"], row["eval_resolution_px"], row["_min"])]
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


# the tasks a dataset must serve for the last chain stage of a result of each table
TASKS_OF_TABLE = {
    "detection_results": {"detection", "instance_segmentation"},
    "segmentation_results": {"semantic_segmentation"},
}


def check_chain_order(frames: dict[str, pl.DataFrame]) -> list[Problem]:
    """Chain stages run in training order and end on the data the result's model was fitted to.

    A classification result's last stage trains on the evaluation dataset or its standard training set (zero-shot
    results fit no classifier, so their chain only continues pretraining); a downstream result's stages, once
    they reach data of the result's task, stay on it, and the last one is on it.
    """
    datasets = frames["datasets"]
    tasks = {r["dataset_id"]: set((r["tasks"] or "").split(",")) for r in datasets.iter_rows(named=True)}
    standard = {r["dataset_id"]: set((r["standard_training"] or "").split(",")) - {""} for r in datasets.iter_rows(named=True)}
    stages = frames["chain_stages"].sort("result_id", "stage")
    problems = []
    for name in ("classification_results", *TASKS_OF_TABLE):
        results = frames[name].select("result_id", "eval_dataset_id", "adaptation_id", "_file", "_label", "_path")
        chains = (
            stages.join(results.select("result_id"), on="result_id", how="semi")
            .group_by("result_id", maintain_order=True)
            .agg(pl.col("dataset_id"), pl.col("_path"))
        )
        for row in results.join(chains, on="result_id", how="inner", suffix="_stage").iter_rows(named=True):
            seen, paths, ev = row["dataset_id"], row["_path_stage"], row["eval_dataset_id"]
            if any(d is None or d not in tasks for d in seen) or ev not in tasks:
                continue  # reported as a missing or unknown dataset
            order = " > ".join(seen)
            if name == "classification_results":
                fits = {ev} | standard.get(ev, set())
                if row["adaptation_id"] != "zero_shot" and seen[-1] not in fits:
                    problems.append(_stage_problem(row, paths[-1], len(seen) - 1, (
                        f"the chain ({order}) ends on '{seen[-1]}', but a result on '{ev}' is fitted last to "
                        f"{' or '.join(sorted(fits))}: list the stages in training order, the last one fits the "
                        "classifier")))
                continue
            serves = [bool(tasks[d] & TASKS_OF_TABLE[name]) for d in seen]
            first = serves.index(True) if True in serves else len(serves)
            wrong = next((i for i in range(first, len(seen)) if not serves[i]), None)
            if wrong is None and first == len(serves):
                wrong = len(seen) - 1
            if wrong is not None:
                what = " or ".join(sorted(TASKS_OF_TABLE[name])).replace("_", " ")
                problems.append(_stage_problem(row, paths[wrong], wrong, (
                    f"the chain ({order}) has '{seen[wrong]}', which has no {what} data, "
                    + ("after a stage that trains the task" if wrong < len(seen) - 1 or first < wrong else "last")
                    + ": list the stages in training order, the last one trains the head on the task's data")))
    return problems


def _stage_problem(row: dict, stage_path: str, index: int, message: str) -> Problem:
    path = tuple(int(p) if p.isdigit() else p for p in stage_path.split(".") if p)
    return Problem(row["_file"], row["_label"], f"chain[{index}].dataset", message, (*path, "dataset"))


def check_dates(frames: dict[str, pl.DataFrame], today: dt.date | None = None) -> list[Problem]:
    """No date or year in the future; a paper's year is not before its first version, a pinned commit not
    before its repository's year; an arXiv paper's first version falls in the month its id was assigned."""
    today = today or dt.datetime.now(dt.UTC).date()
    problems = []
    for row in frames["sources"].iter_rows(named=True):
        published, year, arxiv = row["published"], row["year"], row["arxiv_id"]
        if year is not None and year > today.year:
            problems.append(_problem(row, "year", f"is {year}, in the future (today is {today}): write the year of the document"))
        if published is None:
            continue
        if published > today:
            problems.append(_problem(row, "published", f"is {published}, in the future (today is {today}): write the date of the first version"))
            continue
        if year is not None and row["kind"] == "paper" and year < published.year:
            problems.append(_problem(row, "year", f"is {year}, before the first version ({published}): a paper's year is its venue's or its first version's, never earlier"))
        if year is not None and row["commit"] is not None and row["kind"] != "paper" and year > published.year:
            problems.append(_problem(row, "published", f"is {published}, before the document's year {year}: write the pinned commit's date (git show -s --format=%cI <commit>)"))
        if arxiv is not None and len(arxiv) >= 4 and arxiv[:4].isdigit():
            month = dt.date(2000 + int(arxiv[:2]), min(max(int(arxiv[2:4]), 1), 12), 1)
            end = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            # an id is assigned at submission: the first version's date lies in its month (or, submitted after
            # the last announcement of a month, a few days before it)
            if not month - dt.timedelta(days=7) <= published <= end:
                problems.append(_problem(row, "published", f"is {published}, but arXiv id {arxiv} was assigned in {month:%B %Y}: write the date of version 1 (arXiv's 'Submitted on')"))
    return problems


PERCENT_METRICS = {
    "classification_results": ("top1", "top5"),
    "detection_results": T.BOX + T.MASK,
    "segmentation_results": T.SEGMENTATION_METRICS,
}
# (lower, higher): the first can never exceed the second in one result
METRIC_ORDER = {
    "classification_results": (("top1", "top5"),),
    "detection_results": (("box_ap", "box_ap50"), ("box_ap75", "box_ap50"), ("mask_ap", "mask_ap50"), ("mask_ap75", "mask_ap50")),
}


def check_metric_plausibility(frames: dict[str, pl.DataFrame]) -> list[Problem]:
    """Fractions typed for percentages, and metrics in an impossible order (top-5 below top-1).

    A percentage at or below 1 is refused only where it cannot be real: a model trained for the evaluation
    dataset (one with a training split, not a zero-shot result). Collapsed zero-shot results and hard
    out-of-distribution test sets (ImageNet-A) can score that low; those stay accepted.
    """
    trained_on = {r["dataset_id"] for r in frames["datasets"].iter_rows(named=True) if "training" in (r["roles"] or "").split(",")}
    problems = []
    for name, metrics in PERCENT_METRICS.items():
        frame = frames[name]
        candidates = frame.filter(
            pl.col("eval_dataset_id").is_in(list(trained_on))
            & (pl.col("adaptation_id") != "zero_shot")
            & pl.any_horizontal(pl.col(m).is_between(0, 1) for m in metrics)
        )
        for row in candidates.iter_rows(named=True):
            for m in metrics:
                if row[m] is not None and 0 <= row[m] <= 1:
                    problems.append(_problem(row, m, (
                        f"is {row[m]:g}: a model trained for {row['eval_dataset_id']} at or below 1 % looks like a "
                        f"fraction typed for a percentage ({row[m]:g} for {row[m] * 100:g} %); write the percentage "
                        "the source prints")))
        for low, high in METRIC_ORDER.get(name, ()):
            for row in frame.filter(pl.col(low) > pl.col(high)).iter_rows(named=True):
                problems.append(_problem(row, low, f"is {row[low]:g}, above {high} {row[high]:g}, which can never be: check that the columns are not swapped"))
    return problems


def cross_checks(frames: dict[str, pl.DataFrame]) -> list[Problem]:
    """All cross-table checks."""
    return [
        *check_references(frames),
        *check_roles_and_chains(frames),
        *check_chain_order(frames),
        *check_heads(frames),
        *check_results_have_numbers(frames),
        *check_dates(frames),
        *check_metric_plausibility(frames),
        *check_compute(frames),
    ]
