"""The explorer in a real Chromium (Debian's), driven by Playwright, against the fixture release."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

COUNT_POINTS = """() => {
  let src = null, shown = null, pareto = null;
  for (const m of Bokeh.documents[0].all_models) {
    let name; try { name = m.name } catch (e) { continue }
    if (name === 'points') src = m; if (name === 'shown') shown = m; if (name === 'pareto') pareto = m;
  }
  const out = {};
  src.data.group.forEach((g, i) => { out[g] = out[g] || [0, true]; out[g][0] += 1; out[g][1] = out[g][1] && shown.booleans[i]; });
  if (pareto) out['pareto'] = [pareto.data.x.length, true];
  return out;
}"""
POINT_ON_SCREEN = """(group) => {
  const fig = Bokeh.documents[0].roots()[0]; const view = Bokeh.index[fig.id];
  for (const [model, rv] of view.renderer_views) {
    let n; try { n = model.name } catch (e) { continue }
    if (n !== 'points') continue;
    const full = model.data_source.data.group.indexOf(group);
    const sub = model.view.indices_map[full];
    const rect = view.canvas_view.el.getBoundingClientRect();
    return {x: rect.left + rv.glyph.sx[sub], y: rect.top + rv.glyph.sy[sub]};
  }
  return null;
}"""
X_AXIS_LABEL = "() => Bokeh.documents[0].roots()[0].below[0].axis_label"
READY = "() => window.Bokeh && Bokeh.documents.length === 1 && Bokeh.documents[0].is_idle && Object.keys(Bokeh.index).length > 0"


def open_explorer(page: Page, base: str, query: str = "") -> None:
    page.goto(f"{base}/?{query}")
    page.wait_for_function(READY)


def wait_for_update(page: Page, url_part: str) -> None:
    page.wait_for_url(f"**{url_part}**")
    page.wait_for_function(READY)
    page.wait_for_function("() => !document.getElementById('explorer').classList.contains('loading')")


def table_rows(page: Page) -> list[list[str]]:
    return page.locator("#points tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")


def test_the_default_plot_renders_one_point_per_table_row(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer)
    # AlphaNet-S's 80.0 printed by two documents is one point; its linear probe stays out of the default view
    assert page.evaluate(COUNT_POINTS) == {"alphanet": [4, True], "betaformer": [1, True]}
    assert len(table_rows(page)) == 5


def test_changing_an_axis_updates_plot_table_and_url(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer)
    page.select_option("select[name=x]", "params")
    wait_for_update(page, "x=params")
    assert page.evaluate(X_AXIS_LABEL) == "Parameters (M, backbone)"
    expect(page.locator("#points thead th").nth(10)).to_have_text("Parameters (M, backbone)")
    assert sorted(r[10] for r in table_rows(page)) == ["25", "86", "90", "90", "90"]
    page.go_back()
    page.wait_for_url(f"{live_viewer}/?")
    expect(page.locator("#points thead th").nth(10)).to_have_text("GMACs")


def test_a_legend_click_hides_that_group_and_the_permalink_keeps_it(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer)
    page.locator("#legend button.item[data-key=betaformer]").click()
    page.wait_for_url("**hide=betaformer**")
    assert page.evaluate(COUNT_POINTS) == {"alphanet": [4, True], "betaformer": [1, False]}
    expect(page.locator("#permalink")).to_have_attribute("href", re.compile(r"hide=betaformer"))
    page.reload()
    page.wait_for_function(READY)
    assert page.evaluate(COUNT_POINTS) == {"alphanet": [4, True], "betaformer": [1, False]}
    expect(page.locator("#legend button.item[data-key=betaformer]")).to_have_attribute("aria-pressed", "false")
    page.locator("#legend button.item[data-key=betaformer]").click()
    page.wait_for_url(re.compile(r"^(?!.*hide=).*$"))
    assert page.evaluate(COUNT_POINTS) == {"alphanet": [4, True], "betaformer": [1, True]}


def test_the_pareto_toggle_marks_the_expected_points(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer)
    page.check("input[name=pareto]")
    wait_for_update(page, "pareto=1")
    assert page.evaluate(COUNT_POINTS)["pareto"] == [4, True]
    marked = page.locator("#points tbody tr.on-pareto td:nth-child(3)").all_inner_texts()
    assert sorted(marked) == ["alphanet_l.in1k", "alphanet_l.in22k", "alphanet_s.in1k", "betaformer_b.mae_in1k"]
    expect(page.locator("#pareto-count")).to_have_text("4")


def test_sorting_the_table_orders_its_rows(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer)
    page.locator("#points thead th[data-col=y] a").click()
    wait_for_update(page, "sort=y")
    # AlphaNet-L's 83 and 82 come from two documents that disagree: both are shown, each marked
    assert [r[9] for r in table_rows(page)] == ["86", "83.6", "83 (values differ)", "82 (values differ)", "80"]
    page.locator("#points thead th[data-col=y] a").click()
    wait_for_update(page, "order=asc")
    assert [r[9] for r in table_rows(page)] == ["80", "82 (values differ)", "83 (values differ)", "83.6", "86"]


def test_clicking_a_point_opens_its_backbone_page(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer, "family=betaformer")
    page.locator("#plot").scroll_into_view_if_needed()
    point = page.evaluate(POINT_ON_SCREEN, "betaformer")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url(f"{live_viewer}/backbones/betaformer_b")
    expect(page.locator("h1")).to_have_text("BetaFormer-B")


def test_the_csv_download_equals_the_table(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer, "sort=x&order=asc")
    with page.expect_download() as info:
        page.click("#csv-link")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    table = table_rows(page)
    assert [(r[2], r[8], r[9], r[10], r[11]) for r in rows[1:]] == [
        (t[2], t[8], t[9].removesuffix(" (values differ)"), t[10], t[11].split(" ")[0]) for t in table]
    assert len(rows) == 6


def test_a_plot_mixing_protocols_says_so_and_narrows_in_one_click(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer)
    expect(page.locator("#mixed-notice")).to_have_count(0)
    open_explorer(page, live_viewer, "adaptation=any")
    notice = page.locator("#mixed-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("This plot mixes evaluation protocols.")
    assert page.evaluate(COUNT_POINTS) == {"alphanet": [5, True], "betaformer": [1, True]}
    notice.get_by_text("only Linear probe (1)").click()
    wait_for_update(page, "adaptation=linear_probe")
    assert page.evaluate(COUNT_POINTS) == {"alphanet": [1, True]}
    assert [(r[2], r[8], r[9]) for r in table_rows(page)] == [("alphanet_s.in1k", "Linear probe, Single crop, val", "70.5")]
    expect(page.locator("#mixed-notice")).to_have_count(0)


def pick(page: Page, name: str, typed: str, option: str) -> None:
    """Choose an option in a searchable multi-select by typing part of it, as a person would."""
    page.locator(f"select[name={name}] + .ts-wrapper .ts-control input").click()
    page.keyboard.type(typed)
    expect(page.locator(f"select[name={name}] + .ts-wrapper .ts-dropdown .option")).to_have_text([option])
    page.keyboard.press("Enter")


def test_the_protocol_filter_in_the_form_switches_what_is_compared(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer)
    page.get_by_text("Protocol, data seen, licence, dates").click()
    pick(page, "adaptation", "linear", "Linear probe")
    page.keyboard.press("Escape")
    wait_for_update(page, "adaptation=linear_probe")
    assert [(r[2], r[9]) for r in table_rows(page)] == [("alphanet_s.in1k", "70.5")]
    pick(page, "adaptation", "full", "Full fine-tune")
    page.keyboard.press("Escape")
    wait_for_update(page, "adaptation=fine_tune&adaptation=linear_probe")
    assert len(table_rows(page)) == 6
    expect(page.locator("#mixed-notice")).to_contain_text("Full fine-tune (5)")


def test_a_multi_select_finds_a_family_by_part_of_its_name_shows_a_chip_and_resets(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer)
    pick(page, "family", "form", "BetaFormer")
    expect(page.locator(".ts-dropdown .option", has_text="AlphaNet")).to_have_count(0)
    page.keyboard.press("Escape")
    wait_for_update(page, "family=betaformer")
    expect(page.locator("select[name=family] + .ts-wrapper .item")).to_have_text(["BetaFormer×"])
    assert page.evaluate(COUNT_POINTS) == {"betaformer": [1, True]}
    page.locator("select[name=family] + .ts-wrapper .item .remove").click()
    page.wait_for_url(re.compile(r"^(?!.*family=).*$"))
    page.wait_for_function(READY)
    assert page.evaluate(COUNT_POINTS) == {"alphanet": [4, True], "betaformer": [1, True]}
    pick(page, "family", "alpha", "AlphaNet")
    page.keyboard.press("Escape")
    wait_for_update(page, "family=alphanet")
    page.click("#reset-filters")
    page.wait_for_url(re.compile(r"^(?!.*family=).*$"))
    page.wait_for_function("() => !document.getElementById('explorer').classList.contains('loading')")
    expect(page.locator("select[name=family] + .ts-wrapper .item")).to_have_count(0)


PAGES = ["/", "/?adaptation=any", "/?x=result&x_task=detection&pareto=1", "/?x=throughput", "/?x=date", "/?family=betaformer&pretrain_dataset=imagenet_22k",
         "/families", "/families/alphanet", "/backbones", "/backbones/alphanet_s", "/heads", "/heads/mask_rcnn",
         "/datasets", "/datasets/imagenet_1k", "/sources", "/sources/alpha2021net", "/releases", "/about"]


def test_every_page_loads_with_zero_console_errors(page: Page, live_viewer: str) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    statuses = {}
    for path in PAGES:
        response = page.goto(live_viewer + path)
        statuses[path] = response.status if response else None
        page.wait_for_load_state("networkidle")
    assert errors == []
    assert statuses == {p: 200 for p in PAGES}
