"""One learner end to end, in a real browser, under Community Cloud's settings on a deployed app.

Home -> "Start with 1. Q-network" -> exercise 1: a failing Check, a hint, the reference code pasted into the
editor, a passing Check, "Next exercise" -> the same on exercises 2 to 5 (with one LineWorld training run on
the training page) -> "Last step" -> the comparison page. Screenshots of the way (desktop, then phone) go to
``artifacts/screenshots/walkthrough_*.png`` (git-ignored), so a regression in the path shows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_support import (
    CLOUD_SETTINGS,
    assert_no_errors,
    free_port,
    screenshot,
    start_server,
    stop_server,
    wait_for_app,
    wait_healthy,
)
from test_browser_editor import set_code

from playground.checks import EXERCISE_TITLES, EXERCISES, checks_for
from playground.core.workspace import DEPLOYED_ENV

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def deployed_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server that counts as deployed (``PLAYGROUND_DEPLOYED=1``), with Cloud's forced settings."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("streamlit_deployed") / "server.log"
    previous = os.environ.get(DEPLOYED_ENV)
    os.environ[DEPLOYED_ENV] = "1"
    try:
        process = start_server(port, log, CLOUD_SETTINGS)
    finally:
        if previous is None:
            os.environ.pop(DEPLOYED_ENV, None)
        else:
            os.environ[DEPLOYED_ENV] = previous
    try:
        wait_healthy(url, process, log)
        yield url
    finally:
        stop_server(process)


def _check(page: Page) -> None:
    page.get_by_role("button", name="Check my code").click()
    page.wait_for_timeout(300)
    page.get_by_text("checks passed", exact=False).first.wait_for(timeout=120_000)
    wait_for_app(page)


def _in_view(page: Page, text: str) -> None:
    """The text is on screen (not below the fold) right where the learner looks."""
    box = page.get_by_text(text, exact=False).first.bounding_box()
    assert box is not None, text
    assert 0 <= box["y"] < DESKTOP["height"], f"{text!r} is off screen at y={box['y']:.0f}"


def test_one_learner_from_the_home_page_to_the_comparison(browser: Browser, deployed_url: str) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(deployed_url)
        wait_for_app(page)
        assert_no_errors(page, "home")
        how = page.locator("body").inner_text()
        assert "no files, no terminal" in how, "a deployed app says how it is used: the editor"
        screenshot(page, "walkthrough_01_home", full_page=False)
        page.get_by_role("link", name="Start with 1. Q-network").click()
        wait_for_app(page)

        for number, exercise in enumerate(EXERCISES, start=1):
            title = EXERCISE_TITLES[exercise]
            page.get_by_role("heading", name=title).first.wait_for()
            total = len(checks_for(exercise))
            if number == 1:
                # The stub fails, with one red summary right under the buttons; a hint helps.
                _check(page)
                _in_view(page, f"0 of {total} checks passed")
                page.get_by_role("button", name="Show a hint").click()
                page.get_by_text("hint 1 of", exact=False).first.wait_for()
                wait_for_app(page)
                screenshot(page, "walkthrough_02_fail_and_hint", full_page=False)
            solution = (ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
            set_code(page, solution)
            _check(page)
            banner = f"{title}: done."
            page.get_by_text(banner).first.wait_for(timeout=30_000)
            _in_view(page, banner)
            assert page.get_by_text(f"All {total} checks passed", exact=False).count()
            assert page.get_by_text("Your code beside the reference").count(), "the reference opens beside"
            assert_no_errors(page, f"{exercise} after a passing Check")
            screenshot(page, f"walkthrough_{number + 2:02d}_{exercise}_done", full_page=False)
            if exercise == "train_dqn":
                # One LineWorld run of the learner's loop: its live view comes into sight, then its result.
                loop = page.locator('[data-testid="stRadio"]', has_text="loop").first
                loop.get_by_text("mine (exercises/)").click()
                wait_for_app(page)
                page.get_by_role("button", name="Train", exact=True).click()
                page.get_by_text("Greedy return, 20 episodes").first.wait_for(timeout=240_000)
                wait_for_app(page)
                assert_no_errors(page, "training page after a run of the learner's loop")
            link = "Last step" if number == len(EXERCISES) else "Next exercise"
            page.get_by_role("link", name=link).first.click()
            wait_for_app(page)

        page.get_by_role("heading", name="The reference beside Stable-Baselines3").wait_for()
        assert_no_errors(page, "comparison page")
        screenshot(page, "walkthrough_08_comparison", full_page=False)

        page.locator('[data-testid="stSidebarNavLink"]', has_text="Lesson").first.click()
        wait_for_app(page)
        assert "All five exercises pass" in page.locator("body").inner_text(), "the home page knows the way on"
        screenshot(page, "walkthrough_09_home_all_done", full_page=False)

        # The same learner on a phone: nothing scrolls sideways but tables and figures, inside themselves.
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(800)
        screenshot(page, "walkthrough_10_phone_home")
        page.locator(".st-key-start-here").get_by_role("link", name=EXERCISE_TITLES["q_network"]).click()
        wait_for_app(page)
        page.get_by_text(f"{EXERCISE_TITLES['q_network']}: done.").first.wait_for()
        overflow = page.evaluate(
            "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
            " return m ? m.scrollWidth - m.clientWidth : 0; }"
        )
        assert overflow <= 2, f"the exercise page scrolls sideways on a phone by {overflow} px"
        screenshot(page, "walkthrough_11_phone_q_network")
    finally:
        context.close()
