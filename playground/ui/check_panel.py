"""Check: run exercises' checks in the sandbox as a cancellable job, show its progress and the results.

A Check runs on a daemon thread (:class:`CheckJob`), not in the script run
that started it. The click's own run waits a moment for the results (most
checks take a fraction of a second, and then they show in that very run);
a Check that waits in the queue or takes longer is followed by a small polling
fragment with a Cancel button. That matters because the editor is a
fragment: a click inside a fragment never interrupts the fragment's running
script, so a Cancel drawn by the run that waits for the Check could only act
once the Check was over. Cancel ends the Check within a quarter second,
queued or running (:func:`playground.sandbox.runner.run_checks`' ``cancel``).

The learner's code is checked from the editor (:mod:`playground.ui.editor`)
and from the home page; the reference's Check, further down every exercise
page, is :func:`check_panel`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence

import streamlit as st

from playground.checks import CheckResult, checks_for
from playground.checks.feedback import group_results, summary
from playground.core import workspace
from playground.core.facts import Impl
from playground.sandbox import executor, runner
from playground.ui import live_jobs, persistence
from playground.ui.code_store import mark_checked, store_checks, stored_checks
from playground.ui.job_panel import queue_message
from playground.ui.session import CHECK_JOBS_KEY
from playground.ui.widgets import escape_markdown

FAST_WAIT_SECONDS = 0.5  # the click's own run waits this long for the results
POLL_SECONDS = 0.25  # then a fragment looks at the job this often
CANCEL_WAIT_SECONDS = 1.0  # after Cancel, how long to wait for the job to end before saying so


class CheckJob:
    """The checks of one or more exercises on ``impl``, run one exercise after another by a daemon thread.

    Read from any thread: :attr:`results` (exercise -> results, per finished
    exercise), :attr:`position` (place in the queue, None when not waiting),
    :attr:`finished` (checks done so far), :attr:`done`, :attr:`cancelled`.
    """

    def __init__(
        self, name: str, exercises: Sequence[str], impl: Impl, sources: dict[str, str], owner: str | None
    ) -> None:
        self.name = name
        self.exercises = tuple(exercises)
        self.impl = impl
        self.sources = dict(sources)  # the code that is checked (the editors' code when the job started)
        self.owner = owner
        self.total = 0
        for exercise in self.exercises:
            with contextlib.suppress(Exception):  # a broken check module is reported as that exercise's result
                self.total += len(checks_for(exercise))
        self.results: dict[str, list[CheckResult]] = {}
        self.finished = 0
        self.last_check = ""
        self.position: int | None = None
        self.started = time.monotonic()
        self.done = False
        self.cancelled = False
        self.collected = False
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._drive, name=f"check-{name}", daemon=True)

    def start(self) -> CheckJob:
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Leave the queue, or end the running check's child; :attr:`done` within a quarter second."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.done

    @property
    def what(self) -> str:
        if len(self.exercises) > 1:
            return "every exercise"
        exercise = self.exercises[0]
        return f"your {exercise}.py" if self.impl == "exercises" else f"{self.impl}/{exercise}.py"

    def _on_queue(self, position: int) -> None:
        self.position = position

    def _on_result(self, result: CheckResult) -> None:
        self.position = None
        self.finished += 1
        self.last_check = f"{result.exercise}: {result.check}" if len(self.exercises) > 1 else result.check

    def _drive(self) -> None:
        try:
            for exercise in self.exercises:
                try:
                    with runner.job_owner(self.owner or f"check-{id(self)}"):
                        results = executor.run_checks(
                            exercise,
                            self.impl,
                            on_result=self._on_result,
                            on_queue=self._on_queue,
                            sources=self.sources,
                            cancel=self._cancel,
                        )
                except runner.CheckCancelled:
                    self.cancelled = True
                    return
                except Exception as err:  # noqa: BLE001 - one broken exercise must not hide the others
                    results = [CheckResult(exercise, "run the checks", False, f"the checks could not run: {err}")]
                self.results[exercise] = results
                self.position = None
        finally:
            self.position = None
            self.done = True


def _jobs() -> dict[str, CheckJob]:
    jobs: dict[str, CheckJob] = st.session_state.setdefault(CHECK_JOBS_KEY, {})
    return jobs


def check_job(name: str) -> CheckJob | None:
    """The newest Check started under ``name`` in this session (running, or done)."""
    return _jobs().get(name)


def start_check(
    name: str, exercises: Sequence[str], impl: Impl = "exercises", *, sources: dict[str, str] | None = None
) -> CheckJob:
    """Start a Check under ``name`` (a Check already running there is cancelled first)."""
    old = check_job(name)
    if old is not None and not old.done:
        old.cancel()
    owner = live_jobs.current_session_id()
    job = CheckJob(name, exercises, impl, sources or {}, owner).start()
    _jobs()[name] = job
    return job


def collect(job: CheckJob) -> None:
    """Move a finished job's results into session state (once); the code checked is remembered with them."""
    if job.collected or not job.done:
        return
    job.collected = True
    for exercise, results in job.results.items():
        store_checks(exercise, job.impl, results)
        if job.impl == "exercises":
            mark_checked(exercise, job.sources.get(exercise))
            if exercise in job.sources:  # the server ran these checks on code it holds: the class keeps them
                persistence.checks_ran(exercise, job.sources[exercise], results)


def follow_check(job: CheckJob) -> None:
    """Right after a click: wait a moment for the results (drawing progress); then :func:`check_poller` follows it."""
    box = st.empty()
    until = time.monotonic() + FAST_WAIT_SECONDS
    while not job.done and time.monotonic() < until:
        if job.position is None and job.finished:
            box.progress(job.finished / max(job.total, 1), text=f"{job.finished} of {job.total}: {job.last_check}")
        time.sleep(0.02)
    box.empty()
    collect(job)


def check_progress(name: str) -> None:
    """Where a running Check's progress and Cancel go: nothing once it is done and collected."""
    job = check_job(name)
    if job is None or job.collected:
        return
    if job.done:
        collect(job)
        return
    check_poller(name)


@st.fragment(run_every=POLL_SECONDS)
def check_poller(name: str) -> None:
    """A running Check: its place in the queue or its progress, and Cancel; reruns the app when it is done."""
    job = check_job(name)
    if job is None or job.collected:
        return
    if job.done:
        st.rerun()  # the whole app: the panel collects and shows the results, the page opens what they unlock
    with st.container(border=True, key=f"check-progress-{name}"):
        if job.position is not None:
            st.info(queue_message(job.position), icon=":material/hourglass_top:")
        else:
            st.progress(
                job.finished / max(job.total, 1),
                text=f"Checking {job.what}: {job.finished} of {job.total}"
                + (f" ({job.last_check})" if job.last_check else ""),
            )
        if st.button(
            "Cancel", key=f"cancel_check_{name}_{id(job)}", icon=":material/cancel:", help="Stop this Check now"
        ):
            job.cancel()
            job.wait(CANCEL_WAIT_SECONDS)
            st.rerun()


def cancel_note(name: str) -> None:
    """After a cancelled Check: say what happened (until the next Check)."""
    job = check_job(name)
    if job is None or not job.cancelled or not job.collected:
        return
    if job.finished == 0:
        st.info("Check cancelled: it left the queue before anything ran.", icon=":material/block:")
    else:
        st.info(
            f"Check cancelled after {job.finished} of {job.total} checks; the results shown are from before.",
            icon=":material/block:",
        )


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


def show_grouped_results(results: list[CheckResult], *, summary_line: bool = True) -> None:
    """Check results with identical failures grouped: a learner reads each message once."""
    passed = sum(r.passed for r in results)
    if summary_line:
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


def reference_caption(exercise: str, local: bool) -> str:
    """What the reference's Check is, and where the learner's own code is checked (a terminal only from a clone)."""
    text = (
        "The same checks on the reference solution: every check passes there. Your code is checked with "
        "**Check my code** under the editor at the top of this page"
    )
    if local:
        return text + f", or `python -m playground.check {exercise}` in a terminal (on `exercises/{exercise}.py`)."
    return text + "."


@st.fragment
def check_panel(exercise: str) -> None:
    """The reference's side of Check (your code is checked from the editor at the top of the page).

    A fragment, like the editor: a click reruns this panel only.
    """
    name = f"{exercise}:solutions"
    st.subheader("Check the reference")
    st.caption(reference_caption(exercise, workspace.can_save()))
    if st.button("Check the reference", key=f"check_ref_{exercise}"):
        follow_check(start_check(name, [exercise], "solutions"))
    check_progress(name)
    cancel_note(name)
    results = stored_checks(exercise, "solutions")
    if results is not None:
        st.markdown(f"**Reference** (`solutions/{exercise}.py`)")
        show_check_results(results)
