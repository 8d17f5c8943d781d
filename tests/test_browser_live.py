"""Long runs in a real browser under Streamlit Community Cloud's forced settings (see ``conftest.app_url``).

A run lives in a server-side registry, not in one script run: the page's Stop
keeps the partial results and the child stops; walking to another page and
back finds the run (and every setting) where it was, and the toolbar's Stop
then stops it without freezing the page; closing the tab stops the child.
(The estimate-versus-actual check is in ``test_browser_training.py``.)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from browser_support import assert_no_errors, open_page, sandbox_children, screenshot, toolbar_stop, wait_for_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

LONG_RUN = "training?preset=lineworld&total_timesteps=300000&seed=3"
RESULT_TEXT = "Greedy return, 20 episodes"


def _tab(browser: Browser, url: str, width: int = 1400, height: int = 900) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.goto(url)
    wait_for_app(tab)
    return tab


def _wait_running(tab: Page) -> None:
    """Until the live chart of the run is drawn (some episodes finished)."""
    tab.locator(".st-key-live-training").wait_for(timeout=60_000)
    tab.locator('.st-key-live-training [data-testid="stVegaLiteChart"]').first.wait_for(timeout=60_000)


def _wait_no_children(seconds: float) -> float:
    """Seconds until no sandbox child of this checkout is left; fails after ``seconds``."""
    start = time.monotonic()
    while sandbox_children():
        assert time.monotonic() - start < seconds, f"sandbox children still running: {sandbox_children()}"
        time.sleep(0.1)
    return time.monotonic() - start


def test_stop_keeps_the_partial_run_and_the_child_ends(browser: Browser, app_url: str) -> None:
    tab = _tab(browser, f"{app_url}/{LONG_RUN}")
    try:
        tab.get_by_role("button", name="Train", exact=True).click()
        _wait_running(tab)
        live = tab.locator(".st-key-live-training")
        box = live.bounding_box()
        assert box is not None
        assert box["y"] < 900, f"the running run is not in view: {box}"
        tab.wait_for_timeout(2000)
        assert sandbox_children(), "the run's child must be running"
        live.get_by_role("button", name="Stop").click()
        stopped_at = time.monotonic()
        child_gone = _wait_no_children(10.0)
        tab.get_by_text(RESULT_TEXT).first.wait_for(timeout=30_000)
        shown = time.monotonic() - stopped_at
        wait_for_app(tab)
        assert_no_errors(tab, "training page after Stop")
        body = tab.locator("body").inner_text()
        assert "stopped by you" in body
        assert "One greedy episode" in body, "the rollout must be recorded after a stop too"
        assert tab.locator(".st-key-live-training").count() == 0, "the live view must be gone"
        print(f"after Stop: child gone in {child_gone:.1f} s, results shown in {shown:.1f} s")
        assert child_gone < 5, "the child must stop soon after Stop (2 s on a quiet machine)"
        assert shown < 15
    finally:
        tab.context.close()


def test_train_near_the_window_bottom_brings_the_run_into_view_and_keeps_the_page_readable(
    browser: Browser, app_url: str
) -> None:
    tab = _tab(browser, f"{app_url}/{LONG_RUN}")
    try:
        train = tab.get_by_role("button", name="Train", exact=True)
        box = train.bounding_box()
        assert box is not None
        assert box["y"] < 900, f"Train must be near the top of the page, not at {box['y']:.0f} px"
        # Scroll so that Train sits at the bottom edge of the window, then press it there.
        tab.evaluate(
            "d => document.querySelector('[data-testid=stMain]').scrollBy(0, d)", box["y"] + box["height"] - 890
        )
        tab.wait_for_timeout(300)
        box = train.bounding_box()
        assert box is not None
        tab.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        _wait_running(tab)
        tab.wait_for_timeout(1500)
        live = tab.locator(".st-key-live-training").bounding_box()
        assert live is not None
        assert 0 <= live["y"] < 300, f"the live run must come into view at the top: {live}"
        assert train.is_disabled(), "Train is disabled while its run runs"
        # The page's own run ended: nothing outside the live panel is drawn faded (stale) while the run goes on.
        stale = tab.evaluate(
            "() => [...document.querySelectorAll('[data-stale=true]')]"
            ".filter(e => !e.closest('.st-key-live-training')).length"
        )
        assert stale == 0, f"{stale} elements are faded during the run"
        # The sidebar's line follows the run instead of freezing at its first second.
        sidebar = tab.locator('[data-testid="stSidebar"]')
        first_note = sidebar.get_by_text("running for", exact=False).first.inner_text()
        tab.wait_for_timeout(3000)
        assert sidebar.get_by_text("running for", exact=False).first.inner_text() != first_note
        screenshot(tab, "training_running")
        tab.locator(".st-key-live-training").get_by_role("button", name="Stop").click()
        tab.get_by_text(RESULT_TEXT).first.wait_for(timeout=60_000)
        wait_for_app(tab)
        assert not train.is_disabled(), "Train is enabled again once the run ended"
    finally:
        tab.context.close()


def test_walking_away_mid_run_and_back_finds_the_run_and_the_settings(browser: Browser, app_url: str) -> None:
    tab = _tab(browser, f"{app_url}/{LONG_RUN}")
    try:
        tab.get_by_text("All settings", exact=False).first.click()
        tab.get_by_role("spinbutton", name="gamma", exact=True).fill("0.95")
        tab.get_by_role("spinbutton", name="gamma", exact=True).press("Enter")
        wait_for_app(tab)
        tab.get_by_role("button", name="Train", exact=True).click()
        _wait_running(tab)
        open_page(tab, "1. Q-network")
        tab.wait_for_timeout(2000)
        assert sandbox_children(), "the run must go on while the learner looks at another page"
        open_page_running(tab, "3. Training")
        tab.get_by_text("All settings", exact=False).first.click()
        steps = tab.get_by_role("spinbutton", name="total_timesteps", exact=True).input_value()
        assert steps.replace(",", "") == "300000"
        assert tab.get_by_role("spinbutton", name="gamma", exact=True).input_value() == "0.95"
        assert tab.get_by_role("spinbutton", name="seed", exact=True).input_value() == "3"
        assert "total_timesteps=300000" in tab.url, tab.url
        assert "These settings cannot run" not in tab.locator("body").inner_text()
        _wait_running(tab)
        # Back on the page, stop with Streamlit's own toolbar Stop: the run stops, its results are kept.
        assert toolbar_stop(tab), "the toolbar's Stop never showed while the run was polled"
        tab.get_by_text(RESULT_TEXT).first.wait_for(timeout=30_000)
        try:
            _wait_no_children(10.0)
        except AssertionError:
            print(tab.locator("body").inner_text())
            raise
        wait_for_app(tab)
        assert_no_errors(tab, "training page after walking away, back, and the toolbar's Stop")
        assert "stopped with the toolbar's Stop" in tab.locator("body").inner_text()
        assert tab.locator(".st-key-live-training").count() == 0, "no frozen live view"
        open_page(tab, "4. Save and load")
        open_page(tab, "3. Training")
        assert RESULT_TEXT in tab.locator("body").inner_text(), "the results must survive a visit elsewhere"
    finally:
        tab.context.close()


def open_page_running(tab: Page, title: str) -> None:
    """Click a navigation link without waiting for the page to go idle (a run is being polled)."""
    tab.locator('[data-testid="stSidebarNavLink"]', has_text=title).first.click()
    tab.get_by_role("spinbutton", name="total_timesteps", exact=True).wait_for(timeout=60_000)
    tab.wait_for_timeout(1000)


@pytest.mark.parametrize("path", ["", "training"])
def test_phone_screenshots(browser: Browser, app_url: str, path: str) -> None:
    tab = _tab(browser, f"{app_url}/{path}", width=390, height=844)
    try:
        tab.locator('[data-testid="stButton"]').first.wait_for(state="visible")
        tab.wait_for_timeout(1000)
        assert_no_errors(tab, f"/{path} at 390x844")
        overflow = tab.evaluate(
            "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
            " return m ? m.scrollWidth - m.clientWidth : 0; }"
        )
        assert overflow <= 2, f"/{path} scrolls sideways on a phone by {overflow} px"
        screenshot(tab, f"phone_{path or 'home'}")
    finally:
        tab.context.close()


def test_comparison_page_draws_live_curves_and_keeps_the_result(browser: Browser, app_url: str) -> None:
    tab = _tab(browser, app_url)
    try:
        open_page(tab, "Reference vs SB3")
        steps = tab.get_by_role("spinbutton", name="total_timesteps", exact=True)
        steps.fill("3000")
        steps.press("Enter")
        wait_for_app(tab)
        tab.get_by_role("button", name="Train", exact=True).click()
        tab.locator('.st-key-live-comparison [data-testid="stVegaLiteChart"]').first.wait_for(timeout=120_000)
        tab.get_by_text("Every run").first.wait_for(timeout=240_000)
        wait_for_app(tab, timeout=240)
        assert_no_errors(tab, "comparison page after a run")
        open_page(tab, "1. Q-network")
        open_page(tab, "Reference vs SB3")
        assert "Every run" in tab.locator("body").inner_text(), "the result must survive a visit elsewhere"
        assert tab.get_by_role("spinbutton", name="total_timesteps", exact=True).input_value().replace(",", "") == (
            "3000"
        )
    finally:
        tab.context.close()


def test_network_sizes_page_shows_clean_progress_and_a_result(browser: Browser, app_url: str) -> None:
    tab = _tab(browser, app_url)
    try:
        open_page(tab, "5. Network sizes")
        seeds = tab.get_by_role("spinbutton", name="Seeds per size", exact=True)
        seeds.fill("1")
        seeds.press("Enter")
        wait_for_app(tab)
        budget = tab.get_by_role("spinbutton", name="Env steps per run (budget)", exact=True)
        budget.fill("500")
        budget.press("Enter")
        wait_for_app(tab)
        text = tab.get_by_text("about", exact=False).filter(has_text="runs").first.inner_text()
        assert "4 sizes x 1 seed = 4 runs" in text, text
        tab.get_by_role("button", name="Run", exact=True).click()
        progress = tab.locator('.st-key-live-network_sizes [data-testid="stProgress"]')
        progress.first.wait_for(timeout=60_000)
        tab.get_by_text("Episodes (CSV)").first.wait_for(timeout=240_000)
        wait_for_app(tab, timeout=240)
        assert_no_errors(tab, "network sizes page after a run")
        assert "e-16" not in tab.locator("body").inner_text()
    finally:
        tab.context.close()


def test_closing_the_tab_stops_the_run(browser: Browser, app_url: str) -> None:
    tab = _tab(browser, f"{app_url}/{LONG_RUN}")
    tab.get_by_role("button", name="Train", exact=True).click()
    _wait_running(tab)
    assert sandbox_children(), "the run's child must be running"
    tab.context.close()
    gone = _wait_no_children(40.0)
    print(f"child gone {gone:.1f} s after the tab closed")


def test_on_a_phone_figures_keep_legible_labels_and_wide_tables_scroll(browser: Browser, app_url: str) -> None:
    tab = _tab(browser, app_url, width=390, height=844)
    try:
        # The lesson's symbol table scrolls sideways inside itself, so its last column can be reached.
        table = tab.locator("[data-testid=stMarkdownContainer] table", has_text="Name in the code").first
        table.wait_for()
        widths = table.evaluate("t => [t.scrollWidth, t.clientWidth, getComputedStyle(t).overflowX]")
        assert widths[0] > widths[1], f"the symbol table fits a phone? {widths}"
        assert widths[2] == "auto", widths
        table.evaluate("t => { t.scrollLeft = t.scrollWidth; }")
        header = table.locator("th", has_text="Name in the code")
        box = header.bounding_box()
        assert box is not None
        assert box["x"] >= 0, f"'Name in the code' out of reach: {box}"
        assert box["x"] + box["width"] <= 390, f"'Name in the code' out of reach: {box}"
        # A page's figures keep their width (their text stays about as large as on a laptop) and scroll sideways.
        tab.goto(f"{app_url}/replay_buffer")
        wait_for_app(tab)
        tab.get_by_role("button", name="Fill and sample").click()
        wait_for_app(tab)
        images = tab.locator("[data-testid=stImage] img")
        images.first.wait_for()
        for i in range(images.count()):
            width = images.nth(i).evaluate("e => e.getBoundingClientRect().width")
            assert width >= 590, f"figure {i} is scaled down to {width:.0f} px: its labels shrink with it"
        overflow = tab.evaluate(
            "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
            " return m ? m.scrollWidth - m.clientWidth : 0; }"
        )
        assert overflow <= 2, f"the page itself scrolls sideways by {overflow} px"
        screenshot(tab, "phone_replay_buffer")
    finally:
        tab.context.close()
