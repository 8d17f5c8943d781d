"""A real browser trains on LineWorld from the training page and sees the curve, the GIF and the evaluation.

The page's time estimate (from this server's measured speed) must be within 3x of the real click-to-result time.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest
from browser_support import assert_no_errors, open_page, screenshot, wait_for_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser


def test_training_page_trains_lineworld(page: Page, app_url: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    open_page(page, "3. Training")
    assert "preset=lineworld" in page.url, "the settings must be in the URL"
    text = page.get_by_text("takes about").first.inner_text()
    match = re.search(r"about (\d+)-(\d+) s", text)
    assert match, text
    low, high = float(match.group(1)), float(match.group(2))
    start = time.monotonic()
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Greedy return, 20 episodes").first.wait_for(timeout=240_000)
    actual = time.monotonic() - start
    estimate = (low * high) ** 0.5
    print(f"estimate {low:g}-{high:g} s, actual {actual:.1f} s")
    assert max(estimate / actual, actual / estimate) <= 3.0, f"estimate {low:g}-{high:g} s, took {actual:.1f} s"
    wait_for_app(page, timeout=240)
    assert_no_errors(page, "training page after a run")
    body = page.locator("body").inner_text()
    assert "Greedy return, 20 episodes" in body
    assert "0.4 ± 0.0" in body, "the reference must learn LineWorld's optimal return"
    caption = page.get_by_text("One greedy episode", exact=False)
    assert caption.count() >= 1, "the GIF of the greedy agent must be shown"
    # The reward curve, probe Q-values, Q heatmap and the GIF are images; TD loss and epsilon are charts.
    assert page.locator('[data-testid="stImage"] img, [data-testid="stImageContainer"] img').count() >= 4
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 2
    screenshot(page, "training_after_run")


def test_two_sessions_training_at_once_both_finish(browser: Browser, app_url: str) -> None:
    """Each session trains in its own sandbox process: neither blocks nor breaks the other."""
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        tabs = []
        for context in contexts:
            tab = context.new_page()
            tab.set_default_timeout(60_000)
            tab.goto(f"{app_url}/training?preset=lineworld")
            wait_for_app(tab)
            tabs.append(tab)
        for tab in tabs:  # start both before waiting for either
            tab.get_by_role("button", name="Train", exact=True).click()
        for number, tab in enumerate(tabs, start=1):
            tab.get_by_text("Greedy return, 20 episodes", exact=False).first.wait_for(timeout=240_000)
            wait_for_app(tab, timeout=240)
            assert_no_errors(tab, f"session {number} after training at the same time as the other")
            assert "0.4 ± 0.0" in tab.locator("body").inner_text(), f"session {number} did not learn LineWorld"
    finally:
        for context in contexts:
            context.close()


def test_a_failed_run_shows_its_error_once_and_the_reference_still_runs(browser: Browser, app_url: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        tab.goto(f"{app_url}/training?preset=lineworld&total_timesteps=1500&loop=exercises")
        wait_for_app(tab)
        tab.get_by_role("button", name="Train", exact=True).click()
        tab.get_by_text("Greedy return, 20 episodes").first.wait_for(timeout=240_000)
        wait_for_app(tab, timeout=240)
        assert_no_errors(tab, "training page after a failed run")
        body = tab.locator("body").inner_text()
        assert body.count("run failed") == 1, body
        assert "not implemented yet" in body
        assert "starting" not in body
        assert "recording the trained agent" not in body
        assert tab.get_by_role("button", name="Stop").count() == 0, "no Stop once nothing runs"
    finally:
        context.close()
