"""A real browser against ``streamlit run``: every page in the navigation opens without errors.

Pages are discovered from the sidebar, so a new page is covered without
editing this file. Page-specific interactions belong in their own tests
(marked ``browser``) that use the ``page`` fixture and ``open_page``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest
from browser_support import assert_no_errors, nav_links, open_page, screenshot, wait_for_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser


def test_home_page_shows_the_lesson_with_rendered_math(page: Page, app_url: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    assert_no_errors(page, "home")
    assert page.get_by_role("heading", name="Deep Q-Networks (DQN)").first.is_visible()
    assert page.locator(".katex").count() > 10, "the lesson's LaTeX must be rendered by KaTeX"
    assert page.get_by_role("button", name="Check all exercises").is_visible()
    screenshot(page, "home")


def test_every_page_in_the_navigation_opens_without_errors(page: Page, app_url: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    links = nav_links(page)
    assert links, "the sidebar must list the pages"
    assert links[0][0].startswith("Lesson"), links
    hrefs = [href for _, href in links]
    assert len(set(hrefs)) == len(hrefs), f"two pages share a URL: {links}"
    for title, href in links:
        open_page(page, title)
        # Compare paths only: a page may keep its settings in the query string.
        assert urlparse(page.url).path.rstrip("/") == urlparse(href).path.rstrip("/"), (title, page.url, href)
        assert_no_errors(page, title)
        screenshot(page, title)


def test_a_deep_link_as_a_fresh_servers_first_request_uses_the_router(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Streamlit's pages/-folder compatibility mode must not take over a deep link.

    On a new server whose first request is ``/training``, Streamlit would run the
    page file alone (automatic sidebar names like "training", no page config);
    ``playground.ui.router.ensure_router`` hands the run back to ``streamlit_app.py``.
    """
    from browser_support import free_port, start_server, stop_server, wait_healthy

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("deeplink") / "server.log"
    process = start_server(port, log_path)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        wait_healthy(url, process, log_path)
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        tab.goto(f"{url}/training")
        wait_for_app(tab)
        titles = [title for title, _ in nav_links(tab)]
        assert titles[0].startswith("Lesson"), f"the router's titles are missing from the sidebar: {titles}"
        assert "3. Training" in titles, titles
        assert urlparse(tab.url).path.rstrip("/").endswith("/training"), tab.url
        assert_no_errors(tab, "deep link to /training")
    finally:
        context.close()
        stop_server(process)


def test_a_cold_server_names_its_pages_almost_at_once(browser: Browser) -> None:
    """While a fresh server loads what its pages use (seconds), the sidebar already shows the pages' titles.

    Until the app's first run calls ``st.navigation``, Streamlit lists the raw file names of ``pages/``
    ("q network", "training", ...). That call used to come after importing torch and pandas (5 s on a busy
    machine); now it comes first, so the raw names show only for the moment the run takes to start.
    """
    import time

    from browser_support import CLOUD_SETTINGS, served_app

    from playground.ui.page_list import HOME_TITLE, PAGES

    titles = {HOME_TITLE, *(title for _, title, _ in PAGES)}
    with served_app(CLOUD_SETTINGS) as (url, _):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            tab = context.new_page()
            tab.set_default_timeout(60_000)
            tab.goto(url)
            first_seen: float | None = None
            last_raw = 0.0
            app = tab.locator('[data-testid="stApp"]')
            for _ in range(600):  # until the first run is over (at most a minute)
                names = set()
                for text in tab.locator('[data-testid="stSidebarNavLink"]').all_inner_texts():
                    lines = [line.strip() for line in text.splitlines() if line.strip()]
                    names.update(lines[-1:])
                now = time.monotonic()
                if names:
                    first_seen = first_seen or now
                    if not names <= titles:
                        last_raw = now
                if names and app.get_attribute("data-test-script-state") == "notRunning":
                    break
                tab.wait_for_timeout(50)
            assert first_seen is not None, "no navigation was ever shown"
            raw_for = max(0.0, last_raw - first_seen)
            assert raw_for < 1.5, f"the raw file names stayed in the sidebar for {raw_for:.1f} s"
        finally:
            context.close()
