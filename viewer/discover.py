"""Finding and comparing: search, leaderboards, side-by-side comparison, presets and the metric glossary.

Every page has a JSON twin (the same path with .json) except the presets and the glossary, which
are reference text. Bad parameters are 400 pages naming the parameter and its choices; unknown
datasets and metrics in a path are 404 pages.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import polars as pl
from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as ResponseBase

from viewer import comparison, glossary, presets, ranking
from viewer import search as finder
from viewer.app import get_release
from viewer.data import Release
from viewer.explorer import protocol_text
from viewer.query import BadQuery

bp = Blueprint("discover", __name__)
SEARCH_LIMIT = 200  # hits a JSON answer may ask for
SEARCH_PER_KIND = 12  # hits per kind on the HTML page before "show all"


def _only(*names: str) -> None:
    for name in request.args:
        if name not in names:
            raise BadQuery(name, request.args[name], "known parameters: " + ", ".join(names))


def _one(name: str, default: str = "") -> str:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise BadQuery(name, ",".join(values), "a single value")
    return values[0] if values else default


def _index(rel: Release) -> list[finder.Entry]:
    return rel.cached("search_index", lambda: finder.build_index(rel))  # type: ignore[no-any-return]


def _entry_url(entry: finder.Entry) -> str:
    url = url_for(entry.endpoint, **dict(entry.args))  # type: ignore[arg-type]
    return f"{url}#{quote(entry.anchor)}" if entry.anchor else url


@bp.app_template_global()
def model_label(key: str) -> str:
    """A backbone's name, or a checkpoint id with its backbone's name."""
    rel = get_release()
    if key in rel.names["backbones"]:
        return rel.name("backbones", key)
    backbone = finder.checkpoint_backbones(rel).get(key) if key else None
    return f"{key} ({rel.name('backbones', backbone)})" if backbone else key


@bp.app_template_global()
def checkpoint_url(checkpoint_id: str | None) -> str | None:
    """The row of a checkpoint on its backbone's page."""
    if not checkpoint_id:
        return None
    rel = get_release()
    backbone = rel.cached("checkpoint_backbones", lambda: finder.checkpoint_backbones(rel)).get(checkpoint_id)
    if backbone is None:
        return None
    return url_for("pages.backbone", backbone_id=backbone) + "#" + quote(finder.checkpoint_anchor(checkpoint_id))


@bp.app_template_global()
def highlighted_points(points: pl.DataFrame, highlight: tuple[str, ...]) -> int:
    """How many plotted points belong to the highlighted backbones or checkpoints."""
    if not highlight or points.is_empty():
        return 0
    wanted = list(highlight)
    return points.filter(pl.col("backbone_id").is_in(wanted) | pl.col("checkpoint_id").is_in(wanted)).height


@bp.app_template_global()
def glossary_url(term: str) -> str:
    return url_for("discover.glossary_page") + "#" + quote(term)


# ---------------------------------------------------------------- search

def _search(rel: Release) -> dict[str, Any]:
    _only("q", "kind", "limit")
    query = _one("q").strip()
    if len(query) > finder.MAX_QUERY:
        raise BadQuery("q", query[:20] + "...", f"at most {finder.MAX_QUERY} characters")
    kind = _one("kind")
    if kind and kind not in finder.KINDS:
        raise BadQuery("kind", kind, finder.KINDS)
    limit_text = _one("limit", "50")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= SEARCH_LIMIT:
        raise BadQuery("limit", limit_text, f"a whole number from 1 to {SEARCH_LIMIT}")
    hits = finder.search(_index(rel), query, (kind,) if kind else finder.KINDS)
    return {"query": query, "kind": kind, "limit": int(limit_text), "hits": hits, "counts": finder.count_by_kind(hits)}


def _hit_json(hit: finder.Hit) -> dict[str, Any]:
    e = hit.entry
    return {"kind": e.kind, "id": e.key, "name": e.name, "detail": e.detail, "url": _entry_url(e), "match": hit.score}


@bp.route("/search")
def search_page() -> str:
    rel = get_release()
    found = _search(rel)
    per_kind = SEARCH_LIMIT if found["kind"] else SEARCH_PER_KIND
    groups = []
    for kind in finder.KINDS:
        hits = [h for h in found["hits"] if h.entry.kind == kind]
        if hits:
            groups.append({"kind": kind, "label": finder.KIND_LABELS[kind], "total": len(hits),
                           "hits": [(h, _entry_url(h.entry)) for h in hits[:per_kind]],
                           "more": url_for("discover.search_page", q=found["query"], kind=kind) if len(hits) > per_kind else None})
    return render_template("search.html", found=found, groups=groups, kinds=finder.KINDS, kind_labels=finder.KIND_LABELS,
                           release_version=rel.version)


@bp.route("/search.json")
def search_json() -> Response:
    rel = get_release()
    found = _search(rel)
    return jsonify({"query": found["query"], "kind": found["kind"] or None, "total": len(found["hits"]),
                    "counts": found["counts"], "results": [_hit_json(h) for h in found["hits"][:found["limit"]]]})


# ---------------------------------------------------------------- leaderboards

@bp.route("/leaderboards")
def leaderboards() -> str:
    rel = get_release()
    _only()
    boards = ranking.board_index(rel)
    by_task: dict[str, list[dict[str, Any]]] = {}
    for b in boards:
        by_task.setdefault(b["task"], []).append(b)
    return render_template("leaderboards.html", by_task=by_task, release=rel, release_version=rel.version,
                           presets=presets.PRESETS)


def _board_or_404(rel: Release, dataset_id: str, metric_id: str) -> None:
    if dataset_id not in rel.names["datasets"]:
        abort(404, f"There is no dataset '{dataset_id}' in release {rel.version}. The leaderboards page lists every board.")
    if ranking.values_task(metric_id) is None:
        abort(404, f"There is no metric '{metric_id}'. The glossary lists every metric; the leaderboards page every board.")
    if ranking.board_series(rel, dataset_id, metric_id).is_empty():
        abort(404, f"No result in release {rel.version} reports {rel.name('metrics', metric_id)} on "
                   f"{rel.name('datasets', dataset_id)}. The leaderboards page lists every board that exists.")


def _board_context(rel: Release, dataset_id: str, metric_id: str) -> dict[str, Any]:
    _board_or_404(rel, dataset_id, metric_id)
    board = ranking.parse_board(request.args, rel, dataset_id, metric_id)
    ranked = ranking.rank_board(rel, board)
    pages = max(1, -(-ranked.height // ranking.PAGE_SIZE))
    if board.page > pages:
        raise BadQuery("page", str(board.page), f"a page number from 1 to {pages}")
    start = (board.page - 1) * ranking.PAGE_SIZE
    rows = [_board_row(rel, board, r) for r in ranked.slice(start, ranking.PAGE_SIZE).iter_rows(named=True)]
    return {"board": board, "rows": rows, "total": ranked.height, "pages": pages, "first_row": start + 1,
            "mixed": ranking.mixed(board, ranked, rel), "options": ranking.board_options(rel, board),
            "higher": ranking.higher_is_better(rel, metric_id), "release": rel, "release_version": rel.version,
            "explorer_query": _board_explorer_query(rel, board, ranked)}


def _board_row(rel: Release, board: ranking.Board, r: dict[str, Any]) -> dict[str, Any]:
    return {
        "rank": r["rank"], "result_id": r["result_id"], "value": r["value"], "conflict": bool(r["conflict"]),
        "conflicts_with": r["conflicts_with"], "citations": r["citation_count"] or 1,
        "backbone_id": r["backbone_id"], "backbone": rel.name("backbones", r["backbone_id"]),
        "family_id": r["family_id"], "family": rel.name("families", r["family_id"]),
        "checkpoint_id": r["checkpoint_id"],
        "pretraining": f"{rel.name('datasets', r['pretrain_dataset_id'])}, {rel.name('pretraining_methods', r['pretrain_method_id'])}",
        "chain": r["chain"] if r["chain"] != "-" else "", "head_id": r["head_id"], "head": rel.name("heads", r["head_id"]),
        "schedule": r["schedule"], "resolution_px": r["resolution_px"],
        "protocol": protocol_text(rel, r["adaptation_id"], r["test_time_id"], r["eval_split"]),
        "extra": ranking.extra_data_text(rel, board.dataset, r["training_data_seen"], r["extra_training_data"]),
        "params_m": r["params_m"], "gmacs": r["gmacs"], "gmacs_scope": r["gmacs_scope"],
        "images_per_s": r["images_per_s"], "tp_batch_size": r["tp_batch_size"], "tp_source_id": r["tp_source_id"],
        "tp_where": r["tp_where"], "source_id": r["source_id"], "where": r["where"],
    }


def _board_explorer_query(rel: Release, board: ranking.Board, ranked: pl.DataFrame) -> str | None:
    """The explorer showing the board's results against GMACs (or params), top five highlighted."""
    from viewer.query import parse_spec
    from viewer.select import select_points

    if ranked.is_empty():
        return None
    top = ranked.head(5).get_column("checkpoint_id").unique(maintain_order=True).to_list()
    y_task = board.task
    for x in ("throughput", "gmacs", "params"):
        pairs = [("y", "result"), ("y_task", y_task), ("y_dataset", board.dataset), ("y_metric", board.metric), ("x", x),
                 ("adaptation", board.adaptation), ("test_time", board.test_time), ("split", board.split),
                 ("x_scale", "log"), *(("highlight", c) for c in top), *(("family", f) for f in board.family)]
        if x == "throughput":
            if not (board.gpu and board.precision):
                continue
            pairs += [("x_gpu", board.gpu), ("x_precision", board.precision)]
            if board.min_ips is not None:
                pairs.append(("x_min", f"{board.min_ips:g}"))
        for name, value in (("y_head", board.head), ("extra", board.extra)):
            if value:
                pairs.append((name, value))
        if board.schedule is not None:
            pairs.append(("y_schedule", str(board.schedule)))
        if board.res is not None:
            pairs.append(("y_res", str(board.res)))
        try:
            spec = parse_spec(MultiDict(pairs), rel)
        except BadQuery:
            continue
        if select_points(rel, spec).points.height:
            return spec.query()
    return None


@bp.route("/leaderboards/<dataset_id>/<metric_id>")
def leaderboard(dataset_id: str, metric_id: str) -> str:
    rel = get_release()
    ctx = _board_context(rel, dataset_id, metric_id)
    return render_template("leaderboard.html", **ctx)


@bp.route("/leaderboards/<dataset_id>/<metric_id>.json")
def leaderboard_json(dataset_id: str, metric_id: str) -> Response:
    rel = get_release()
    ctx = _board_context(rel, dataset_id, metric_id)
    board = ctx["board"]
    return jsonify({
        "dataset": board.dataset, "metric": board.metric, "higher_is_better": ctx["higher"], "query": board.query(),
        "protocol": {"adaptation": board.adaptation, "test_time": board.test_time, "split": board.split,
                     "extra": board.extra or "either"},
        "throughput_context": {"gpu": board.gpu or None, "precision": board.precision or None},
        "notes": list(board.notes), "total": ctx["total"], "page": board.page, "pages": ctx["pages"],
        "rows": ctx["rows"],
    })


@bp.app_template_global()
def board_url(dataset_id: str, metric_id: str, query: str = "") -> str:
    url = url_for("discover.leaderboard", dataset_id=dataset_id, metric_id=metric_id)
    return f"{url}?{query}" if query else url


# ---------------------------------------------------------------- compare

def _compare_context(rel: Release) -> dict[str, Any]:
    _only("m", "add")
    models = comparison.parse_models(request.args, rel)
    suggestions: list[tuple[finder.Hit, str]] = []
    added = _one("add").strip()
    if added:
        if len(added) > finder.MAX_QUERY:
            raise BadQuery("add", added[:20] + "...", f"at most {finder.MAX_QUERY} characters")
        hits = finder.search(_index(rel), added, ("backbone", "checkpoint"))
        exact = [h for h in hits if h.score == 0]
        if len(exact) == 1 or len(hits) == 1:
            chosen = (exact or hits)[0].entry.key
            if chosen not in [m.key for m in models]:
                if len(models) >= comparison.MAX_MODELS:
                    raise BadQuery("add", added, f"at most {comparison.MAX_MODELS} models: remove one first")
                models.append(comparison.model(rel, chosen))
        else:
            suggestions = [(h, url_for("discover.compare", m=[*(m.key for m in models), h.entry.key])) for h in hits[:12]]
    keys = [m.key for m in models]
    ctx: dict[str, Any] = {"models": models, "keys": keys, "added": added, "suggestions": suggestions,
                           "release": rel, "release_version": rel.version, "max_models": comparison.MAX_MODELS,
                           "min_models": comparison.MIN_MODELS}
    if added and not suggestions:
        ctx["canonical"] = url_for("discover.compare", m=keys)
    ctx["facts"] = comparison.fact_rows(rel, models) if models else []
    ctx["sections"] = comparison.result_sections(rel, models) if models else []
    ctx["throughput"] = comparison.throughput_rows(rel, models) if models else []
    ctx["latency"] = comparison.latency_rows(rel, models) if models else []
    ctx["remove_urls"] = [url_for("discover.compare", m=[k for k in keys if k != key]) for key in keys]
    ctx["explorer_links"] = _compare_explorer_links(rel, keys) if models else []
    ctx["model_urls"] = [url_for("pages.backbone", backbone_id=m.backbone_id) + (
        "#" + quote(finder.checkpoint_anchor(m.key)) if m.kind == "checkpoint" else "") for m in models]
    return ctx


COMPARE_VIEWS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("ImageNet-1k top-1 vs GMACs", (("y", "result"), ("x", "gmacs"), ("x_scale", "log"))),
    ("ImageNet-1k top-1 vs parameters", (("y", "result"), ("x", "params"), ("x_scale", "log"))),
    ("ImageNet-1k top-1 vs COCO box AP", (("y", "result"), ("x", "result"), ("x_task", "detection"),
                                          ("x_dataset", "coco"), ("x_metric", "box_ap"))),
    ("COCO box AP vs GMACs", (("y", "result"), ("y_task", "detection"), ("y_dataset", "coco"), ("y_metric", "box_ap"),
                              ("x", "gmacs"), ("x_scale", "log"))),
    ("ADE20K mIoU vs GMACs", (("y", "result"), ("y_task", "semantic_segmentation"), ("y_dataset", "ade20k"),
                              ("y_metric", "miou_ms"), ("x", "gmacs"), ("x_scale", "log"))),
)


def _view_points(rel: Release) -> list[tuple[str, tuple[tuple[str, str], ...], dict[str, int]]]:
    """Each comparison view with how many points each checkpoint has in it (the same for every comparison)."""
    from viewer.query import parse_spec
    from viewer.select import select_points

    out: list[tuple[str, tuple[tuple[str, str], ...], dict[str, int]]] = []
    for label, pairs in COMPARE_VIEWS:
        try:
            spec = parse_spec(MultiDict(pairs), rel)
        except BadQuery:
            continue
        counts = select_points(rel, spec).points.group_by("checkpoint_id").len()
        out.append((label, pairs, dict(counts.iter_rows())))
    return out


def _compare_explorer_links(rel: Release, keys: list[str]) -> list[tuple[str, str]]:
    """Explorer views with these models' points highlighted (only views where at least one is plotted)."""
    from viewer.query import parse_spec

    cks = {c for k in keys for c in comparison.model(rel, k).checkpoints}
    out = []
    for label, pairs, counts in rel.cached("compare_views", lambda: _view_points(rel)):
        shown = sum(counts.get(c, 0) for c in cks)
        if shown:
            spec = parse_spec(MultiDict([*pairs, *(("highlight", k) for k in keys)]), rel)
            out.append((f"{label} ({shown} of their points)", spec.query()))
    return out


@bp.route("/compare")
def compare() -> ResponseBase | str:
    rel = get_release()
    ctx = _compare_context(rel)
    if "canonical" in ctx:  # a model added by name: show the comparison at its shareable address
        return redirect(ctx["canonical"])
    return render_template("compare.html", **ctx)


@bp.route("/compare.json")
def compare_json() -> Response:
    rel = get_release()
    ctx = _compare_context(rel)
    models = ctx["models"]
    if len(models) < comparison.MIN_MODELS:
        raise BadQuery("m", ",".join(ctx["keys"]), f"{comparison.MIN_MODELS} to {comparison.MAX_MODELS} backbone or checkpoint ids")
    return jsonify({
        "models": [{"kind": m.kind, "id": m.key, "name": m.name, "backbone_id": m.backbone_id, "family_id": m.family_id,
                    "checkpoints": list(m.checkpoints)} for m in models],
        "facts": ctx["facts"],
        "results": [{"task": s["task"], "rows": [_json_row(r) for r in s["shared"] + s["single"]]} for s in ctx["sections"]],
        "throughput": [_json_row(r) for r in ctx["throughput"]],
        "latency": [_json_row(r) for r in ctx["latency"]],
        "explorer": [{"label": label, "url": url_for("explorer.index") + "?" + q} for label, q in ctx["explorer_links"]],
    })


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("higher_is_better",)}


# ---------------------------------------------------------------- presets and glossary

@bp.route("/presets")
def presets_page() -> str:
    rel = get_release()
    _only()
    return render_template("presets.html", presets=presets.PRESETS, release_version=rel.version,
                           preset_url=presets.preset_url)


@bp.route("/glossary")
def glossary_page() -> str:
    rel = get_release()
    _only()
    return render_template("glossary.html", metrics=glossary.metric_entries(rel), terms=glossary.TERMS,
                           protocols=glossary.protocol_entries(rel), release_version=rel.version)

