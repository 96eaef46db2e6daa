"""Entity pages: families, backbones, heads, datasets, sources, releases, about.

Every list is sortable by a known column (anything else is a 400) and every entity links
to its neighbours; unknown ids are 404s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from flask import Blueprint, Response, abort, current_app, render_template, request, send_from_directory
from werkzeug.datastructures import MultiDict

from viewer.app import get_release
from viewer.data import TASK_TABLES, Release
from viewer.formatting import fmt
from viewer.query import BadQuery, parse_spec
from viewer.releases import list_versions

bp = Blueprint("pages", __name__)

RESULT_COLUMNS = {
    "classification": ["checkpoint_id", "chain", "eval_dataset_id", "eval_resolution_px", "adaptation_id", "test_time_id",
                       "eval_split", "top1", "top5", "mce", "gmacs_backbone", "source_id", "where", "citation_count", "conflict"],
    "detection": ["checkpoint_id", "head_id", "chain", "eval_dataset_id", "eval_split", "adaptation_id", "test_time_id",
                  "box_ap", "box_ap50", "box_ap75", "mask_ap", "mask_ap50", "mask_ap75", "gmacs_whole_model", "source_id",
                  "where", "citation_count", "conflict"],
    "semantic_segmentation": ["checkpoint_id", "head_id", "chain", "eval_dataset_id", "crop_px", "adaptation_id",
                              "test_time_id", "miou_ss", "miou_ms", "gmacs_whole_model", "source_id", "where",
                              "citation_count", "conflict"],
}
THROUGHPUT_COLUMNS = ["backbone_id", "task_id", "head_id", "resolution_px", "input_size", "gpu_id", "precision_id", "batch_size", "images_per_s", "source_id", "where"]


def _sorted(rows: list[dict[str, Any]], columns: list[str], default: str, descending: bool = False) -> tuple[list[dict[str, Any]], str, str]:
    """Sort list rows by the `sort` and `order` query parameters, validated against the columns."""
    for name in request.args:
        if name not in ("sort", "order"):
            raise BadQuery(name, request.args[name], "sort, order")
    sort = request.args.get("sort", default)
    if sort not in columns:
        raise BadQuery("sort", sort, columns)
    order = request.args.get("order", "desc" if descending else "asc")
    if order not in ("asc", "desc"):
        raise BadQuery("order", order, ["asc", "desc"])
    present = [r for r in rows if r.get(sort) is not None]
    missing = [r for r in rows if r.get(sort) is None]
    present.sort(key=lambda r: (str(r[sort]).lower() if isinstance(r[sort], str) else r[sort]), reverse=order == "desc")
    return present + missing, sort, order


def _list(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str]], default: str, link: str, intro: str = "",
          descending: bool = False) -> str:
    rows, sort, order = _sorted(rows, [c for c, _ in columns], default, descending)
    return render_template("list.html", title=title, rows=rows, columns=columns, sort=sort, order=order, link=link, intro=intro,
                           release_version=get_release().version, datasette_table=f"{link}s" if link != "family" else "families")


def _results_by_task(rel: Release, mask: dict[str, pl.Expr]) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for task, table in TASK_TABLES.items():
        frame = rel.tables[table]
        if task in mask:
            frame = frame.filter(mask[task])
        if frame.height:
            # compute says what it counts: the backbone alone, or the whole detector or segmentor
            frame = frame.with_columns(
                pl.col("gmacs").alias("gmacs_backbone"), pl.col("gmacs").alias("gmacs_whole_model"),
                pl.when(pl.col("conflict")).then(pl.lit("values differ: ") + pl.col("conflicts_with"))
                .otherwise(None).alias("conflict"),
            )
            out[task] = frame.select(RESULT_COLUMNS[task]).sort(RESULT_COLUMNS[task][:3]).to_dicts()
    return out


def _family_plot(rel: Release, family_id: str) -> tuple[Any, str]:
    from viewer.explorer import plot_item
    from viewer.select import select_points

    spec = parse_spec(MultiDict([("family", family_id), ("color", "pretrain_dataset"), ("marker", "resolution")]), rel)
    sel = select_points(rel, spec)
    if sel.points.is_empty():
        return None, spec.query()
    item, _ = plot_item(rel, sel, spec)
    return item, spec.query()


def _one_or_404(rel: Release, table: str, key: str, value: str, what: str, plural: str) -> dict[str, Any]:
    """The row of an entity page, or a 404 page that says which id is unknown."""
    frame = rel.tables[table].filter(pl.col(key) == value)
    if frame.is_empty():
        abort(404, f"There is no {what} '{value}' in release {rel.version}. See the {plural} list for every {what}.")
    return frame.row(0, named=True)


def _checkpoints_of(rel: Release, backbones: list[str]) -> list[str]:
    return rel.tables["checkpoints"].filter(pl.col("backbone_id").is_in(backbones)).get_column("checkpoint_id").to_list()


bp.add_app_template_filter(fmt, "fmt")


@bp.app_template_filter("zip_px")
def zip_px(values: Any) -> list[tuple[str, str]]:
    return [(v, f"{v}px") for v in values]


@bp.app_template_global()
def entity_url(column: str, value: Any) -> str | None:
    """The viewer page a column's value links to, if any."""
    from flask import url_for

    if value is None:
        return None
    targets = {"family_id": "pages.family", "backbone_id": "pages.backbone", "head_id": "pages.head",
               "source_id": "pages.source", "params_source_id": "pages.source", "eval_dataset_id": "pages.dataset",
               "pretrain_dataset_id": "pages.dataset", "dataset_id": "pages.dataset", "train_dataset_id": "pages.dataset"}
    endpoint = targets.get(column)
    if not endpoint:
        return None
    arg = {"pages.family": "family_id", "pages.backbone": "backbone_id", "pages.head": "head_id",
           "pages.source": "source_id", "pages.dataset": "dataset_id"}[endpoint]
    return url_for(endpoint, **{arg: value})


@bp.route("/families")
def families() -> str:
    rel = get_release()
    counts = rel.values.group_by("family_id").agg(pl.col("result_id").n_unique().alias("results"))
    bb = rel.tables["backbones"].group_by("family_id").len("backbones")
    frame = (rel.tables["families"].join(bb, on="family_id", how="left", validate="1:1")
             .join(counts, on="family_id", how="left", validate="1:1")
             .join(rel.tables["sources"].select("source_id", "published"), on="source_id", how="left", validate="m:1"))
    rows = frame.to_dicts()
    cols = [("name", "Family"), ("token_mixer_id", "Token mixer"), ("hierarchical", "Hierarchical"), ("backbones", "Backbones"),
            ("results", "Results"), ("source_id", "Introduced in"), ("published", "Published")]
    return _list("Families", rows, cols, "name", "family")


@bp.route("/families/<family_id>")
def family(family_id: str) -> str:
    rel = get_release()
    fam = _one_or_404(rel, "families", "family_id", family_id, "family", "families")
    backbones = rel.tables["backbones"].filter(pl.col("family_id") == family_id).sort("params_m")
    cks = _checkpoints_of(rel, backbones["backbone_id"].to_list())
    plot_item, query = _family_plot(rel, family_id)
    return render_template("family.html", family=fam, backbones=backbones.to_dicts(),
                           results=_results_by_task(rel, {t: pl.col("checkpoint_id").is_in(cks) for t in TASK_TABLES}),
                           throughput=rel.tables["throughput"].filter(pl.col("backbone_id").is_in(backbones["backbone_id"].to_list()))
                           .select(THROUGHPUT_COLUMNS).sort(THROUGHPUT_COLUMNS[:4], nulls_last=True).to_dicts(),
                           plot_item=plot_item, explorer_query=query, release=rel, release_version=rel.version,
                           result_columns=RESULT_COLUMNS, throughput_columns=THROUGHPUT_COLUMNS)


@bp.route("/backbones")
def backbones() -> str:
    rel = get_release()
    counts = rel.values.group_by("backbone_id").agg(pl.col("result_id").n_unique().alias("results"))
    frame = rel.tables["backbones"].join(counts, on="backbone_id", how="left", validate="1:1").with_columns(
        pl.col("family_id").replace_strict(rel.names["families"], default=None).alias("family"))
    cols = [("name", "Backbone"), ("family", "Family"), ("params_m", "Params (M)"), ("results", "Results"),
            ("timm_arch", "timm architecture"), ("params_source_id", "Params source")]
    return _list("Backbones", frame.to_dicts(), cols, "name", "backbone")


@bp.route("/backbones/<backbone_id>")
def backbone(backbone_id: str) -> str:
    rel = get_release()
    row = _one_or_404(rel, "backbones", "backbone_id", backbone_id, "backbone", "backbones")
    checkpoints = rel.tables["checkpoints"].filter(pl.col("backbone_id") == backbone_id).sort("checkpoint_id")
    cks = checkpoints["checkpoint_id"].to_list()
    tp = rel.tables["throughput"].filter(pl.col("backbone_id") == backbone_id).select(THROUGHPUT_COLUMNS).sort(THROUGHPUT_COLUMNS[1:5], nulls_last=True)
    sources = sorted(set(rel.values.filter(pl.col("backbone_id") == backbone_id)["source_id"].to_list()) | set(tp["source_id"].to_list()) | {row["params_source_id"]})
    return render_template("backbone.html", backbone=row, family=rel.tables["families"].filter(pl.col("family_id") == row["family_id"]).row(0, named=True),
                           checkpoints=checkpoints.to_dicts(), results=_results_by_task(rel, {t: pl.col("checkpoint_id").is_in(cks) for t in TASK_TABLES}),
                           throughput=tp.to_dicts(), sources=[(s, rel.name("sources", s)) for s in sources], release=rel,
                           release_version=rel.version, result_columns=RESULT_COLUMNS, throughput_columns=THROUGHPUT_COLUMNS)


@bp.route("/heads")
def heads() -> str:
    rel = get_release()
    counts = rel.values.filter(pl.col("head_id").is_not_null()).group_by("head_id").agg(pl.col("result_id").n_unique().alias("results"))
    frame = rel.tables["heads"].join(counts, on="head_id", how="left", validate="1:1")
    cols = [("name", "Head"), ("tasks", "Tasks"), ("results", "Results")]
    return _list("Heads", frame.to_dicts(), cols, "name", "head")


@bp.route("/heads/<head_id>")
def head(head_id: str) -> str:
    rel = get_release()
    entity = _one_or_404(rel, "heads", "head_id", head_id, "head", "heads")
    results = _results_by_task(rel, {"detection": pl.col("head_id") == head_id, "semantic_segmentation": pl.col("head_id") == head_id,
                                     "classification": pl.lit(False)})
    return render_template("entity.html", kind="Head", entity=entity, results=results, release=rel,
                           release_version=rel.version, result_columns=RESULT_COLUMNS,
                           explorer_query=_head_query(rel, head_id))


def _head_query(rel: Release, head_id: str) -> str | None:
    task = rel.values.filter(pl.col("head_id") == head_id)
    if task.is_empty():
        return None
    first = task.row(0, named=True)
    try:
        spec = parse_spec(MultiDict([("y_task", first["task_id"]), ("y_dataset", first["dataset_id"]), ("y_head", head_id)]), rel)
    except BadQuery:
        return None
    return spec.query()


@bp.route("/datasets")
def datasets() -> str:
    rel = get_release()
    counts = rel.values.group_by("dataset_id").agg(pl.col("result_id").n_unique().alias("results"))
    frame = rel.tables["datasets"].join(counts, on="dataset_id", how="left", validate="1:1")
    cols = [("name", "Dataset"), ("tasks", "Tasks"), ("roles", "Roles"), ("results", "Results evaluated on it")]
    return _list("Datasets", frame.to_dicts(), cols, "name", "dataset")


@bp.route("/datasets/<dataset_id>")
def dataset(dataset_id: str) -> str:
    rel = get_release()
    entity = _one_or_404(rel, "datasets", "dataset_id", dataset_id, "dataset", "datasets")
    results = _results_by_task(rel, {t: pl.col("eval_dataset_id") == dataset_id for t in TASK_TABLES})
    pretrained = rel.tables["checkpoints"].filter(pl.col("pretrain_dataset_id") == dataset_id).height
    query = None
    present = rel.values.filter(pl.col("dataset_id") == dataset_id)
    if present.height:
        spec = parse_spec(MultiDict([("y_task", present["task_id"][0]), ("y_dataset", dataset_id)]), rel)
        query = spec.query()
    return render_template("entity.html", kind="Dataset", entity=entity, results=results, release=rel,
                           release_version=rel.version, result_columns=RESULT_COLUMNS, explorer_query=query,
                           note=f"{pretrained} checkpoint(s) were pretrained on it.")


@bp.route("/sources")
def sources() -> str:
    rel = get_release()
    counts = rel.values.group_by("source_id").agg(pl.len().alias("numbers"))
    frame = rel.tables["sources"].join(counts, on="source_id", how="left", validate="1:1")
    cols = [("title", "Title"), ("authors", "Authors"), ("year", "Year"), ("kind", "Kind"), ("flops_convention", "'FLOPs' mean"),
            ("numbers", "Metric values"), ("published", "Published")]
    return _list("Sources", frame.to_dicts(), cols, "year", "source", descending=True)


@bp.route("/sources/<source_id>")
def source(source_id: str) -> str:
    rel = get_release()
    source_row = _one_or_404(rel, "sources", "source_id", source_id, "source", "sources")
    results = _results_by_task(rel, {t: pl.col("source_id") == source_id for t in TASK_TABLES})
    tp = rel.tables["throughput"].filter(pl.col("source_id") == source_id).select(THROUGHPUT_COLUMNS).sort(THROUGHPUT_COLUMNS[:4], nulls_last=True)
    params = rel.tables["backbones"].filter(pl.col("params_source_id") == source_id).select("backbone_id", "name", "params_m", "params_where")
    return render_template("source.html", source=source_row, results=results, throughput=tp.to_dicts(),
                           params=params.to_dicts(), release=rel, release_version=rel.version, result_columns=RESULT_COLUMNS,
                           throughput_columns=THROUGHPUT_COLUMNS)


def changelog_sections(text: str) -> dict[str, tuple[str, str]]:
    """CHANGELOG.md per version: {'v0.2.0': (heading, summary)}. The summary is what precedes the folded full
    diff; for sections written before summaries existed, the per-table count lines without the row lists."""
    sections = {}
    for part in text.split("\n## ")[1:]:
        heading, _, body = part.partition("\n")
        if "<details>" in body:
            summary = body.split("<details>")[0]
        else:
            summary = "\n".join(line for line in body.splitlines() if not line.startswith("  "))
        sections[heading.split()[0]] = (heading.strip(), summary.strip())
    return sections


@bp.route("/releases")
def releases() -> str:
    rel = get_release()
    folder = Path(current_app.config["RELEASES_DIR"])
    versions = list(reversed(list_versions(folder)))
    files = {v: sorted(p.name for p in (folder / v).iterdir() if p.is_file()) for v in versions}
    changelog = (folder / "CHANGELOG.md").read_text(encoding="utf-8") if (folder / "CHANGELOG.md").exists() else ""
    return render_template("releases.html", versions=versions, files=files, changelog=changelog,
                           sections=changelog_sections(changelog), release_version=rel.version)


@bp.route("/releases/<version>/<filename>")
def release_file(version: str, filename: str) -> Response:
    folder = Path(current_app.config["RELEASES_DIR"])
    if version not in list_versions(folder):
        abort(404, f"There is no release '{version}'. See the releases page.")
    if not (folder / version / filename).is_file():
        abort(404, f"Release {version} has no file '{filename}'.")
    return send_from_directory(folder / version, filename, as_attachment=True, max_age=31536000)


@bp.route("/about")
def about() -> str:
    rel = get_release()
    return render_template("about.html", release_version=rel.version, metrics=rel.tables["metrics"].to_dicts())


@bp.before_request
def _no_stray_args() -> None:
    if request.endpoint in ("pages.family", "pages.backbone", "pages.head", "pages.dataset", "pages.source", "pages.about", "pages.releases"):
        for name in request.args:
            raise BadQuery(name, request.args[name], "this page takes no parameters")
