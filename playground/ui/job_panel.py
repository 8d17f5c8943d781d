"""A job's panel on a page: its place in the queue with Cancel, a Stop button, its live progress.

Two kinds of jobs show here. A short task (:func:`run_task_live`: building the
learner's network, tracing their buffer) is drawn while the script run that
started it waits. A long run (training, the size experiment, the comparison) is
drawn by :func:`live_job_panel`, a fragment that polls the
:mod:`playground.ui.live_jobs` job, which is not tied to any script run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from playground.sandbox.executor import SHORT
from playground.sandbox.runner import TaskOutcome
from playground.ui import live_jobs
from playground.ui.live_jobs import LiveJob
from playground.ui.session import JOB_NOTES_KEY
from playground.ui.widgets import scroll_into_view

CANCELLED_IN_QUEUE = "cancelled while waiting in the queue: nothing ran"
TASK_SLOT_PREFIX = "task:"
LIVE_POLL_SECONDS = 0.5  # how often a running job's panel redraws
# One fragment run polls this long, then the next one takes over. Short: while a fragment runs, no other
# fragment of the page may (the sidebar's run lines, a Check's Cancel), and they must answer within a second.
LIVE_LOOP_SECONDS = 0.8


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
    job = live_jobs.start(
        slot, label, [live_jobs.Step(target, label, dict(kwargs), timeout, SHORT)], {"on_finish": on_finish}
    )
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
    """In the sidebar, on every page: the long runs of this session that go on, or wait on their page.

    A fragment that redraws every second, so the lines follow the runs (elapsed time, finished).
    """
    if any(not job.slot.startswith(TASK_SLOT_PREFIX) for job in live_jobs.session_jobs()):
        with st.sidebar:
            _jobs_note(live_jobs.script_runs(live_jobs.current_session_id()))


@st.fragment(run_every=1.0)
def _jobs_note(runs_before: int) -> None:
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    try:
        _draw_jobs_note()
    except StopException:  # the toolbar's Stop while this note was drawn: it stops the runs, as on their page
        for job in live_jobs.session_jobs():
            if not job.done and not job.slot.startswith(TASK_SLOT_PREFIX):
                job.script_stopped("stopped with the toolbar's Stop", runs_before)
        raise


def _draw_jobs_note() -> None:
    for job in live_jobs.session_jobs():
        if job.slot.startswith(TASK_SLOT_PREFIX):
            continue
        position = job.queue_position()
        if job.done:
            st.caption(f":material/task_alt: {job.title}: finished; the results are on its page.")
        elif job.stop_reason:
            st.caption(f":material/hourglass_top: {job.title}: {job.stop_reason}, finishing ...")
        elif position is not None:
            st.caption(f":material/hourglass_top: {job.title}: number {position} in the queue.")
        else:
            st.caption(
                f":material/autorenew: {job.title}: running for {job.elapsed:.0f} s; it goes on while you look "
                "at other pages."
            )


@st.fragment(run_every=0.5)
def _rerun_when_tasks_finish() -> None:
    jobs = [job for job in live_jobs.session_jobs() if job.slot.startswith(TASK_SLOT_PREFIX)]
    if all(job.done for job in jobs):
        st.rerun()


def collect_job(slot: str, keep: Callable[[LiveJob], None]) -> LiveJob | None:
    """:func:`live_jobs.collect`, and a note for :func:`job_note` when the job left the queue before it ran."""
    job = live_jobs.collect(slot, keep)
    if job is not None and job.stop_reason == CANCELLED_IN_QUEUE:
        notes: dict[str, str] = st.session_state.setdefault(JOB_NOTES_KEY, {})
        notes[slot] = f"{job.title}: cancelled while it waited in the queue; nothing ran."
    return job


def job_note(slot: str) -> None:
    """Say (once) that the last job in ``slot`` was cancelled in the queue."""
    note = st.session_state.get(JOB_NOTES_KEY, {}).pop(slot, None)
    if note:
        st.info(note, icon=":material/block:")


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

    In the page's own run the view is drawn once and the run goes on, so the
    rest of the page is drawn (and readable) at once; the fragment's later runs
    poll in a loop.
    """
    anchor = f"live-{job.slot}"
    runs_before = live_jobs.script_runs(job.session_id)
    if scroll:
        scroll_into_view(anchor)  # before the panel: the script waits for it to appear
    first_draw = [True]
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
                _live_body(job, draw, loop=not first_draw[0])
                first_draw[0] = False
            except StopException:  # the toolbar's Stop, a closed tab, or a click (fast reruns)
                job.script_stopped("stopped with the toolbar's Stop", runs_before)
                raise

        panel()


def _live_body(job: LiveJob, draw: Callable[[LiveJob], None], *, loop: bool) -> None:
    if job.done:
        st.rerun()
    head = st.empty()
    body = st.empty()
    until = time.monotonic() + (LIVE_LOOP_SECONDS if loop else 0.0)
    while True:
        head.caption(_job_state(job))
        with body.container():
            if job.queue_position() is None:  # while it waits, the queue is all there is to say
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
