"""No orphans: when the CLI or the server dies (``kill -9``, ``kill -TERM``), every sandbox process dies within 2 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psutil  # type: ignore[import-untyped]
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
LOOPING_Q_NETWORK = """
class CustomQNetwork:
    def __init__(self, state_dim, action_dim, hidden_dims):
        while True:
            pass
"""


def alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def wait_for_busy_sandbox(root_pid: int, timeout: float = 90.0) -> list[int]:
    """Pids of all descendants of ``root_pid`` once one of them (the sandbox child) burns CPU."""
    deadline = time.monotonic() + timeout
    root = psutil.Process(root_pid)
    while time.monotonic() < deadline:
        descendants = root.children(recursive=True)
        for proc in descendants:
            try:
                # The fork server's child: a grandchild of the root, spinning.
                if proc.ppid() != root_pid and sum(proc.cpu_times()[:2]) > 0.5:
                    return [p.pid for p in root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.2)
    raise AssertionError("no busy sandbox child appeared")


def assert_all_gone(pids: list[int], within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        left = [pid for pid in pids if alive(pid)]
        if not left:
            return
        time.sleep(0.05)
    left = [pid for pid in pids if alive(pid)]
    details = []
    for pid in left:
        try:
            proc = psutil.Process(pid)
            details.append(f"{pid} ppid={proc.ppid()} {' '.join(proc.cmdline())}")
        except psutil.NoSuchProcess:
            continue
    assert not details, f"left behind after {within:g} s: {details}"


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killing_the_cli_kills_its_sandbox_children(tmp_path: Path, signum: int) -> None:
    source = tmp_path / "q_network.py"
    source.write_text(textwrap.dedent(LOOPING_Q_NETWORK), encoding="utf-8")
    cli = subprocess.Popen(
        [sys.executable, "-m", "playground.check", "q_network", "--source", f"q_network={source}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pids = wait_for_busy_sandbox(cli.pid)
        assert len(pids) >= 2, "a fork server and its child"
        os.kill(cli.pid, signum)
        cli.wait(timeout=10)
        assert_all_gone(pids)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()


@pytest.mark.browser
def test_killing_the_server_kills_its_sandbox_children(browser: Browser, tmp_path: Path) -> None:
    """``kill -9`` of ``streamlit run`` while a session trains: the fork server and the training die too."""
    from browser_support import free_port, start_server, wait_for_app, wait_healthy

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    server = start_server(port, log)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        wait_healthy(url, server, log)
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        tab.goto(f"{url}/training?preset=fast")
        wait_for_app(tab)
        tab.get_by_role("button", name="Train", exact=True).click()
        pids = wait_for_busy_sandbox(server.pid)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        assert_all_gone(pids)
    finally:
        context.close()
        if server.poll() is None:
            server.kill()
            server.wait()
