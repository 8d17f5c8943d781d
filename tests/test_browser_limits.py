"""A real browser sees a sandbox limit in the learner's words, and the server keeps serving.

The server runs from a copy of the project whose ``exercises/q_network.py`` is
a memory bomb (the real ``exercises/`` is never touched); the page's "Check my
code" must show the memory limit as a failed check, and the page must still
work afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from browser_support import ROOT, assert_no_errors, free_port, screenshot, stop_server, wait_for_app, wait_healthy

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

MEMORY_BOMB = """
from collections.abc import Sequence

from torch import Tensor, nn


class CustomQNetwork(nn.Module):
    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        self.hoard = [bytearray(50 * 1024 * 1024) for _ in range(1000)]

    def forward(self, x: Tensor) -> Tensor:
        return x
"""


@pytest.fixture(scope="module")
def bomb_app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    copy = tmp_path_factory.mktemp("app") / "playground_app"
    ignore = shutil.ignore_patterns(".git", ".venv", "artifacts", "__pycache__", ".mypy_cache", ".ruff_cache")
    shutil.copytree(ROOT, copy, ignore=ignore)
    (copy / "exercises" / "q_network.py").write_text(MEMORY_BOMB, encoding="utf-8")
    port = free_port()
    log = copy / "server.log"
    env = dict(
        os.environ,
        SDL_VIDEODRIVER="dummy",
        MPLBACKEND="Agg",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
        PLAYGROUND_JOB_MEMORY_MB="300",
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true"),
                *("--server.port", str(port), "--server.address", "127.0.0.1"),
            ],
            cwd=copy,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log)
        yield url
    finally:
        stop_server(process)


def test_a_memory_bomb_is_a_failed_check_in_the_learners_words(browser: Browser, bomb_app_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        tab.goto(f"{bomb_app_url}/q_network")
        wait_for_app(tab)
        tab.get_by_role("button", name="Check my code").click()
        tab.get_by_text("your code tried to allocate more than 300 MB of memory", exact=False).first.wait_for(
            timeout=120_000
        )
        wait_for_app(tab, timeout=120)
        assert_no_errors(tab, "Q-network page after a memory bomb")
        screenshot(tab, "check_memory_limit")
        # The server keeps serving: the reference still checks fine right after.
        tab.get_by_role("button", name="Check the reference").click()
        wait_for_app(tab, timeout=180)
        assert "checks passed" in tab.locator("body").inner_text()
        assert_no_errors(tab, "Q-network page after checking the reference")
    finally:
        context.close()
