"""Search, leaderboards, compare and highlighting in a real Chromium (Debian's), on the fixture release."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

HIGHLIGHTED = """() => {
  const out = [];
  for (const m of Bokeh.documents[0].all_models) {
    let source; try { source = m.data_source } catch (e) { continue }
    if (!source || !source.data || !source.data.checkpoint || !m.glyph) continue;
    for (const i of source.selected.indices) out.push(source.data.checkpoint[i]);
  }
  return out.sort();
}"""


def board_rows(page: Page) -> list[list[str]]:
    return page.locator("#board tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].innerText.trim(), r.cells[1].innerText.split('\\n')[0].trim(), r.cells[2].innerText.split('\\n')[0].trim()])")


def test_search_finds_a_backbone_by_a_partial_name_from_the_keyboard(page: Page, live_viewer: str) -> None:
    page.goto(f"{live_viewer}/glossary")
    page.keyboard.press("/")
    page.keyboard.type("alphan")
    options = page.locator("#site-search-list li[role=option]")
    expect(options.first).to_contain_text("AlphaNet-L")
    assert [t.split("\n")[0] for t in options.all_inner_texts()[:3]] == ["AlphaNet-L", "AlphaNet-S", "AlphaNet"]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_viewer}/backbones/alphanet_s")
    expect(page.locator("h1")).to_have_text("AlphaNet-S")


def test_the_search_page_answers_without_javascript_suggestions(page: Page, live_viewer: str) -> None:
    page.goto(f"{live_viewer}/search?q=beta")
    expect(page.locator("#kind-backbone a.hit")).to_have_text(["BetaFormer-B"])
    expect(page.locator("#search-summary")).to_contain_text("5 matches.")


def test_a_leaderboard_ranks_and_its_filters_apply_on_change(page: Page, live_viewer: str) -> None:
    page.goto(f"{live_viewer}/leaderboards/imagenet_1k/top1")
    assert board_rows(page) == [["1", "AlphaNet-L", "alphanet_l.in22k"], ["2", "BetaFormer-B", "betaformer_b.mae_in1k"],
                                ["3", "AlphaNet-L", "alphanet_l.in1k"], ["4", "AlphaNet-L", "alphanet_l.in1k"],
                                ["5", "AlphaNet-S", "alphanet_s.in1k"]]
    expect(page.locator("#board tbody tr").nth(2).locator("td").nth(3)).to_contain_text("values differ")
    page.select_option("select[name=adaptation]", "linear_probe")
    page.wait_for_url("**adaptation=linear_probe**")
    assert board_rows(page) == [["1", "AlphaNet-S", "alphanet_s.in1k"]]
    assert "extra=" not in page.url  # blank filters stay out of the address
    expect(page).to_have_title("ImageNet-1k Top-1 accuracy leaderboard · Heedless Backbones")


def test_compare_three_ticked_checkpoints_shows_their_numbers_and_highlights_their_points(page: Page, live_viewer: str) -> None:
    page.goto(f"{live_viewer}/leaderboards/imagenet_1k/top1")
    for checkpoint in ("alphanet_l.in22k", "betaformer_b.mae_in1k", "alphanet_s.in1k"):
        page.locator(f"#board input[value='{checkpoint}']").first.check()
    page.get_by_role("button", name="Compare the ticked rows (2 to 6)").click()
    page.wait_for_url("**/compare?m=alphanet_l.in22k&m=betaformer_b.mae_in1k&m=alphanet_s.in1k")
    expect(page.locator("#compare-classification thead th")).to_have_text(
        ["Dataset and protocol", "AlphaNet-L · in22k", "BetaFormer-B · mae_in1k", "AlphaNet-S · in1k"])
    first = page.locator("#compare-classification tbody tr").first
    expect(first.locator("th")).to_contain_text("ImageNet-1k · Top-1 accuracy")
    assert [c.split("\n")[0] for c in first.locator("td").all_inner_texts()] == ["–", "83.6", "80"]
    expect(first.locator("td .value.best")).to_have_text("83.6")
    page.locator("#explorer-links a").first.click()
    page.wait_for_url("**highlight=alphanet_l.in22k&highlight=alphanet_s.in1k&highlight=betaformer_b.mae_in1k**")
    page.wait_for_function("() => document.documentElement.getAttribute('data-highlighted') === '3'")
    assert page.evaluate(HIGHLIGHTED) == ["alphanet_l.in22k", "alphanet_s.in1k", "betaformer_b.mae_in1k"]
    expect(page.locator("#highlight")).to_contain_text("(3 of the plotted points)")


def test_the_highlight_survives_an_explorer_change_and_the_title_follows_the_state(page: Page, live_viewer: str) -> None:
    page.goto(f"{live_viewer}/?highlight=betaformer_b")
    page.wait_for_function("() => document.documentElement.getAttribute('data-highlighted') === '1'")
    expect(page).to_have_title("ImageNet-1k Top-1 accuracy vs GMACs · Heedless Backbones")
    page.select_option("select[name=x]", "params")
    page.wait_for_url("**x=params**highlight=betaformer_b**")
    expect(page).to_have_title("ImageNet-1k Top-1 accuracy vs Parameters (M, backbone) · Heedless Backbones")
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length === 1")
    page.wait_for_function("""() => { for (const m of Bokeh.documents[0].all_models) { let s; try { s = m.data_source } catch (e) { continue }
        if (s && s.data && s.data.checkpoint && s.selected.indices.length) return true } return false }""")
    assert page.evaluate(HIGHLIGHTED) == ["betaformer_b.mae_in1k"]


PAGES = ["/search?q=alpha", "/leaderboards", "/leaderboards/imagenet_1k/top1", "/leaderboards/coco/box_ap?adaptation=any",
         "/compare", "/compare?m=alphanet_s&m=betaformer_b&m=alphanet_l.in22k", "/presets", "/glossary",
         "/backbones/alphanet_l", "/datasets/imagenet_1k", "/heads/mask_rcnn", "/releases", "/sources/alpha2021net"]


def test_new_and_fixed_pages_fit_a_phone_and_log_no_console_errors(browser: Browser, live_viewer: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    too_wide, statuses = {}, {}
    for path in PAGES:
        response = page.goto(live_viewer + path)
        statuses[path] = response.status if response else None
        if path.startswith("/backbones/"):  # wait for the plot: it must fit too
            page.wait_for_function("() => window.Bokeh && Bokeh.documents.length === 1 && Object.keys(Bokeh.index).length > 0")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[path] = width
    context.close()
    assert (errors, too_wide) == ([], {})
    assert statuses == {p: 200 for p in PAGES}
