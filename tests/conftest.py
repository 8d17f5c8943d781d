"""Shared test set-up: the project on ``sys.path``, headless rendering, common fixtures."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = Path(__file__).resolve().parent

# Before anything imports pygame or matplotlib: no window, no display needed.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")
# One intra-op thread, as the app and the sandbox use: tiny networks on 2 shared cores run
# many times slower when PyTorch's threads fight each other.
os.environ.setdefault("OMP_NUM_THREADS", "1")
for path in (str(ROOT), str(TESTS_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The repository root (where ``streamlit_app.py`` lives)."""
    return ROOT


# --- real-browser fixtures (tests marked ``browser``; see browser_support.py) -------------------


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a ``streamlit run streamlit_app.py`` server, started once and stopped at the end.

    It runs with the settings Streamlit Community Cloud forces (fast reruns, no
    error details, run on save, XSRF protection); the deep-link test starts one
    server with the project's own config.
    """
    from browser_support import CLOUD_SETTINGS, free_port, start_server, stop_server, wait_healthy

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    process = start_server(port, log_path, CLOUD_SETTINGS)
    try:
        wait_healthy(url, process, log_path)
        yield url
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium driven by Playwright. A missing Chromium FAILS the test."""
    from browser_support import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (CI does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    """A fresh tab (its own Streamlit session) on the home page, shared by one test module."""
    from browser_support import wait_for_app

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.goto(app_url)
    wait_for_app(tab)
    try:
        yield tab
    finally:
        context.close()


# --- a real PostgreSQL server (tests of the class database; see pg_support.py) -----------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An SQLAlchemy URL of an empty database on a PostgreSQL server this test run starts.

    Skipped (with the reason) where Debian's PostgreSQL is not installed, except under CI
    (``CI=true``), where ``.ci/run`` installs it and a missing server FAILS the test.
    """
    from pg_support import pg_bin_dir, postgres_server

    bin_dir = pg_bin_dir()
    if bin_dir is None:
        reason = "PostgreSQL is not installed (/usr/lib/postgresql/*/bin): `apt-get install -y postgresql`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " (CI must have it)")
        pytest.skip(reason)
    with postgres_server(bin_dir) as url:
        yield url
