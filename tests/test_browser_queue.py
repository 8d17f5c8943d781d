"""A real browser: with K=1 job at a time, a second session that presses Train sees its place in the queue,
then its result."""

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

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def one_slot_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server that runs one sandbox job at a time (``PLAYGROUND_MAX_JOBS=1``), with Cloud's forced settings."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("streamlit_one_slot") / "server.log"
    previous = os.environ.get("PLAYGROUND_MAX_JOBS")
    os.environ["PLAYGROUND_MAX_JOBS"] = "1"
    try:
        process = start_server(port, log, CLOUD_SETTINGS)
    finally:
        if previous is None:
            os.environ.pop("PLAYGROUND_MAX_JOBS", None)
        else:
            os.environ["PLAYGROUND_MAX_JOBS"] = previous
    try:
        wait_healthy(url, process, log)
        yield url
    finally:
        stop_server(process)


def test_second_session_waits_in_the_queue_then_gets_its_result(browser: Browser, one_slot_url: str) -> None:
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        first, second = (context.new_page() for context in contexts)
        for tab, preset in ((first, "fast"), (second, "lineworld")):
            tab.set_default_timeout(60_000)
            tab.goto(f"{one_slot_url}/training?preset={preset}")
            wait_for_app(tab)
        first.get_by_role("button", name="Train", exact=True).click()
        first.get_by_text("Training", exact=False).first.wait_for()
        first.wait_for_timeout(1500)  # the first job has the only slot now
        second.get_by_role("button", name="Train", exact=True).click()
        notice = second.get_by_text("You are number 1 in the queue", exact=False).first
        notice.wait_for(timeout=60_000)
        assert second.get_by_role("button", name="Cancel").count() >= 1, "a queued job offers Cancel"
        second.wait_for_timeout(1500)
        live = second.locator(".st-key-live-training").inner_text()
        assert "starting a sandbox process" not in live, "a queued run says only that it waits: " + live
        assert "number 1 in the queue" in second.locator('[data-testid="stSidebar"]').inner_text()
        screenshot(second, "training_queued")
        # Once the first session's run ends, the second one runs and shows its result.
        second.get_by_text("Greedy return, 20 episodes", exact=False).first.wait_for(timeout=600_000)
        wait_for_app(second, timeout=240)
        assert_no_errors(second, "queued session after its run")
        assert "0.4 ± 0.0" in second.locator("body").inner_text(), "the queued run must still learn LineWorld"
        assert "in the queue" not in second.locator("body").inner_text()
        wait_for_app(first, timeout=600)
        assert_no_errors(first, "first session after its run")
    finally:
        for context in contexts:
            context.close()


def test_cancel_leaves_the_queue(browser: Browser, one_slot_url: str, tmp_path: Path) -> None:
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        first, second = (context.new_page() for context in contexts)
        for tab, preset in ((first, "fast"), (second, "lineworld")):
            tab.set_default_timeout(60_000)
            tab.goto(f"{one_slot_url}/training?preset={preset}")
            wait_for_app(tab)
        first.get_by_role("button", name="Train", exact=True).click()
        first.wait_for_timeout(1500)
        second.get_by_role("button", name="Train", exact=True).click()
        second.get_by_text("You are number 1 in the queue", exact=False).first.wait_for(timeout=60_000)
        second.get_by_role("button", name="Cancel").first.click()
        wait_for_app(second, timeout=60)
        assert_no_errors(second, "after Cancel")
        second.get_by_text("cancelled while it waited in the queue; nothing ran", exact=False).first.wait_for()
        assert "You are number" not in second.locator("body").inner_text()
        first.get_by_role("button", name="Stop").first.click()
        wait_for_app(first, timeout=120)
    finally:
        for context in contexts:
            context.close()


def test_cancel_on_a_queued_check_leaves_the_queue_at_once(browser: Browser, one_slot_url: str) -> None:
    """The Check runs in the editor's fragment: its Cancel must act while the Check waits, not after it ran."""
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        first, second = (context.new_page() for context in contexts)
        first.set_default_timeout(60_000)
        second.set_default_timeout(60_000)
        first.goto(f"{one_slot_url}/training?preset=fast")
        second.goto(f"{one_slot_url}/q_network")
        wait_for_app(first)
        wait_for_app(second)
        first.get_by_role("button", name="Train", exact=True).click()
        first.wait_for_timeout(1500)  # the training has the only slot now
        second.get_by_role("button", name="Check my code").click()
        second.get_by_text("You are number 1 in the queue", exact=False).first.wait_for(timeout=30_000)
        screenshot(second, "check_queued")
        cancel = second.get_by_role("button", name="Cancel")
        cancel.first.click()
        pressed = second.evaluate("() => performance.now()")
        second.get_by_text("Check cancelled", exact=False).first.wait_for(timeout=5_000)
        waited = (second.evaluate("() => performance.now()") - pressed) / 1000
        # The Check itself ends within a quarter second (tests/test_cancel.py); the page says so after one rerun.
        assert waited < 3.0, f"the page said so after {waited:.1f} s"
        assert "in the queue" not in second.locator("body").inner_text()
        assert not first.get_by_text("Greedy return, 20 episodes").count(), "the training still runs"
        assert_no_errors(second, "after Cancel of a queued Check")
        first.get_by_role("button", name="Stop").first.click()
        wait_for_app(first, timeout=120)
    finally:
        for context in contexts:
            context.close()
