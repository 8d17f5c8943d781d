"""Helpers for the real-browser tests: a ``streamlit run`` server and Debian's Chromium.

The fixtures that use these live in ``conftest.py`` (``app_url``, ``browser``,
``page``), so any test file marked ``browser`` can drive the running app:

    @pytest.mark.browser
    def test_training_page(page: Page, app_url: str) -> None:
        open_page(page, "3. Training")
        page.get_by_role("button", name="Train").click()
        wait_for_app(page)
        assert_no_errors(page)

Playwright's own browser download is never used (no ``playwright install``):
the tests launch ``/usr/bin/chromium``, which CI installs with apt.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = ROOT / "artifacts" / "screenshots"
SERVER_START_SECONDS = 90.0
APP_RUN_SECONDS = 120.0
# Text that only shows up when a page broke (Streamlit's error boxes show these).
ERROR_TEXTS = (
    "Traceback (most recent call last)",
    "StreamlitAPIException",
    "ModuleNotFoundError",
    "Page not found",
    "This app has encountered an error",
)
# The settings Streamlit Community Cloud forces over .streamlit/config.toml: the browser tests run with them.
CLOUD_SETTINGS: tuple[str, ...] = (
    "--runner.fastReruns",
    "true",
    "--client.showErrorDetails",
    "false",
    "--server.runOnSave",
    "true",
    "--server.enableXsrfProtection",
    "true",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    port: int, log_path: Path, extra_args: Sequence[str] = (), launcher: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """``streamlit run streamlit_app.py`` on ``port`` in its own process group, logging to ``log_path``.

    ``extra_args``: more ``streamlit run`` options, e.g. :data:`CLOUD_SETTINGS`. ``launcher``: a command
    that runs the server (e.g. ``setpriv`` with its options), else none.
    """
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", MPLBACKEND="Agg", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    # The server measures its own speed from scratch (estimates are tested against what it measures).
    env["PLAYGROUND_SPEED_FILE"] = str(log_path.parent / "speed.json")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [
                *launcher,
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "streamlit_app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                *extra_args,
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Wait until ``/_stcore/health`` answers ok; fail with the server log if it never does."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}:\n{log_path.read_text()}")
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.25)
    raise RuntimeError(f"streamlit did not become healthy in {SERVER_START_SECONDS:g} s:\n{log_path.read_text()}")


@contextlib.contextmanager
def served_app(extra_args: Sequence[str] = ()) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A healthy ``streamlit run`` server on a free port, as (its URL, its process); stopped on exit."""
    import tempfile

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp()) / "server.log"
    server = start_server(port, log, extra_args)
    try:
        wait_healthy(url, server, log)
        yield url, server
    finally:
        stop_server(server)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and anything it started (its process group)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_app(page: Page, timeout: float = APP_RUN_SECONDS) -> None:
    """Wait until the app is connected and its script has finished running (and stays finished)."""
    app = page.locator('[data-testid="stApp"]')
    app.wait_for(state="attached", timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    idle_since: float | None = None
    while time.monotonic() < deadline:
        connected = app.get_attribute("data-test-connection-state") == "CONNECTED"
        idle = app.get_attribute("data-test-script-state") == "notRunning"
        if connected and idle:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= 0.75:  # a rerun may start right after a run ends
                return
        else:
            idle_since = None
        page.wait_for_timeout(100)
    raise AssertionError(f"the app did not finish running within {timeout:g} s")


def nav_links(page: Page) -> list[tuple[str, str]]:
    """(title, href) of every page in the sidebar navigation, in order."""
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and "more" in (more.inner_text() or "").lower():
        more.click()
    links = page.locator('[data-testid="stSidebarNavLink"]')
    links.first.wait_for(state="visible", timeout=30_000)
    found = []
    for i in range(links.count()):
        link = links.nth(i)
        # The text starts with the icon's ligature name ("school"): the title is the last line.
        lines = [line.strip() for line in link.inner_text().splitlines() if line.strip()]
        found.append((lines[-1] if lines else "", link.get_attribute("href") or ""))
    return found


def open_page(page: Page, title: str) -> None:
    """Click the navigation link whose text is ``title`` and wait for the page to finish running."""
    link = page.locator('[data-testid="stSidebarNavLink"]', has_text=title).first
    link.click()
    wait_for_app(page)


def assert_no_errors(page: Page, where: str = "") -> None:
    """No exception box, and none of the texts a broken page shows."""
    exceptions = page.locator('[data-testid="stException"]')
    if exceptions.count():
        raise AssertionError(f"exception shown on {where or page.url}:\n{exceptions.first.inner_text()}")
    body = page.locator("body").inner_text()
    for text in ERROR_TEXTS:
        assert text not in body, f"{text!r} shown on {where or page.url}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "home"


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save a screenshot under ``artifacts/screenshots/`` and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{slug(name)}.png"
    viewport = page.viewport_size
    if not full_page or viewport is None:
        page.screenshot(path=str(path))
        return path
    # Streamlit scrolls inside its main container, not the document: grow the window to fit it.
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], body')].map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": viewport["width"], "height": min(max(int(height), viewport["height"]), 16_000)})
    page.wait_for_timeout(300)
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(viewport)
    return path


def sandbox_children() -> list[int]:
    """Pids of sandbox jobs started from this checkout.

    A job is a child of this checkout's fork server (``playground.sandbox.forkserver``, started in the
    project root; the job itself works in a scratch directory), or, with the fork server off, a cold
    ``playground.sandbox.child`` process.
    """

    def cmdline_and_cwd(pid: str) -> tuple[list[bytes], str]:
        base = Path("/proc") / pid
        return (base / "cmdline").read_bytes().split(b"\0"), os.readlink(base / "cwd")

    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline, cwd = cmdline_and_cwd(proc.name)
            if b"playground.sandbox.child" in cmdline and Path(cwd) == ROOT:
                found.append(int(proc.name))
                continue
            ppid = next(
                line.split()[1] for line in (proc / "status").read_text().splitlines() if line.startswith("PPid:")
            )
            parent_cmdline, parent_cwd = cmdline_and_cwd(ppid)
        except (OSError, StopIteration):
            continue
        if b"playground.sandbox.forkserver" in parent_cmdline and Path(parent_cwd) == ROOT:
            found.append(int(proc.name))
    return found


def toolbar_stop(page: Page) -> bool:
    """Press Streamlit's own Stop (top right, shown while a script runs); False if it never showed."""
    button = page.locator('[data-testid="stStatusWidget"] button', has_text="Stop")
    for _ in range(100):
        if button.count() and button.first.is_visible():
            try:
                button.first.click(timeout=1000)
                return True
            except Exception:  # noqa: BLE001 - it may vanish between the check and the click
                pass
        page.wait_for_timeout(100)
    return False
