"""User-interface pieces the pages share: Check panels, source views, task progress.

Pages stay thin: they lay out widgets and call these helpers, the exercise
modules' reference solutions, and :mod:`playground`. Everything here that
touches learner code does so through :mod:`playground.sandbox.executor` (a sandbox child, here or on a cluster).
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import streamlit as st

from playground.checks import EXERCISE_TITLES, CheckResult, checks_for
from playground.core.facts import IMPL_LABELS, IMPLS, PROJECT_ROOT, Impl, require_impl
from playground.sandbox.admission import SLOTS_ENV, admission
from playground.sandbox.executor import RAY_ADDRESS_ENV, SHORT, configure, run_checks, warm_up
from playground.sandbox.runner import TaskOutcome, set_owner_resolver
from playground.tasks.snapshot import TrainedNetwork
from playground.ui import live_jobs
from playground.ui.live_jobs import LiveJob
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


def _cluster_from_secrets() -> None:
    """``PLAYGROUND_RAY_ADDRESS`` from the Streamlit secrets: jobs run on that Ray cluster (the environment wins)."""
    try:
        value = st.secrets.get(RAY_ADDRESS_ENV, "") if st.runtime.exists() else ""
    except Exception:  # noqa: BLE001 - no secrets file is the normal case
        return
    if value:
        configure(str(value))


# Jobs belong to the session that starts them; the first page that shows a Check or Run button
# starts the warm fork server (in the background), so the first learner to press one does not wait
# for torch to import.
set_owner_resolver(_session_owner)
_slots_from_secrets()
_cluster_from_secrets()
warm_up()


KEPT_KEY = "kept_widget_values"  # widget key -> last value, kept while the learner is on other pages


def restore_widgets(keys: Iterable[str]) -> None:
    """Put back widget values Streamlit dropped while the learner was on another page.

    Streamlit forgets the state of every widget that a run did not draw, so a
    page's fields would fall back to their defaults after a visit elsewhere.
    Call this before drawing the widgets, and :func:`remember_widgets` after.
    Widgets restored this way must not also get a ``value=`` default.
    """
    kept: dict[str, Any] = st.session_state.setdefault(KEPT_KEY, {})
    for key in keys:
        if key not in st.session_state and key in kept:
            st.session_state[key] = kept[key]


def remember_widgets(keys: Iterable[str]) -> None:
    """Keep the current values of widgets in a key Streamlit does not drop (see :func:`restore_widgets`)."""
    kept: dict[str, Any] = st.session_state.setdefault(KEPT_KEY, {})
    for key in keys:
        if key in st.session_state:
            kept[key] = st.session_state[key]


def keep_widgets(keys: Iterable[str]) -> None:
    """Both halves at the top of a page: keep the widgets' current values, put back the dropped ones.

    At the start of a run, session state already holds the values of the
    widgets the previous run drew, so remembering them here loses nothing.
    """
    keys = tuple(keys)
    remember_widgets(keys)
    restore_widgets(keys)


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


CANCELLED_IN_QUEUE = "cancelled while waiting in the queue: nothing ran"


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


def exercise_header(exercise: str, task_markdown: str) -> None:
    """Title, task text and the editor holding the learner's code (:mod:`playground.ui.editor`)."""
    from playground.ui.editor import editor_panel

    st.title(EXERCISE_TITLES[exercise])
    st.markdown(task_markdown)
    editor_panel(exercise)


TASK_SLOT_PREFIX = "task:"


def run_task_live(
    target: str,
    *,
    label: str,
    timeout: float = 600.0,
    on_progress: Callable[[Any], None] | None = None,
    on_finish: Callable[[TaskOutcome], None] | None = None,
    **kwargs: Any,
) -> TaskOutcome | None:
    """Run a short sandbox task with a status box and a Stop button, while this script run waits.

    ``on_progress`` sees every progress message (in this script run);
    ``on_finish`` gets the outcome and should put it in session state. The task
    runs as a :mod:`playground.ui.live_jobs` job, so when this script run is
    stopped (a click, the page's or the toolbar's Stop, another page, Cloud's
    fast reruns) the task is asked to stop, keeps what it finished, and
    :func:`finish_pending_tasks` (called on every run by the app's entry point)
    hands the outcome to ``on_finish`` in a later run. Returns the outcome, or
    None when the task is still finishing.
    """
    slot = TASK_SLOT_PREFIX + target
    step = live_jobs.Step(target, label, dict(kwargs), timeout, SHORT)
    job = live_jobs.start(slot, label, [step], {"on_finish": on_finish})
    outcome: TaskOutcome | None = None
    with st.status(label, expanded=True) as status:
        queued = QueueNotice(st.empty(), status, label, key=f"cancel_{slot}_{job.id}")
        st.button("Stop", key=f"stop_{slot}_{job.id}", help="Stop early and keep what was learned so far")
        seen = 0
        try:
            while not job.done:
                position = job.queue_position()
                if position is not None:
                    queued.show(position)
                else:
                    queued.clear()
                messages = job.step_messages(0)
                for message in messages[seen:]:
                    if on_progress is not None:
                        on_progress(message)
                seen = len(messages)
                time.sleep(0.1)
            for message in job.step_messages(0)[seen:]:
                if on_progress is not None:
                    on_progress(message)
        except BaseException:
            job.stop("stopped when you clicked elsewhere")
            raise
        outcome = job.outcomes[0] if job.outcomes else TaskOutcome(error="the task ended without an outcome")
        if outcome.ok:
            status.update(
                label=f"{label}: {'stopped' if outcome.stopped else 'done'}", state="complete", expanded=False
            )
        else:
            status.update(label=f"{label}: failed (see below)", state="error", expanded=False)
    live_jobs.collect(slot, _finish_task)
    return outcome


def _finish_task(job: LiveJob) -> None:
    on_finish = job.meta.get("on_finish")
    if callable(on_finish) and job.outcomes:
        on_finish(job.outcomes[0])


def finish_pending_tasks() -> None:
    """Hand every finished short task of this session to its ``on_finish`` (see :func:`run_task_live`).

    While one is still finishing (stopped by a click), a small poller reruns the
    app once it is done, so its kept results show without another click.
    """
    running = False
    for job in live_jobs.session_jobs():
        if not job.slot.startswith(TASK_SLOT_PREFIX):
            continue
        if job.done:
            live_jobs.collect(job.slot, _finish_task)
        else:
            running = True
    if running:
        _rerun_when_tasks_finish()


def running_jobs_note() -> None:
    """In the sidebar, on every page: the long runs of this session that go on, or wait on their page."""
    for job in live_jobs.session_jobs():
        if job.slot.startswith(TASK_SLOT_PREFIX):
            continue
        if job.done:
            st.sidebar.caption(f":material/task_alt: {job.title}: finished; the results are on its page.")
        elif job.stop_reason:
            st.sidebar.caption(f":material/hourglass_top: {job.title}: {job.stop_reason}, finishing ...")
        else:
            st.sidebar.caption(
                f":material/autorenew: {job.title}: running for {job.elapsed:.0f} s; it goes on while you look "
                "at other pages."
            )


@st.fragment(run_every=0.5)
def _rerun_when_tasks_finish() -> None:
    jobs = [job for job in live_jobs.session_jobs() if job.slot.startswith(TASK_SLOT_PREFIX)]
    if all(job.done for job in jobs):
        st.rerun()


LIVE_POLL_SECONDS = 0.5  # how often a running job's panel redraws
LIVE_LOOP_SECONDS = 30.0  # one fragment run polls this long, then the next one takes over


def live_job_panel(job: LiveJob, draw: Callable[[LiveJob], None], *, scroll: bool = False) -> None:
    """A running job's live view: its title, a Stop button and ``draw(job)`` (progress, a chart).

    The drawing is a fragment that redraws every :data:`LIVE_POLL_SECONDS` from
    what the job's own thread collected, so nothing is lost when Streamlit
    stops a script run: a click, a page change, Cloud's fast reruns. When the
    job is done it reruns the whole page, whose next run collects the result.
    Stop is outside the fragment (a click there reruns the page at once, where a
    fragment's own rerun would wait for the drawing loop). The toolbar's Stop
    also stops the job and keeps what it learned. ``scroll`` brings the view
    into sight (right after Train).
    """
    anchor = f"live-{job.slot}"
    runs_before = live_jobs.script_runs(job.session_id)
    with st.container(border=True, key=anchor):
        queued = job.queue_position() is not None
        if job.stop_reason:
            st.markdown(f"**{job.title}**")
        elif queued:
            if st.button("Cancel", key=f"live_cancel_{job.slot}_{job.id}", help="Leave the queue"):
                job.stop(CANCELLED_IN_QUEUE)
        elif st.button(
            "Stop",
            key=f"live_stop_{job.slot}_{job.id}",
            icon=":material/stop_circle:",
            help="Stop early and keep what was learned so far (it is evaluated and shown below)",
        ):
            job.stop("stopped by you")

        @st.fragment(run_every=1.0)
        def panel() -> None:
            from streamlit.runtime.scriptrunner_utils.exceptions import StopException

            try:
                _live_body(job, draw)
            except StopException:  # the toolbar's Stop, a closed tab, or a click (fast reruns)
                job.script_stopped("stopped with the toolbar's Stop", runs_before)
                raise

        panel()
    if scroll:
        scroll_into_view(anchor)


def _live_body(job: LiveJob, draw: Callable[[LiveJob], None]) -> None:
    if job.done:
        st.rerun()
    head = st.empty()
    body = st.empty()
    until = time.monotonic() + LIVE_LOOP_SECONDS
    while True:
        head.caption(_job_state(job))
        with body.container():
            draw(job)
        if job.done:
            st.rerun()
        if time.monotonic() >= until:
            return
        time.sleep(LIVE_POLL_SECONDS)


def _job_state(job: LiveJob) -> str:
    position = job.queue_position()
    if position:
        return queue_message(position)
    if job.stop_reason:
        return f":orange[{job.stop_reason}: finishing the episode, then evaluating and recording what was learned ...]"
    return f"{job.title} · running for {job.elapsed:.0f} s"


def scroll_into_view(key: str) -> None:
    """Scroll the page so the container with ``key`` is in sight (once, right after it appears)."""
    st.html(
        "<script>(function(){let n=0;const t=setInterval(()=>{const e=document.querySelector('.st-key-"
        + key
        + "');if(e){e.scrollIntoView({block:'start',behavior:'smooth'});clearInterval(t);}"
        "if(++n>40){clearInterval(t);}},100);})();</script>",
        unsafe_allow_javascript=True,
    )


def remember_network(network: TrainedNetwork) -> None:
    """Offer a network trained on one page to the other pages (newest first)."""
    store: dict[str, TrainedNetwork] = st.session_state.setdefault(TRAINED_KEY, {})
    store.pop(network.label, None)
    st.session_state[TRAINED_KEY] = {network.label: network, **store}


def trained_networks() -> dict[str, TrainedNetwork]:
    """Label -> network trained in this session, newest first."""
    store: dict[str, TrainedNetwork] = st.session_state.get(TRAINED_KEY, {})
    return store
