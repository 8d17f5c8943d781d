"""User-interface pieces the pages share: Check panels, source views, task progress.

Pages stay thin: they lay out widgets and call these helpers, the exercise
modules' reference solutions, and :mod:`playground`. Everything here that
touches learner code does so through :mod:`playground.sandbox.runner` (a child process).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from playground.checks import EXERCISE_TITLES, CheckResult, checks_for
from playground.core.facts import IMPL_LABELS, IMPLS, PROJECT_ROOT, Impl, require_impl
from playground.sandbox.admission import SLOTS_ENV, admission
from playground.sandbox.runner import TaskOutcome, run_checks, set_owner_resolver, start_task, warm_up
from playground.tasks.snapshot import TrainedNetwork
from playground.ui.session import CHECKS_KEY, TRAINED_KEY


def _session_owner() -> str | None:
    """The browser session a job started now belongs to (one running job per session)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return None if ctx is None else str(ctx.session_id)


def _slots_from_secrets() -> None:
    """``PLAYGROUND_MAX_JOBS`` from the app's Streamlit secrets (the environment variable wins)."""
    if os.environ.get(SLOTS_ENV, "").strip():
        return
    try:
        value = st.secrets.get(SLOTS_ENV, "") if st.runtime.exists() else ""
    except Exception:  # noqa: BLE001 - no secrets file is the normal case
        return
    with contextlib.suppress(ValueError):
        if value:
            admission().set_slots(int(str(value)))


# Jobs belong to the session that starts them; the first page that shows a Check or Run button
# starts the warm fork server (in the background), so the first learner to press one does not wait
# for torch to import.
set_owner_resolver(_session_owner)
_slots_from_secrets()
warm_up()


def escape_markdown(text: str) -> str:
    """``text`` shown literally by ``st.markdown``, except `code spans`, which stay code.

    Without this, ``__init__`` in a check message would render as a bold "init".
    """
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(part if part.startswith("`") else re.sub(r"([\\*_\[\]<>$~|])", r"\\\1", part) for part in parts)


def source_path(impl: Impl, exercise: str) -> Path:
    return PROJECT_ROOT / impl / f"{exercise}.py"


def read_source(impl: Impl, exercise: str) -> str:
    """The text of ``<impl>/<exercise>.py`` (read as text, never imported)."""
    try:
        return source_path(impl, exercise).read_text(encoding="utf-8")
    except OSError as err:
        return f"# could not read {impl}/{exercise}.py: {err}"


def show_source(exercise: str, impl: Impl = "solutions", label: str | None = None) -> None:
    """An expander with the full source of a module; the reference opens only as the editor allows."""
    if impl == "solutions":
        from playground.ui.editor import solution_panel

        solution_panel(exercise)
        return
    with st.expander(label or f"Show the reference source ({impl}/{exercise}.py)"):
        st.code(read_source(impl, exercise), language="python", line_numbers=True)


def impl_picker(label: str, key: str, default: Impl = "solutions", horizontal: bool = True) -> Impl:
    """A radio choosing between the learner's code and the reference."""
    choice = st.radio(
        label, IMPLS, index=IMPLS.index(default), key=key, horizontal=horizontal, format_func=IMPL_LABELS.__getitem__
    )
    return require_impl(choice)


def stored_checks(exercise: str, impl: Impl = "exercises") -> list[CheckResult] | None:
    results: dict[tuple[str, str], list[CheckResult]] = st.session_state.get(CHECKS_KEY, {})
    return results.get((exercise, impl))


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
    st.session_state.setdefault(CHECKS_KEY, {})[(exercise, impl)] = results
    return results


def queue_message(position: int) -> str:
    """What a learner reads while their job waits for a free slot."""
    return (
        f"You are number {position} in the queue: the server runs a few learners' code at a time, "
        "and yours starts as soon as a place is free."
    )


class QueueNotice:
    """While a job waits for a slot: its place in the queue and a Cancel button, in a placeholder."""

    def __init__(self, box: Any, status: Any, label: str, key: str) -> None:
        self.box = box
        self.status = status
        self.label = label
        self.key = key
        self.shown: int | None = None

    def show(self, position: int) -> None:
        if position == self.shown:
            # Sending an update is what lets a click on Cancel (a rerun) interrupt this run.
            self.status.update(label=f"{self.label} (number {position} in the queue)", expanded=True)
            return
        self.shown = position
        with self.box.container():
            st.info(queue_message(position), icon=":material/hourglass_top:")
            st.button("Cancel", key=f"{self.key}_{time.monotonic_ns()}", help="Leave the queue")
        self.status.update(label=f"{self.label} (number {position} in the queue)", expanded=True)

    def clear(self) -> None:
        if self.shown is not None:
            self.shown = None
            self.box.empty()
            self.status.update(label=self.label)


def show_check_results(results: list[CheckResult]) -> None:
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


def check_panel(exercise: str) -> None:
    """The reference's side of Check (your code is checked from the editor at the top of the page)."""
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


def exercise_header(exercise: str, task_markdown: str) -> None:
    """Title, task text and the editor holding the learner's code (:mod:`playground.ui.editor`)."""
    from playground.ui.editor import editor_panel

    st.title(EXERCISE_TITLES[exercise])
    st.markdown(task_markdown)
    editor_panel(exercise)


def run_task_live(
    target: str,
    *,
    label: str,
    timeout: float = 600.0,
    on_progress: Callable[[Any], None] | None = None,
    on_finish: Callable[[TaskOutcome], None] | None = None,
    **kwargs: Any,
) -> TaskOutcome:
    """Run a sandbox task with a status box and a progress bar.

    ``on_progress`` sees every progress message (a page draws its live chart
    there). Pressing any button while the task runs makes Streamlit rerun the
    script; we catch that, ask the task to stop, and still hand what it
    finished to ``on_finish`` (which should put it in session state) before the
    rerun goes on. That is how the Stop button works.
    """
    from playground.ui.editor import session_sources

    handle = start_task(target, timeout=timeout, sources=session_sources(), **kwargs)
    outcome: TaskOutcome | None = None
    with st.status(label, expanded=True) as status:
        queue_box = st.empty()
        queued = QueueNotice(queue_box, status, label, key=f"cancel_{target}")
        st.button(
            "Stop", key=f"stop_{target}_{time.monotonic_ns()}", help="Stop early and keep what was learned so far"
        )
        # Keep a reference to the generator: if the rerun exception dropped it, closing it would
        # kill the child before it could send what it finished.
        messages = handle.progress()
        try:
            for message in messages:
                position = handle.queue_position()
                if position is not None:
                    queued.show(position)
                    continue
                queued.clear()
                if message is not None and on_progress is not None:
                    on_progress(message)
        except BaseException:
            handle.stop(grace=10.0)
            for _ in messages:  # the same generator, to the end: the child now stops and answers
                pass
            outcome = handle.wait()
            if on_finish is not None:
                on_finish(outcome)
            raise
        outcome = handle.wait()
        if outcome.ok:
            status.update(
                label=f"{label}: {'stopped' if outcome.stopped else 'done'}", state="complete", expanded=False
            )
        else:
            status.update(label=f"{label}: failed", state="error", expanded=True)
            st.error(outcome.error)
            if outcome.output:
                st.code(outcome.output, language=None)
    if on_finish is not None:
        on_finish(outcome)
    return outcome


def remember_network(network: TrainedNetwork) -> None:
    """Offer a network trained on one page to the other pages (newest first)."""
    store: dict[str, TrainedNetwork] = st.session_state.setdefault(TRAINED_KEY, {})
    store.pop(network.label, None)
    st.session_state[TRAINED_KEY] = {network.label: network, **store}


def trained_networks() -> dict[str, TrainedNetwork]:
    """Label -> network trained in this session, newest first."""
    store: dict[str, TrainedNetwork] = st.session_state.get(TRAINED_KEY, {})
    return store
