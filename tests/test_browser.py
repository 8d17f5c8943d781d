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
