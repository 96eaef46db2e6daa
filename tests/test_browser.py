"""The explorer in a real Chromium (Debian's), driven by Playwright, against the fixture release."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

COUNT_POINTS = """() => {
  let src = null, shown = null, pareto = null;
  for (const m of Bokeh.documents[0].all_models) {
    let name; try { name = m.name } catch (e) { continue }
    if (name === 'point-data') src = m; if (name === 'shown') shown = m; if (name === 'pareto') pareto = m;
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
PLOT_DRAWN = ("() => window.Bokeh && Bokeh.documents.length === 1 && Bokeh.documents[0].is_idle"
              " && Object.keys(Bokeh.index).length > 0")
# the plot drawn, and what is laid out after it (the table, the controls) in place: the page as a person uses it
READY = (f"() => ({PLOT_DRAWN})() && !document.documentElement.classList.contains('plot-pending')"
         " && !document.documentElement.classList.contains('controls-pending')")


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


@pytest.fixture(scope="module")
def real_viewer():  # type: ignore[no-untyped-def]
    """The viewer serving the latest real release (many families, long names), over real HTTP."""
    import threading

    from werkzeug.serving import make_server

    from viewer.app import create_app

    from .conftest import ROOT

    server = make_server("127.0.0.1", 0, create_app({"RELEASES_DIR": str(ROOT / "releases")}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def sized_page(browser: Browser, width: int, height: int) -> Page:
    return browser.new_context(viewport={"width": width, "height": height}).new_page()


BOX = "(selector) => { const e = document.querySelector(selector); if (!e) return null; const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_the_plot_is_above_the_fold_at_1366_by_768(browser: Browser, real_viewer: str) -> None:
    page = sized_page(browser, 1366, 768)
    open_explorer(page, real_viewer)
    left, top, right, bottom = page.evaluate(BOX, "#plot")
    assert (top > 0, bottom <= 768, right - left > 600) == (True, True, True), (left, top, right, bottom)
    expect(page.locator("#plot-title")).to_have_text("ImageNet-1k Top-1 accuracy vs GMACs")
    page.context.close()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1000, 800), (390, 844)])
def test_the_legend_never_covers_the_plot_or_the_table(browser: Browser, real_viewer: str, width: int, height: int) -> None:
    page = sized_page(browser, width, height)
    open_explorer(page, real_viewer)
    legend, plot, table = (page.evaluate(BOX, s) for s in ("#legend", "#plot", ".table-wrap"))
    assert page.locator("#legend button.item").count() >= 20
    assert (overlap(legend, plot), overlap(legend, table), overlap(plot, table)) == (False, False, False)
    # the legend scrolls inside its own box rather than growing over the page
    assert page.evaluate("() => { const e = document.getElementById('legend'); return e.scrollHeight > e.clientHeight && getComputedStyle(e).overflowY === 'auto' }")
    page.context.close()


PAGE_TYPES = ["/", "/?x=result&x_task=detection&pareto=1", "/?y=params&x=gmacs", "/?x=throughput", "/families",
              "/families/convnext", "/backbones", "/backbones/convnext_t", "/heads", "/heads/mask_rcnn", "/datasets",
              "/datasets/imagenet_1k", "/sources", "/sources/liu2022convnet", "/releases", "/about", "/no/such/page",
              "/?y=bogus"]


def test_no_page_scrolls_sideways_at_390_px(browser: Browser, real_viewer: str) -> None:
    page = sized_page(browser, 390, 844)
    wide = {}
    for path in PAGE_TYPES:
        page.goto(real_viewer + path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
    assert wide == {}
    page.context.close()


def test_hover_shows_one_card_for_the_nearest_point(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer, "family=betaformer")
    page.locator("#plot").scroll_into_view_if_needed()
    point = page.evaluate(POINT_ON_SCREEN, "betaformer")
    page.mouse.move(point["x"] + 5, point["y"] - 4)
    card = page.locator("#hover-card")
    expect(card).to_be_visible()
    expect(card.locator(".head")).to_have_text("BetaFormer-B")
    expect(card).to_contain_text("beta2022former, Table 2")
    page.mouse.move(point["x"] + 60, point["y"] + 60)
    expect(card).to_be_hidden()


def test_hover_in_a_dense_region_shows_exactly_one_card(page: Page, real_viewer: str) -> None:
    open_explorer(page, real_viewer)
    page.locator("#plot").scroll_into_view_if_needed()
    # the point with the most neighbours within 15 px
    dense = page.evaluate("""() => {
      const fig = Bokeh.documents[0].roots()[0]; const view = Bokeh.index[fig.id];
      for (const [model, rv] of view.renderer_views) {
        let n; try { n = model.name } catch (e) { continue } if (n !== 'points') continue;
        const sx = rv.glyph.sx, sy = rv.glyph.sy; let best = 0, most = -1;
        for (let i = 0; i < sx.length; i++) { let k = 0;
          for (let j = 0; j < sx.length; j++) if ((sx[i]-sx[j])**2 + (sy[i]-sy[j])**2 < 225) k++;
          if (k > most) { most = k; best = i; } }
        const rect = view.canvas_view.el.getBoundingClientRect();
        return {x: rect.left + sx[best], y: rect.top + sy[best], neighbours: most};
      } }""")
    assert dense["neighbours"] >= 5
    page.mouse.move(dense["x"], dense["y"])
    expect(page.locator("#hover-card")).to_be_visible()
    assert page.locator(".hover-card:visible").count() == 1
    assert page.locator(".bk-Tooltip:visible, .bk-tooltip:visible").count() == 0


def test_parameters_against_gmacs_plots_from_the_form(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer)
    page.select_option("select[name=y]", "params")
    wait_for_update(page, "y=params")
    assert page.evaluate("() => Bokeh.documents[0].roots()[0].left[0].axis_label") == "Parameters (M, backbone)"
    assert page.evaluate(X_AXIS_LABEL) == "GMACs"
    assert sum(n for n, _ in page.evaluate(COUNT_POINTS).values()) == 5
    expect(page.locator("#plot-title")).to_have_text("Parameters (M, backbone) vs GMACs")
    assert page.title() == "Parameters (M, backbone) vs GMACs · Heedless Backbones"


def test_a_bad_value_keeps_the_form_and_says_what_is_wrong(page: Page, live_viewer: str) -> None:
    open_explorer(page, live_viewer)
    page.evaluate("() => { const f = document.getElementById('explorer-form'); const i = document.createElement('input'); i.type = 'hidden'; i.name = 'page'; i.value = '9'; f.appendChild(i); }")
    page.select_option("select[name=x]", "params")
    expect(page.locator("#explorer-error")).to_have_text("'9' is not a valid value for the parameter 'page'. Valid: a page number from 1 to 1.")
    expect(page.locator("#explorer-form")).to_be_visible()


def test_legend_colours_on_the_default_plot_differ_by_at_least_15_ciede2000(page: Page, real_viewer: str) -> None:
    from itertools import combinations

    from coloraide import Color

    open_explorer(page, real_viewer)
    colours = page.locator("#legend button.item").evaluate_all("bs => bs.map(b => b.dataset.color)")
    assert len(colours) >= 20 and len(set(colours)) == len(colours)
    smallest = min(Color(a).delta_e(Color(b), method="2000") for a, b in combinations(colours, 2))
    assert smallest >= 15
    drawn = page.evaluate("() => { for (const m of Bokeh.documents[0].all_models) { let n; try { n = m.name } catch (e) { continue } if (n === 'colors') return m.palette } }")
    assert sorted(drawn) == sorted(colours)


def test_every_preset_opens_a_drawn_non_empty_plot(page: Page, real_viewer: str) -> None:
    from urllib.parse import urlencode

    from viewer.presets import PRESETS

    links = [(p.preset_id, link) for p in PRESETS for link in p.links if link.target == "explorer"]
    assert len(links) >= len(PRESETS) - 1  # every question but at most one has a plot
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    for preset_id, link in links:
        open_explorer(page, real_viewer, urlencode(link.query))
        counts = page.evaluate(COUNT_POINTS)
        points = sum(n for group, (n, _) in counts.items() if group != "pareto")
        shown = int(page.locator("#point-count").inner_text().replace(",", ""))
        assert (preset_id, points > 0, points) == (preset_id, True, shown)
    assert errors == []


def test_the_table_and_controls_are_laid_out_after_the_plot_and_never_wait_without_javascript(  # noqa: PLR0915
        browser: Browser, live_viewer: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    # each animation frame from the start: when the plot is first drawn, and whether the table, the searchable
    # selects and the waiting classes were there in that frame
    context.add_init_script("""(function check() {
      const root = document.documentElement, skipped = (sel) => getComputedStyle(document.querySelector(sel)).contentVisibility;
      if (window.Bokeh && Bokeh.documents.length === 1 && Bokeh.documents[0].is_idle && !window.__first) {
        window.__first = {pending: [...root.classList].sort(), table: skipped('#explorer .table-wrap'),
                          controls: skipped('#explorer-form'), searchable: document.querySelectorAll('.ts-wrapper').length};
      }
      requestAnimationFrame(check);
    })();""")
    page = context.new_page()
    open_explorer(page, live_viewer)
    page.wait_for_function("() => window.__first !== undefined")
    assert page.evaluate("() => window.__first") == {"pending": ["controls-pending", "plot-pending"], "table": "hidden",
                                                      "controls": "hidden", "searchable": 0}
    page.wait_for_function("() => document.documentElement.classList.length === 0")
    assert page.evaluate("() => [getComputedStyle(document.querySelector('#explorer .table-wrap')).contentVisibility,"
                         " getComputedStyle(document.querySelector('#explorer-form')).contentVisibility]") == ["visible", "visible"]
    expect(page.locator("#points tbody tr").first).to_be_visible()
    expect(page.locator("#explorer-form .ts-wrapper")).to_have_count(10)
    context.close()

    # when the searchable selects cannot be loaded, the native ones are shown as soon as that is known
    blocked = browser.new_context(viewport={"width": 1366, "height": 768})
    page = blocked.new_page()
    page.route("**/tom-select.complete.min.js*", lambda route: route.abort())
    open_explorer(page, live_viewer)
    page.wait_for_function("() => document.documentElement.classList.length === 0", timeout=1500)
    expect(page.locator("#explorer-form select[name=family]")).to_be_visible()
    expect(page.locator("#explorer-form .ts-wrapper")).to_have_count(0)
    blocked.close()

    plain = browser.new_context(viewport={"width": 1366, "height": 768}, java_script_enabled=False)
    page = plain.new_page()
    page.goto(f"{live_viewer}/")
    assert page.evaluate("() => document.documentElement.className") == ""
    expect(page.locator("#points tbody tr")).to_have_count(5)
    expect(page.locator("#points tbody tr").first).to_be_visible()
    expect(page.locator("#explorer-form select[name=family]")).to_be_visible()
    plain.close()
