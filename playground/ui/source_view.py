"""The source of a module, read as text and never imported: the reference solution, as far as it may open.

The reference solution of an exercise opens once all the learner's checks
pass, or earlier after an explicit request and a confirmation.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from playground.core.facts import PROJECT_ROOT, Impl
from playground.ui.code_store import all_passed, store, stored_checks
from playground.ui.session import CONFIRM_KEY, SOLUTION_KEY


def source_path(impl: Impl, exercise: str) -> Path:
    return PROJECT_ROOT / impl / f"{exercise}.py"


def read_source(impl: Impl, exercise: str) -> str:
    """The text of ``<impl>/<exercise>.py`` (read as text, never imported)."""
    try:
        return source_path(impl, exercise).read_text(encoding="utf-8")
    except OSError as err:
        return f"# could not read {impl}/{exercise}.py: {err}"


def show_source(exercise: str, impl: Impl = "solutions", label: str | None = None) -> None:
    """An expander with the full source of a module; the reference opens only as :func:`solution_panel` allows."""
    if impl == "solutions":
        solution_panel(exercise)
        return
    with st.expander(label or f"Show the reference source ({impl}/{exercise}.py)"):
        st.code(read_source(impl, exercise), language="python", line_numbers=True)


def solution_panel(exercise: str) -> None:
    """The reference solution: open once all checks of the learner's code pass, or after a confirmation."""
    passed = all_passed(stored_checks(exercise))
    unlocked = store(SOLUTION_KEY)
    if passed or unlocked.get(exercise):
        with st.expander(f"Reference solution (solutions/{exercise}.py)", expanded=False):
            if passed:
                st.caption("All your checks pass: compare your code with the reference.")
            st.code(read_source("solutions", exercise), language="python", line_numbers=True)
        return
    confirming = store(CONFIRM_KEY)
    if not confirming.get(exercise):
        if st.button("Show me the solution", key=f"solution_ask_{exercise}", icon=":material/visibility:"):
            confirming[exercise] = True
            st.rerun()
        st.caption("The reference solution opens by itself once all your checks pass.")
        return
    st.warning(
        "Seeing the solution before your checks pass takes away the part where you find the bug yourself. "
        "A hint may be enough. Show the solution anyway?"
    )
    yes, no = st.columns(2)
    if yes.button("Yes, show the solution", key=f"solution_yes_{exercise}", type="primary"):
        unlocked[exercise] = True
        confirming[exercise] = False
        st.rerun()
    if no.button("No, keep trying", key=f"solution_no_{exercise}"):
        confirming[exercise] = False
        st.rerun()
