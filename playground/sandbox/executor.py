"""One interface for every job that runs learner code, whichever machine runs it.

Pages, the ``check`` command and the benchmarks start sandbox jobs here, never
on a backend directly:

* :func:`run_checks` runs an exercise's checks (results one by one, the place
  in the queue while waiting);
* :func:`start_task` queues a task (training, the size experiment, the
  comparison, model loading) and returns a :class:`JobHandle`: iterate
  :meth:`JobHandle.progress` for its messages, :meth:`JobHandle.stop` it
  (it keeps what it learned), :meth:`JobHandle.cancel` it, read
  :attr:`JobHandle.outcome` (its value, or its error);
* :func:`run_task` runs a task to its end.

Two backends keep that contract:

* :class:`LocalExecutor` (the default): this machine's admission queue and warm
  fork server (:mod:`playground.sandbox.runner`), as on one container and on
  Streamlit Community Cloud;
* :class:`playground.sandbox.ray_backend.RayExecutor`: a Ray cluster, chosen by
  ``PLAYGROUND_RAY_ADDRESS`` (the environment or a Streamlit secret) or by
  :func:`configure`. Each worker node runs the same runner, queue and warm fork
  server in one actor; every job still runs in a sandbox child with all its limits.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from playground.checks import CheckResult
from playground.sandbox import runner
from playground.sandbox.fairness import LONG, SHORT, Lane
from playground.sandbox.runner import TaskOutcome, job_owner

RAY_ADDRESS_ENV = "PLAYGROUND_RAY_ADDRESS"

__all__ = [
    "LONG",
    "RAY_ADDRESS_ENV",
    "SHORT",
    "Executor",
    "JobHandle",
    "LocalExecutor",
    "TaskOutcome",
    "configure",
    "executor",
    "job_owner",
    "run_checks",
    "run_task",
    "set_executor",
    "start_task",
    "warm_up",
]


class JobHandle(Protocol):
    """A task waiting for a slot, then running: its progress, its control, its outcome."""

    outcome: TaskOutcome | None

    def queue_position(self) -> int | None:
        """1-based place in the queue while waiting; ``None`` once running or done."""
        ...

    def progress(self) -> Iterator[Any]:
        """Each progress message, and ``None`` heartbeats (several a second, also while queued), until the end."""
        ...

    def stop(self, grace: float = 10.0) -> None:
        """Ask the task to stop early and return what it has within ``grace`` seconds (or leave the queue)."""
        ...

    def cancel(self) -> None:
        """Leave the queue, or end a running task at once (without its partial result)."""
        ...

    def wait(self) -> TaskOutcome:
        """Run to the end (ignoring progress) and return the outcome."""
        ...


class Executor(Protocol):
    """Runs sandbox jobs: the contract both backends keep (``tests/test_executor.py``)."""

    name: str

    def run_checks(
        self,
        exercise: str,
        impl: str = "exercises",
        names: Sequence[str] | None = None,
        on_result: Callable[[CheckResult], None] | None = None,
        *,
        sources: Mapping[str, str] | None = None,
        on_queue: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[CheckResult]:
        """Run the checks of ``exercise``; when ``cancel`` is set, leave the queue or end the child and raise
        :class:`playground.sandbox.runner.CheckCancelled`."""
        ...

    def start_task(
        self,
        target: str,
        timeout: float = 600.0,
        *,
        sources: Mapping[str, str] | None = None,
        lane: Lane = LONG,
        **kwargs: Any,
    ) -> JobHandle: ...

    def warm_up(self) -> None:
        """Prepare to run jobs without a cold start (start the warm fork server(s))."""
        ...

    def close(self) -> None:
        """Let go of what this executor holds (a cluster connection); running jobs end with it."""
        ...


class LocalExecutor:
    """This machine: the admission queue and the warm fork server of :mod:`playground.sandbox.runner`."""

    name = "local"

    def run_checks(
        self,
        exercise: str,
        impl: str = "exercises",
        names: Sequence[str] | None = None,
        on_result: Callable[[CheckResult], None] | None = None,
        *,
        sources: Mapping[str, str] | None = None,
        on_queue: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[CheckResult]:
        return runner.run_checks(
            exercise, impl, names=names, on_result=on_result, sources=sources, on_queue=on_queue, cancel=cancel
        )

    def start_task(
        self,
        target: str,
        timeout: float = 600.0,
        *,
        sources: Mapping[str, str] | None = None,
        lane: Lane = LONG,
        **kwargs: Any,
    ) -> JobHandle:
        return runner.start_task(target, timeout, sources=sources, lane=lane, **kwargs)

    def warm_up(self) -> None:
        runner.warm_up()

    def close(self) -> None:
        """Nothing to let go of: the fork server lives as long as this process."""


_executor: Executor | None = None
_chosen = False  # set_executor() chose it: kept whatever is configured
_address: str | None = None
_lock = threading.Lock()


def configure(address: str | None) -> None:
    """Use the Ray cluster at ``address`` (``None`` or "": this machine) for jobs started from now on.

    ``PLAYGROUND_RAY_ADDRESS`` in the environment wins over this (the UI passes the Streamlit secret here).
    """
    global _address
    with _lock:
        _address = (address or "").strip() or None


def _wanted_address() -> str | None:
    return os.environ.get(RAY_ADDRESS_ENV, "").strip() or _address


def executor() -> Executor:
    """The process-wide executor: Ray when an address is configured, else this machine."""
    global _executor
    with _lock:
        address = _wanted_address()
        current = _executor
        if current is not None and (_chosen or getattr(current, "address", None) == address):
            return current
        if address is None:
            if current is None or current.name != "local":
                _executor = LocalExecutor()
        else:
            from playground.sandbox.ray_backend import RayExecutor

            if current is not None:
                current.close()
            _executor = RayExecutor(address)
        assert _executor is not None
        return _executor


def set_executor(chosen: Executor | None) -> Executor | None:
    """Use ``chosen`` for every job from now on (tests, benchmarks); ``None`` goes back to the configured one."""
    global _executor, _chosen
    with _lock:
        previous = _executor
        _executor = chosen
        _chosen = chosen is not None
        return previous


def run_checks(
    exercise: str,
    impl: str = "exercises",
    names: Sequence[str] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    *,
    sources: Mapping[str, str] | None = None,
    on_queue: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[CheckResult]:
    """Run the checks of ``exercise`` (see :func:`playground.sandbox.runner.run_checks`) on the current backend."""
    return executor().run_checks(exercise, impl, names, on_result, sources=sources, on_queue=on_queue, cancel=cancel)


def start_task(
    target: str,
    timeout: float = 600.0,
    *,
    sources: Mapping[str, str] | None = None,
    lane: Lane = LONG,
    **kwargs: Any,
) -> JobHandle:
    """Queue the task ``target`` ("playground.module:function") on the current backend."""
    return executor().start_task(target, timeout, sources=sources, lane=lane, **kwargs)


def run_task(
    target: str,
    timeout: float = 600.0,
    *,
    sources: Mapping[str, str] | None = None,
    lane: Lane = SHORT,
    **kwargs: Any,
) -> TaskOutcome:
    """Run a task to its end on the current backend (a page waits for it: the short lane)."""
    return start_task(target, timeout, sources=sources, lane=lane, **kwargs).wait()


def warm_up() -> None:
    """Warm the current backend up (never raises: a cold first job is only slower)."""
    try:
        executor().warm_up()
    except Exception as err:  # noqa: BLE001 - e.g. the cluster is not up yet: the first job says so
        print(f"playground: could not warm the sandbox up: {err}", flush=True)
