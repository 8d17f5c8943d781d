"""The child process in which learner code runs: ``python -m playground.sandbox.child``.

The parent (:mod:`playground.sandbox.runner`) writes one pickled request on stdin and
reads length-prefixed messages from the pipe whose descriptor is in
``PLAYGROUND_RESULT_FD``. Two kinds of request:

* ``CheckRequest``: import ``<impl>.<exercise>`` and run the named checks in
  order, sending ``("start", name)`` before and ``("result", CheckResult)``
  after each one, so the parent knows which check hung or crashed.
* ``TaskRequest``: call a function of :mod:`playground` (``module:function``)
  with keyword arguments and an ``emit`` callback for progress, sending
  ``("start", target)`` once the task is imported and ``("done", value)`` at the end
  (the task's time limit counts from its start, not from the child's imports).
  ``SIGUSR1`` asks the task to stop early: its ``should_stop()`` turns true and
  the task returns what it has.
"""

from __future__ import annotations

import contextlib
import faulthandler
import importlib
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import Any, BinaryIO

import playground.checks as checks_package
from playground.checks import describe_exception as describe_raised
from playground.core.facts import impl_module
from playground.sandbox.hardening import (
    SandboxUnavailable,
    SandboxViolation,
    describe_limit,
    harden,
    install_sources,
    set_parent_death_signal,
)
from playground.sandbox.protocol import RESULT_FD_ENV, CheckRequest, Job, Limits, TaskRequest, write_message

# For the test suite only: a comma-separated list of extra modules that the
# sandbox imports before it runs checks (so they can register checks of their
# own) and whose functions it accepts as task targets. Unset in normal use.
TEST_MODULES_ENV = "PLAYGROUND_TEST_MODULES"
# The parent sends this when a job overruns its time limit: the child dumps its stack, then dies.
HANG_SIGNAL = signal.SIGUSR2


def _test_modules() -> list[str]:
    return [name.strip() for name in os.environ.get(TEST_MODULES_ENV, "").split(",") if name.strip()]


@dataclass
class TaskContext:
    """Handed to a task as ``ctx``: report progress and notice a stop request."""

    emit: Callable[[Any], None]
    stop_event: threading.Event

    def should_stop(self) -> bool:
        return self.stop_event.is_set()


_LIMITS = Limits()


def _describe_limit(err: BaseException) -> str | None:
    limit = describe_limit(err, _LIMITS)
    if limit is None and isinstance(err, (SandboxViolation, SandboxUnavailable)):
        limit = str(err)
    return limit


def describe_exception(err: BaseException, impl: str = "exercises") -> str:
    """One readable sentence for a learner: a limit in their words, else what was raised and where."""
    return describe_raised(err, impl)


def _import_impl(exercise: str, impl: str) -> ModuleType:
    return impl_module(impl, exercise)


def _prepare_checks(request: CheckRequest) -> Callable[[BinaryIO], None]:
    """Import what the checks need (not the learner's module); return the function that runs them."""
    from playground.checks import CheckResult, checks_for, run_check

    specs = {spec.name: spec for spec in checks_for(request.exercise)}

    def run(out: BinaryIO) -> None:
        try:
            module = _import_impl(request.exercise, request.impl)
        except BaseException as err:  # noqa: BLE001 - any failure to import is the learner's to see
            message = f"could not import {request.impl}/{request.exercise}.py: {describe_exception(err, request.impl)}"
            for name in request.checks:
                write_message(out, ("result", CheckResult(request.exercise, name, False, message, "error")))
            return
        for name in request.checks:
            write_message(out, ("start", name))
            write_message(out, ("result", run_check(specs[name], module, request.impl)))

    return run


def _prepare_task(request: TaskRequest) -> Callable[[BinaryIO], None]:
    module_name, _, func_name = request.target.partition(":")
    if not module_name.startswith("playground.") and module_name not in _test_modules():
        raise ValueError(f"tasks must live in playground, got {request.target!r}")
    func = getattr(importlib.import_module(module_name), func_name)

    def run(out: BinaryIO) -> None:
        stop_event = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop_event.set()

        signal.signal(signal.SIGUSR1, on_signal)
        ctx = TaskContext(emit=lambda message: write_message(out, ("progress", message)), stop_event=stop_event)
        write_message(out, ("start", request.target))
        value = func(ctx, **request.kwargs)
        write_message(out, ("done", value))

    return run


def _reseed() -> None:
    """A forked child starts with its parent's random state: give every job its own."""
    import random

    import numpy as np
    import torch

    random.seed()
    np.random.seed()
    torch.seed()


def run_job(job: Job, out: BinaryIO) -> int:
    """Run one job in this (fresh or freshly forked) process; the exit code of the process."""
    global _LIMITS
    _LIMITS = job.limits
    checks_package.limit_describer = _describe_limit  # checks that catch an exception say it the same way
    request = job.request
    try:
        extra_env = {RESULT_FD_ENV: str(out.fileno())}
        if job.test_modules:
            extra_env[TEST_MODULES_ENV] = ",".join(job.test_modules)
        os.environ.update(extra_env)
        for path in reversed(job.python_path):
            if path not in sys.path:
                sys.path.insert(0, path)
        import torch

        torch.set_num_threads(1)
        # Inter-op threads too (a cold child would start one per core of the machine); a child forked from
        # the fork server has its value already, and torch refuses to set it twice.
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(1)
        _reseed()
        faulthandler.register(HANG_SIGNAL, file=sys.stderr, all_threads=False, chain=False)
        for extra in _test_modules():
            importlib.import_module(extra)
        install_sources(request.sources, job.scratch)
        if isinstance(request, CheckRequest):
            run = _prepare_checks(request)
        elif isinstance(request, TaskRequest):
            run = _prepare_task(request)
        else:
            raise TypeError(f"unknown request {type(request).__name__}")
        harden(
            job.scratch,
            job.limits,
            extra_env,
            cpu=job.cpu,
            extra_read=job.python_path,
            strict=job.strict,
        )
        run(out)
    except BaseException as err:  # noqa: BLE001 - report, never die silently
        with contextlib.suppress(BaseException):
            write_message(out, ("error", describe_exception(err), traceback.format_exc(limit=20)))
        return 1
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
        with contextlib.suppress(BaseException):
            sys.stderr.flush()
    return 0


def main() -> int:
    """``python -m playground.sandbox.child``: one job read from stdin, without the warm fork server."""
    set_parent_death_signal()
    fd = int(os.environ[RESULT_FD_ENV])
    out = os.fdopen(fd, "wb", buffering=0)
    job = pickle.load(sys.stdin.buffer)
    if not isinstance(job, Job):
        raise TypeError(f"unknown job {type(job).__name__}")
    return run_job(job, out)


if __name__ == "__main__":
    code = main()
    # Leave at once: a learner's stray non-daemon thread must not keep us alive.
    os._exit(code)
