"""A real browser trains on LineWorld from the training page and sees the curve, the GIF and the evaluation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from browser_support import assert_no_errors, open_page, screenshot, wait_for_app

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_training_page_trains_lineworld(page: Page, app_url: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    open_page(page, "3. Training")
    assert "preset=lineworld" in page.url, "the settings must be in the URL"
    page.get_by_role("button", name="Train", exact=True).click()
    wait_for_app(page, timeout=240)
    assert_no_errors(page, "training page after a run")
    body = page.locator("body").inner_text()
    assert "Greedy return, 20 episodes" in body
    assert "0.4 ± 0.0" in body, "the reference must learn LineWorld's optimal return"
    caption = page.get_by_text("One greedy episode", exact=False)
    assert caption.count() >= 1, "the GIF of the greedy agent must be shown"
    # The reward curve, TD loss, epsilon, probe Q-values, Q heatmap and the GIF are all images.
    assert page.locator('[data-testid="stImage"] img, [data-testid="stImageContainer"] img').count() >= 5
    screenshot(page, "training_after_run")
