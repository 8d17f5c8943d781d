"""The router draws its navigation before any widget (AppTest).

The browser learns which page a run is about from the navigation message. A widget that reruns the app
before that message (the browser-storage reader does so on the first run of every visit) sends a rerun
without the page, and Streamlit then runs the default page: on a loaded machine 5 of 30 reloads of
/q_network landed on the lesson, and a learner's reload lost their place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import streamlit as st
from apptest_support import APP
from streamlit.testing.v1 import AppTest

from playground.ui import persistence

CLASS = {"class": {"code": "dqn-2026"}}


def record_order(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Patch the navigation and the browser-storage component to note, in order, each call of either."""
    order: list[str] = []
    real_navigation = st.navigation
    real_component = persistence._component

    def navigation(*args: Any, **kwargs: Any) -> Any:
        order.append("navigation")
        return real_navigation(*args, **kwargs)

    def component() -> Callable[..., Any]:
        mount = real_component()

        def recorded(*args: Any, **kwargs: Any) -> Any:
            order.append(str(kwargs.get("key")))
            return mount(*args, **kwargs)

        return recorded

    monkeypatch.setattr(st, "navigation", navigation)
    monkeypatch.setattr(persistence, "_component", component)
    return order


@pytest.mark.parametrize("secrets", [{}, CLASS], ids=["anonymous", "class code"])
def test_no_browser_storage_widget_comes_before_the_navigation(
    monkeypatch: pytest.MonkeyPatch, secrets: dict[str, Any]
) -> None:
    order = record_order(monkeypatch)
    at = AppTest.from_file(APP, default_timeout=180)
    at.secrets.update(secrets)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    readers = [key for key in order if key in {"pg_store_read", "pg_store_class"}]
    assert readers, f"the first run of a visit reads the browser's storage: {order}"
    assert order[0] == "navigation", f"a widget came before the navigation: {order}"
