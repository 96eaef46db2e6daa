"""Entity page fixes: checkpoint links, backbone plots, dataset summaries and paging, readable releases,
and explorer links that always open a plot with points."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from viewer.app import create_app
from viewer.changelog import parse_changelog

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", ["/backbones/alphanet_s", "/families/alphanet", "/sources/alpha2021net", "/datasets/imagenet_1k",
                                  "/heads/mask_rcnn"])
def test_checkpoint_cells_link_to_their_row_on_the_backbone_page(client: FlaskClient, path: str) -> None:
    assert '<a href="/backbones/alphanet_s#checkpoint-alphanet_s.in1k">alphanet_s.in1k</a>' in client.get(path).text


def test_a_backbone_page_plots_its_family_with_its_points_highlighted_and_links_onward(client: FlaskClient) -> None:
    html = client.get("/backbones/alphanet_l").text
    assert '<tr id="checkpoint-alphanet_l.in22k">' in html
    assert 'id="plot-item"' in html and 'data-ids="alphanet_l"' in html
    assert ('id="explorer-link" href="/?y=result&amp;y_task=classification&amp;y_dataset=imagenet_1k&amp;y_metric=top1'
            '&amp;x=gmacs&amp;family=alphanet&amp;highlight=alphanet_l&amp;') in html
    assert 'id="compare-link" href="/compare?m=alphanet_l"' in html


def test_a_dataset_page_summarises_its_leaderboards_and_sorts_results_best_first(client: FlaskClient) -> None:
    html = client.get("/datasets/imagenet_1k").text
    assert "6 results evaluated on it, of 4 checkpoints from 2 families;" in " ".join(html.split())
    assert 'href="/leaderboards/imagenet_1k/top1">Top-1 accuracy</a>' in html
    assert "Best: <strong>86</strong>" in html
    table = html.split('id="results-classification"', 1)[1]
    top1 = [m for m in re.findall(r'<td class="num">([\d.]+)</td>', table)]
    assert [v for v in top1 if v in ("86", "83.6", "83", "82", "80", "70.5")] == ["86", "83.6", "83", "82", "80", "70.5"]


def test_a_dataset_page_pages_its_rows(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import viewer.pages

    monkeypatch.setattr(viewer.pages, "DATASET_PAGE", 4)
    second = client.get("/datasets/imagenet_1k?page=2").text
    assert "(6, best first; rows 5-6)" in second and "Page 2 of 2" in second
    assert client.get("/datasets/imagenet_1k?page=3").status_code == 400
    assert client.get("/datasets/imagenet_1k?sort=top1").status_code == 400


def test_the_changelog_reads_into_versions_with_one_line_summaries() -> None:
    text = "# Changelog\n\nintro\n\n## v0.2.0\n\nCompared with v0.1.0.\n\n### Added\n- table `tasks`\n- column `a.b`\n" \
           "- backbones: 2 row(s)\n  - `x`\n  - `y`\n### Changed\n- sources: 1 value(s)\n  - `s` title: a -> b\n### Removed\n\n" \
           "## v0.1.0\n\nFirst release.\n"
    versions = parse_changelog(text)
    assert [v.version for v in versions] == ["v0.2.0", "v0.1.0"]
    assert versions[0].summary() == "Added 1 table, 1 column and 2 rows; changed 1 value."
    assert versions[0].sections[0].items[2].details == ["`x`", "`y`"]
    assert versions[1].summary() == "First release."


def test_the_changelog_reader_takes_dated_headings_and_folded_diffs() -> None:
    text = "## v0.3.0 (2026-12-03)\n\n- 3 tables, 10 rows\n\n<details><summary>Every row</summary>\n\n### Added\n" \
           "- heads: 1 row(s)\n  - `upernet`\n\n</details>\n"
    [version] = parse_changelog(text)
    assert (version.version, version.heading) == ("v0.3.0", "v0.3.0 (2026-12-03)")
    assert version.intro == ["- 3 tables, 10 rows"]
    assert version.summary() == "Added 1 row."
    assert version.sections[0].items[0].details == ["`upernet`"]


def test_the_real_releases_page_is_summaries_with_the_details_folded() -> None:
    client = create_app({"RELEASES_DIR": str(ROOT / "releases"), "TESTING": True}).test_client()
    html = client.get("/releases").text
    changelog = (ROOT / "releases" / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## (v\S+)", changelog, flags=re.M)
    assert html.count('<p class="release-summary">') == len(versions)
    items = len(re.findall(r"^- ", changelog, flags=re.M))
    assert html.count('<li class="change">') == items  # every item is listed, its details folded under it
    assert html.count('<details class="changelog">') == sum(1 for v in parse_changelog(changelog) if v.sections)
    assert len(html) < len(changelog) // 2


def points_of(app: Flask, query: str) -> int:
    """How many points the explorer plots for a query string (its own parser and selection, no figure drawn)."""
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    from viewer.query import parse_spec
    from viewer.select import select_points

    with app.app_context():
        from viewer.app import get_release

        rel = get_release()
        return select_points(rel, parse_spec(MultiDict(parse_qsl(query)), rel)).points.height


def test_every_dataset_and_head_page_links_to_an_explorer_plot_with_points() -> None:
    app = create_app({"RELEASES_DIR": str(ROOT / "releases"), "TESTING": True, "CACHE_SIZE": 0})
    client = app.test_client()
    empty, missing = [], []
    for kind in ("datasets", "heads"):
        ids = re.findall(rf'href="/{kind}/([^"#]+)"', client.get(f"/{kind}").text)
        for key in sorted(set(ids)):
            html = client.get(f"/{kind}/{key}").text
            link = re.search(r'id="explorer-link" href="/\?([^"]+)"', html)
            has_results = 'id="results-' in html or 'id="task-' in html
            if link is None:
                if has_results:
                    missing.append(f"{kind}/{key}")
                continue
            if points_of(app, link.group(1).replace("&amp;", "&")) == 0:
                empty.append(f"{kind}/{key}")
    assert (empty, missing) == ([], [])


def test_changelog_names_are_shown_as_code_and_its_text_stays_text(app: Flask) -> None:
    from viewer.pages import inline_code

    assert str(inline_code("column `a.b` <script>")) == "column <code>a.b</code> &lt;script&gt;"


def test_every_family_and_backbone_with_results_gets_a_plot_that_shows_its_points() -> None:
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    from viewer.links import explorer_query
    from viewer.query import parse_spec
    from viewer.select import select_points

    app = create_app({"RELEASES_DIR": str(ROOT / "releases"), "TESTING": True, "CACHE_SIZE": 0})
    with app.app_context():
        from viewer.app import get_release

        rel = get_release()
        plotted = {kind: set(rel.values.get_column(f"{kind}_id").unique().to_list()) for kind in ("family", "backbone")}
        queries = {("family", f): explorer_query(rel, family=f, extra=(("color", "pretrain_dataset"), ("marker", "resolution")))
                   for f in rel.tables["families"].get_column("family_id").sort().to_list()}
        queries |= {("backbone", b): explorer_query(rel, backbone=b, family=f, highlight=(b,))
                    for b, f in rel.tables["backbones"].select("backbone_id", "family_id").sort("backbone_id").rows()}
        assert sorted(k for k, q in queries.items() if (q is None) != (k[1] not in plotted[k[0]])) == []
        for kind, key in sorted(k for k, q in queries.items() if q)[::20]:  # a spread of them through the explorer's selection
            spec = parse_spec(MultiDict(parse_qsl(queries[(kind, key)] or "")), rel)
            assert key in set(select_points(rel, spec).points.get_column(f"{kind}_id").to_list()), key
