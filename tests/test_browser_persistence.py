"""A real browser keeps a learner's work with nothing configured: code, a hint and a Check come back after a
reload, in a new tab, and after the server restarts (Cloud's forced settings; the work is in the browser)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_support import (
    CLOUD_SETTINGS,
    assert_no_errors,
    free_port,
    open_page,
    start_server,
    stop_server,
    wait_for_app,
    wait_healthy,
)
from test_browser_editor import editor_text, set_code

from playground.store.db import open_store
from playground.ui.persistence import STORAGE_PREFIX

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
STUB = (ROOT / "exercises" / "q_network.py").read_text(encoding="utf-8")
MARKER = "# kept between visits: 7d1c"
HINT_TITLE = "The idea"


def wait_for_code(page: Page, text: str, timeout_s: float = 60) -> None:
    """Poll the editor (it remounts once the kept work is restored) until it holds ``text``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if text in editor_text(page):
                return
        except Exception:  # noqa: BLE001 - the editor's frame is replaced when it remounts
            pass
        page.wait_for_timeout(500)
    raise AssertionError(f"the editor never showed {text!r}")


def stored(page: Page) -> dict[str, str]:
    found: dict[str, str] = page.evaluate(
        "(prefix) => Object.fromEntries(Object.keys(localStorage).filter(k => k.startsWith(prefix))"
        ".map(k => [k.slice(prefix.length), localStorage.getItem(k)]))",
        STORAGE_PREFIX,
    )
    return found


def expect_work(page: Page) -> None:
    wait_for_app(page)
    wait_for_code(page, MARKER)
    page.get_by_text(HINT_TITLE, exact=False).first.wait_for(timeout=30_000)
    page.get_by_text("Your code changed since this check", exact=False).or_(
        page.get_by_text("Fix the first failure first", exact=False)
    ).first.wait_for(timeout=30_000)
    assert_no_errors(page)


def test_work_survives_reload_new_tab_and_server_restart(browser: Browser, tmp_path: Path) -> None:
    port = free_port()  # the same port after the restart: local storage belongs to the origin
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    server = start_server(port, log, CLOUD_SETTINGS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        wait_healthy(url, server, log)
        page = context.new_page()
        page.goto(url)
        wait_for_app(page)
        open_page(page, "1. Q-network")
        set_code(page, STUB + "\n" + MARKER + "\n")
        page.get_by_role("button", name="Check my code").click()
        page.get_by_text("Fix the first failure first", exact=False).first.wait_for(timeout=240_000)
        wait_for_app(page)
        page.get_by_role("button", name="Show a hint").click()
        wait_for_app(page)
        kept = json.loads(stored(page)["q_network"])
        assert MARKER in kept["code"]
        assert kept["checks"], kept
        assert sum(kept["hints"].values()) == 1

        page.reload()
        expect_work(page)

        other = context.new_page()
        other.goto(page.url)
        expect_work(other)
        other.close()

        stop_server(server)
        server = start_server(port, log, CLOUD_SETTINGS)
        wait_healthy(url, server, log)
        page.goto(f"{url}/q_network")
        expect_work(page)

        # "Forget my saved work": the browser keeps nothing of it, and the editor holds the stub again.
        page.get_by_text("Your saved work").first.click()
        page.get_by_role("button", name="Forget my saved work").click()
        wait_for_app(page)
        wait_for_code(page, STUB.splitlines()[0])
        assert MARKER not in editor_text(page)
        assert "q_network" not in stored(page)
        page.reload()
        wait_for_app(page)
        page.wait_for_timeout(2000)
        assert MARKER not in editor_text(page)
    finally:
        context.close()
        stop_server(server)


def test_a_class_code_learner_stays_signed_in_and_finds_their_work(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a class code: join, write and Check, reload: still signed in (the browser keeps the personal key),
    the code back from the database, and the server's Check in the database."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[class]\ncode = "dqn-browser"\n', encoding="utf-8")
    database = tmp_path / "class.sqlite3"
    monkeypatch.setenv("PLAYGROUND_DATABASE_URL", f"sqlite+pysqlite:///{database}")
    monkeypatch.setenv("PLAYGROUND_DEPLOYED", "1")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    server = start_server(port, log, [*CLOUD_SETTINGS, "--secrets.files", str(secrets)])
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        wait_healthy(url, server, log)
        page = context.new_page()
        page.goto(url)
        wait_for_app(page)
        page.get_by_role("textbox", name="Class code").fill("dqn-browser")
        page.get_by_role("textbox", name="Your name (as your teacher knows you)").fill("Ada Browser")
        page.get_by_role("button", name="Join the class").click()
        wait_for_app(page)
        page.get_by_text("Signed in as", exact=False).first.wait_for(timeout=30_000)
        page.get_by_text("Your personal key is", exact=False).first.wait_for(timeout=30_000)
        open_page(page, "1. Q-network")
        set_code(page, STUB + "\n" + MARKER + "\n")
        page.get_by_role("button", name="Check my code").click()
        page.get_by_text("Fix the first failure first", exact=False).first.wait_for(timeout=240_000)
        wait_for_app(page)
        assert "q_network" not in stored(page)  # the work is on the server, not in the browser

        page.reload()
        wait_for_app(page)
        page.get_by_text("Signed in as", exact=False).first.wait_for(timeout=30_000)
        wait_for_code(page, MARKER)
        assert_no_errors(page)
    finally:
        context.close()
        stop_server(server)
    store = open_store(f"sqlite+pysqlite:///{database}")
    [row] = store.class_matrix()
    assert row.learner.name == "Ada Browser"
    assert row.cells["q_network"].runs == 1
    assert MARKER in (store.latest_code(row.learner.id, "q_network") or "")
    store.close()
