"""Check: run an exercise's checks in the sandbox with live status, and show the results.

The learner's code is checked from the editor (:mod:`playground.ui.editor`);
the reference's Check, further down every exercise page, is :func:`check_panel`.
"""

from __future__ import annotations

import streamlit as st

from playground.checks import CheckResult, checks_for
from playground.checks.feedback import group_results, summary
from playground.core.facts import Impl
from playground.sandbox.runner import run_checks
from playground.ui.code_store import store_checks, stored_checks
from playground.ui.job_panel import QueueNotice
from playground.ui.widgets import escape_markdown


def run_and_store_checks(
    exercise: str, impl: Impl = "exercises", *, sources: dict[str, str] | None = None
) -> list[CheckResult]:
    """Run the checks in the sandbox with live status; keep the results in session state.

    ``sources`` (module name -> code, the editors' code) replaces ``exercises.<module>`` in the sandbox.
    """
    total = len(checks_for(exercise))
    what = f"your {exercise}.py" if impl == "exercises" else f"{impl}/{exercise}.py"
    label = f"Checking {what} ..."
    with st.status(label, expanded=True) as status:
        queue_box = st.empty()
        progress = st.progress(0.0)
        done: list[CheckResult] = []
        queued = QueueNotice(queue_box, status, label, key=f"cancel_check_{exercise}_{impl}")

        def on_result(result: CheckResult) -> None:
            queued.clear()
            done.append(result)
            progress.progress(len(done) / max(total, 1), text=f"{len(done)} of {total}: {result.check}")

        results = run_checks(exercise, impl, on_result=on_result, on_queue=queued.show, sources=sources)
        queued.clear()
        passed = sum(r.passed for r in results)
        status.update(
            label=f"{passed} of {len(results)} checks passed",
            state="complete" if passed == len(results) else "error",
            expanded=False,
        )
    store_checks(exercise, impl, results)
    return results


def show_check_results(results: list[CheckResult]) -> None:
    """Every check on its own line (the reference's results)."""
    passed = sum(r.passed for r in results)
    if passed == len(results):
        st.success(f"All {len(results)} checks passed.")
    else:
        st.error(
            f"{passed} of {len(results)} checks passed. Fix the first failure first: later ones often follow from it."
        )
    for result in results:
        icon = ":material/check_circle:" if result.passed else ":material/cancel:"
        first, _, rest = result.message.partition("\n")
        st.markdown(f"{icon} **{result.check}** — {escape_markdown(first)}")
        if rest:
            st.code(rest, language=None)


def show_grouped_results(results: list[CheckResult]) -> None:
    """Check results with identical failures grouped: a learner reads each message once."""
    passed = sum(r.passed for r in results)
    if passed == len(results):
        st.success(f"All {len(results)} checks passed.")
    else:
        st.error(f"{summary(results)}. Fix the first failure first: later ones often follow from it.")
    for line in group_results(results):
        icon = ":material/check_circle:" if line.passed else ":material/cancel:"
        first, _, rest = line.message.partition("\n")
        st.markdown(f"{icon} **{escape_markdown(line.title)}** — {escape_markdown(first)}")
        if len(line.checks) > 1:
            st.caption("; ".join(line.checks))
        if rest:
            st.code(rest, language=None)


@st.fragment
def check_panel(exercise: str) -> None:
    """The reference's side of Check (your code is checked from the editor at the top of the page).

    A fragment, like the editor: a click reruns this panel only.
    """
    st.subheader("Check the reference")
    st.caption(
        "The same checks on the reference solution: every check passes there. Your code is checked with "
        f"**Check my code** under the editor, or `python -m playground.check {exercise}` in a terminal."
    )
    if st.button("Check the reference", key=f"check_ref_{exercise}"):
        run_and_store_checks(exercise, "solutions")
    results = stored_checks(exercise, "solutions")
    if results is not None:
        st.markdown(f"**Reference** (`solutions/{exercise}.py`)")
        show_check_results(results)
