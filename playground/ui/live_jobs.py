"""Sandbox tasks that outlive a script run: a server-side registry of each session's running jobs.

Streamlit stops a script run whenever the learner clicks anything (with
``runner.fastReruns = true``, as Streamlit Community Cloud forces, at once),
navigates to another page, or presses the toolbar's Stop. A training run must
survive all of that, so it is not tied to a script run: :func:`start` puts a
:class:`LiveJob` in a registry keyed by the Streamlit session and a page's
*slot* ("training", "network_sizes", ...), and a daemon thread drives its
sandbox task(s), collecting every progress message and the outcome into the
job object itself (never into ``st.session_state``, which only a script run
may touch). A page then polls the job (:func:`playground.ui.job_panel.live_job_panel`),
shows its progress, and, once the job is done, moves the outcome into session
state with :func:`collect` — in whichever run of the page comes next, even
after the learner looked at other pages meanwhile.

A job is stopped (keeping what it learned) by :meth:`LiveJob.stop`: the page's
Stop button, the toolbar's Stop, or the browser tab going away (the session is
no longer active for :data:`SESSION_GONE_SECONDS`) — so no child outlives the
learner who started it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streamlit.runtime.scriptrunner import get_script_run_ctx

from playground.sandbox.executor import LONG, JobHandle, TaskOutcome, job_owner, start_task
from playground.sandbox.fairness import Lane
from playground.ui.code_store import session_sources

SUSPECT_STOP_SECONDS = 1.5  # a script run stopped without a new run of the session after this: toolbar Stop
SESSION_GONE_SECONDS = 10.0  # a tab that reconnects within this keeps its run
STOP_GRACE_SECONDS = 60.0  # after Stop, time for the task to evaluate and record what it learned
KEEP_FINISHED_SECONDS = 3600.0  # an uncollected job of a closed session is dropped after this
_ids = itertools.count(1)


@dataclass(frozen=True)
class Step:
    """One sandbox task of a job: ``target`` ("module:function") called with ``kwargs``."""

    target: str
    label: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    timeout: float = 3600.0
    lane: Lane = LONG  # "short" for a task a page waits for (see playground.sandbox.fairness)


class LiveJob:
    """One or more sandbox tasks run one after another by a daemon thread.

    Read from any thread: :attr:`messages` (``(step index, message)``, append
    only), :attr:`outcomes` (one per finished step), :attr:`done`,
    :attr:`stop_reason`.
    """

    def __init__(
        self,
        slot: str,
        session_id: str,
        title: str,
        steps: list[Step],
        meta: dict[str, Any],
        sources: dict[str, str] | None = None,
    ) -> None:
        self.id = next(_ids)
        self.slot = slot
        self.sources = dict(sources or {})  # the session's editor code: what "mine" runs in the sandbox
        self.session_id = session_id
        self.title = title
        self.steps = steps
        self.meta = meta  # page data a later run needs to collect the job (labels, settings)
        self.started = time.monotonic()
        self.finished: float | None = None
        self.step_index = 0
        self.step_started = self.started
        self.messages: list[tuple[int, Any]] = []
        self.outcomes: list[TaskOutcome] = []
        self.step_seconds: list[float] = []  # wall time of each finished step, from its start to its outcome
        self.stop_reason = ""
        self.stopped_at: float | None = None
        self.done = False
        self.collected = False
        self._handle: JobHandle | None = None
        self._lock = threading.Lock()
        self._gone_since: float | None = None
        self._suspect: tuple[float, int, str] | None = None
        self._thread = threading.Thread(target=self._drive, name=f"live-job-{slot}-{self.id}", daemon=True)

    # --- read by pages ---------------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def step(self) -> Step:
        return self.steps[min(self.step_index, len(self.steps) - 1)]

    def step_messages(self, index: int) -> list[Any]:
        with self._lock:
            return [message for i, message in self.messages if i == index]

    def last_message(self) -> Any:
        with self._lock:
            return self.messages[-1][1] if self.messages else None

    def queue_position(self) -> int | None:
        """Place in the server's queue of sandbox tasks, when the runner has one (None: running)."""
        handle = self._handle
        position = getattr(handle, "queue_position", None)
        if handle is None or not callable(position):
            return None
        value = position()
        return int(value) if isinstance(value, int) else None

    # --- control ------------------------------------------------------------------------------

    def stop(self, reason: str) -> None:
        """Stop early and keep what was learned; ``reason`` says who stopped it ("stopped by you")."""
        with self._lock:
            if self.done or self.stop_reason:
                return
            self.stop_reason = reason
            self.stopped_at = time.monotonic()
            handle = self._handle
        if handle is not None:
            handle.stop(grace=STOP_GRACE_SECONDS)

    def script_stopped(self, reason: str, runs_before: int) -> None:
        """A script run showing this job was stopped: by the toolbar's Stop, or by a new run (a click).

        Streamlit cannot tell them apart (with fast reruns, a click also stops the
        running script), so the job waits :data:`SUSPECT_STOP_SECONDS`: if no
        run of the session started after the stopped one (``runs_before`` is
        :func:`script_runs` when it started), it stops with ``reason``.
        """
        if script_runs(self.session_id) == runs_before:
            self._suspect = (time.monotonic(), runs_before, reason)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job is done (tests, scripts); True when it is."""
        self._thread.join(timeout)
        return self.done

    def _drive(self) -> None:
        try:
            for index, step in enumerate(self.steps):
                if self.stop_reason:
                    break
                with self._lock:
                    self.step_index = index
                    self.step_started = time.monotonic()
                with job_owner(self.session_id):  # one running sandbox job per browser session
                    handle = start_task(
                        step.target, timeout=step.timeout, sources=self.sources, lane=step.lane, **step.kwargs
                    )
                with self._lock:
                    self._handle = handle
                    stop_now = bool(self.stop_reason)
                if stop_now:
                    handle.stop(grace=STOP_GRACE_SECONDS)
                for message in handle.progress():
                    self._watch_session()
                    if message is None:
                        continue
                    with self._lock:
                        self.messages.append((index, message))
                assert handle.outcome is not None
                self.step_seconds.append(time.monotonic() - self.step_started)
                self.outcomes.append(handle.outcome)
        except Exception as err:  # noqa: BLE001 - a job must always end, with a reason
            self.outcomes.append(TaskOutcome(error=f"the run could not be driven: {type(err).__name__}: {err}"))
        finally:
            with self._lock:
                self.finished = time.monotonic()
                self.done = True

    def _watch_session(self) -> None:
        """Stop the job after the toolbar's Stop, or when its browser session has been gone a while (a closed tab)."""
        suspect = self._suspect
        if suspect is not None and time.monotonic() - suspect[0] >= SUSPECT_STOP_SECONDS:
            self._suspect = None
            if script_runs(self.session_id) == suspect[1]:
                self.stop(suspect[2])
        if _session_alive(self.session_id):
            self._gone_since = None
            return
        now = time.monotonic()
        self._gone_since = self._gone_since or now
        if now - self._gone_since >= SESSION_GONE_SECONDS:
            self.stop("stopped because the browser tab was closed")


def _session_alive(session_id: str) -> bool:
    try:
        from streamlit.runtime import Runtime

        if not Runtime.exists():
            return True
        return bool(Runtime.instance().is_active_session(session_id))
    except Exception:  # noqa: BLE001 - no runtime (tests, scripts): assume the session lives
        return True


_runs: dict[str, int] = {}


def note_script_run() -> None:
    """Count a script run of this session (the app's entry point calls it on every run)."""
    sid = current_session_id()
    with _registry_lock:
        _runs[sid] = _runs.get(sid, 0) + 1


def script_runs(session_id: str) -> int:
    with _registry_lock:
        return _runs.get(session_id, 0)


_registry: dict[tuple[str, str], LiveJob] = {}
_registry_lock = threading.Lock()


def current_session_id() -> str:
    """The Streamlit session running this script ("local" outside Streamlit)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "local"


def _editor_sources() -> dict[str, str]:
    """The editors' code of the session running this script; none outside a script run (tests, scripts)."""
    if get_script_run_ctx() is None:
        return {}
    return session_sources()


def start(
    slot: str,
    title: str,
    steps: list[Step],
    meta: dict[str, Any] | None = None,
    session_id: str | None = None,
    sources: dict[str, str] | None = None,
) -> LiveJob:
    """Start a job in ``slot`` of this session; a running job there is stopped first.

    ``sources`` (module name -> code) is the code "mine" runs; by default the editors' code of this session.
    """
    sid = session_id or current_session_id()
    if sources is None:
        sources = _editor_sources()
    _prune()
    with _registry_lock:
        old = _registry.get((sid, slot))
    if old is not None and not old.done:
        old.stop("replaced by a new run")
    job = LiveJob(slot, sid, title, steps, dict(meta or {}), sources)
    with _registry_lock:
        _registry[(sid, slot)] = job
    job._thread.start()
    return job


def current(slot: str, session_id: str | None = None) -> LiveJob | None:
    """The job in ``slot`` of this session (running, or done and not yet collected)."""
    with _registry_lock:
        return _registry.get((session_id or current_session_id(), slot))


def running_jobs() -> list[LiveJob]:
    """Every job of every session that is not done yet (tests and benchmarks wait for them)."""
    with _registry_lock:
        return [job for job in _registry.values() if not job.done]


def session_jobs(session_id: str | None = None) -> list[LiveJob]:
    sid = session_id or current_session_id()
    with _registry_lock:
        return [job for (owner, _), job in _registry.items() if owner == sid]


def collect(slot: str, keep: Callable[[LiveJob], None], session_id: str | None = None) -> LiveJob | None:
    """When the job in ``slot`` is done: hand it to ``keep`` (which stores it in session state), then forget it.

    ``keep`` must be safe to call twice: a script run stopped between ``keep``
    and forgetting the job leaves it to the next run.
    """
    sid = session_id or current_session_id()
    job = current(slot, sid)
    if job is None or not job.done:
        return None
    keep(job)
    job.collected = True
    with _registry_lock:
        if _registry.get((sid, slot)) is job:
            del _registry[(sid, slot)]
    return job


def _prune() -> None:
    """Drop finished jobs of sessions that are gone; stop running ones (their thread does too)."""
    now = time.monotonic()
    with _registry_lock:
        items = list(_registry.items())
    for key, job in items:
        if _session_alive(job.session_id):
            continue
        if not job.done:
            job.stop("stopped because the browser tab was closed")
        elif job.finished is not None and now - job.finished > KEEP_FINISHED_SECONDS:
            with _registry_lock:
                _registry.pop(key, None)
    with _registry_lock:
        owners = {owner for owner, _ in _registry}
        for sid in [sid for sid in _runs if sid not in owners]:
            if not _session_alive(sid):
                del _runs[sid]
