"""Helpers for the AppTest runs of the pages: open a page through the router, click a button."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

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
