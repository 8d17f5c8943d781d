"""The one shape of every exercise page, and the run that puts the learner's code beside the reference.

Every exercise page (``pages/1`` to ``pages/5``) is, top to bottom:

1. **the task**: the title, what to write and the math it implements, and the
   editor holding the learner's file with its *Check my code* button;
2. **the demo**: settings, then the learner's code and the reference run on the
   same inputs and shown side by side (on the pages whose demo is a long run,
   the demo comes first, right under the title, and the task after it);
3. **Check**: the reference's checks, to see what passing looks like;
4. **the source** of the reference (as far as the editor lets it open).

A page file only lays out its demo and calls :func:`exercise_page`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from playground.checks import EXERCISE_TITLES
from playground.core.facts import Impl
from playground.sandbox.runner import TaskOutcome
from playground.ui.check_panel import check_panel
from playground.ui.editor import editor_panel
from playground.ui.job_panel import run_task_live
from playground.ui.source_view import show_source


def exercise_header(exercise: str, task_markdown: str) -> None:
    """Title, task text and the editor holding the learner's code (:mod:`playground.ui.editor`)."""
    st.title(EXERCISE_TITLES[exercise])
    st.markdown(task_markdown)
    editor_panel(exercise)


def exercise_page(
    exercise: str,
    task: str,
    demo: Callable[[], None],
    *,
    background: tuple[str, str] | None = None,
    run_first: str | None = None,
) -> None:
    """Lay out an exercise page in the order above; ``background`` is an optional (title, markdown) expander.

    ``run_first`` (a one-paragraph lead) puts the demo right under the title, before the task: for the
    pages whose demo is a run (training, the size experiment), so its controls sit near the top.
    """
    if run_first is None:
        exercise_header(exercise, task)
    else:
        st.title(EXERCISE_TITLES[exercise])
        st.markdown(run_first)
        demo()
        st.divider()
        st.header("Your task")
        st.markdown(task)
        editor_panel(exercise)
    if background is not None:
        with st.expander(background[0], expanded=False):
            st.markdown(background[1])
    if run_first is None:
        demo()
    st.divider()
    check_panel(exercise)
    show_source(exercise)


def run_beside_reference(
    results_key: str,
    impl: Impl,
    reference: Callable[[], object],
    target: str,
    *,
    result_type: type,
    label: str,
    timeout: float,
    **kwargs: Any,
) -> None:
    """Run the reference here and, unless ``impl`` is the reference, the learner's ``target`` in the sandbox.

    ``st.session_state[results_key]`` maps "solutions" and "exercises" to a result
    of ``result_type`` or to the sentence that says why there is none. Running
    the reference alone forgets the learner's last result, so the page never
    shows a stale one beside a fresh reference.
    """
    results: dict[str, object] = st.session_state.setdefault(results_key, {})
    try:
        results["solutions"] = reference()
    except Exception as err:  # noqa: BLE001 - show any failure instead of breaking the page
        results["solutions"] = f"the reference failed: {err}"
    if impl == "solutions":
        results.pop("exercises", None)
        return

    def on_finish(outcome: TaskOutcome) -> None:
        value = outcome.value
        mine = value if outcome.ok and isinstance(value, result_type) else (outcome.error or "no result")
        st.session_state.setdefault(results_key, {})["exercises"] = mine

    run_task_live(target, label=label, timeout=timeout, on_finish=on_finish, impl="exercises", **kwargs)
