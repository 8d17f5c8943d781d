"""Helpers for the AppTest runs of the pages: open a page through the router, click a button."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from playground.ui import live_jobs
from playground.ui.session import CHECK_JOBS_KEY

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def open_page(page: str, timeout: float = 180) -> AppTest:
    """Run the entry point, then switch to ``page`` (as the router does); no exception on the way."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def click(at: AppTest, label: str) -> None:
    """Click the one button labelled ``label`` and rerun; no exception on the way."""
    [button] = [b for b in at.button if b.label == label]
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    settle_checks(at)
    settle_runs(at)


def settle_runs(at: AppTest, timeout: float = 600) -> None:
    """Wait for the long runs a click started (training, the experiment, the comparison), then rerun once.

    In a browser the run's live panel polls it and reruns the page when it ends; AppTest does not run
    polling fragments, so the test waits here instead.
    """
    jobs = live_jobs.running_jobs()
    if not jobs:
        return
    deadline = time.monotonic() + timeout
    for job in jobs:
        assert job.wait(max(0.0, deadline - time.monotonic())), f"the run {job.title} did not finish"
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def settle_checks(at: AppTest, timeout: float = 180) -> None:
    """Wait for the Checks a click started (they run on a thread), then rerun once, as the page's poller does."""
    jobs = at.session_state[CHECK_JOBS_KEY] if CHECK_JOBS_KEY in at.session_state else {}  # noqa: SIM401
    pending = [job for job in jobs.values() if not job.collected]
    if not pending:
        return
    deadline = time.monotonic() + timeout
    for job in pending:
        assert job.wait(max(0.0, deadline - time.monotonic())), f"the Check {job.name} did not finish"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
