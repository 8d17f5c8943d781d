"""The child process in which learner code runs: ``python -m playground.sandbox``.

The parent (:mod:`playground.runner`) writes one pickled request on stdin and
reads length-prefixed messages from the pipe whose descriptor is in
``PLAYGROUND_RESULT_FD``. Two kinds of request:

* ``CheckRequest``: import ``<impl>.<exercise>`` and run the named checks in
  order, sending ``("start", name)`` before and ``("result", CheckResult)``
  after each one, so the parent knows which check hung or crashed.
* ``TaskRequest``: call a function of :mod:`playground` (``module:function``)
  with keyword arguments and an ``emit`` callback for progress; send
  ``("done", value)``. ``SIGUSR1`` asks the task to stop early: its
  ``should_stop()`` turns true and the task returns what it has.

Either request may carry ``sources`` (module name -> code from a page's
editor): then, before anything else, :func:`playground.submitted.install_sources`
writes an ``exercises`` package with that code into a temporary directory, puts
it first on ``sys.path`` and makes it the working directory, so
``exercises.<name>`` is the submitted code and nothing lands in the app's
directory. The directory is removed when the request is done.
"""

from __future__ import annotations

import importlib
import os
import pickle
import shutil
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import Any, BinaryIO

from playground.protocol import RESULT_FD_ENV, CheckRequest, TaskRequest, write_message
from playground.submitted import install_sources

# For the test suite only: a comma-separated list of extra modules that the
# sandbox imports before it runs checks (so they can register checks of their
# own) and whose functions it accepts as task targets. Unset in normal use.
TEST_MODULES_ENV = "PLAYGROUND_TEST_MODULES"


def _test_modules() -> list[str]:
    return [name.strip() for name in os.environ.get(TEST_MODULES_ENV, "").split(",") if name.strip()]


@dataclass
class TaskContext:
    """Handed to a task as ``ctx``: report progress and notice a stop request."""

    emit: Callable[[Any], None]
    stop_event: threading.Event

    def should_stop(self) -> bool:
        return self.stop_event.is_set()


def describe_exception(err: BaseException, impl: str = "exercises") -> str:
    """One readable sentence for a learner: what was raised, and where in their file."""
    if isinstance(err, NotImplementedError):
        hint = str(err).strip() or "the function body still raises NotImplementedError"
        return f"not implemented yet: {hint}"
    frames = traceback.extract_tb(err.__traceback__)
    where = ""
    for frame in reversed(frames):
        normalized = frame.filename.replace(os.sep, "/")
        if f"/{impl}/" in normalized:
            where = f" (at {impl}/{os.path.basename(frame.filename)} line {frame.lineno}: {(frame.line or '').strip()})"
            break
    text = str(err).strip()
    return f"raised {type(err).__name__}{': ' + text if text else ''}{where}"


def _import_impl(exercise: str, impl: str) -> ModuleType:
    if impl not in ("exercises", "solutions"):
        raise ValueError(f"impl must be 'exercises' or 'solutions', got {impl!r}")
    return importlib.import_module(f"{impl}.{exercise}")


def _run_checks(request: CheckRequest, out: BinaryIO) -> None:
    from playground.checks import CheckResult, checks_for

    for extra in _test_modules():
        importlib.import_module(extra)
    specs = {spec.name: spec for spec in checks_for(request.exercise)}
    try:
        module = _import_impl(request.exercise, request.impl)
    except BaseException as err:  # noqa: BLE001 - any failure to import is the learner's to see
        message = f"could not import {request.impl}/{request.exercise}.py: {describe_exception(err, request.impl)}"
        for name in request.checks:
            write_message(out, ("result", CheckResult(request.exercise, name, False, message)))
        return
    for name in request.checks:
        write_message(out, ("start", name))
        spec = specs[name]
        result = _run_one(spec.func, module, request)
        write_message(out, ("result", CheckResult(request.exercise, name, result[0], result[1])))


def _run_one(func: Callable[[ModuleType], str], module: ModuleType, request: CheckRequest) -> tuple[bool, str]:
    from playground.checks import CheckFailed

    try:
        message = func(module)
    except CheckFailed as failure:
        return False, str(failure)
    except BaseException as err:  # noqa: BLE001 - learner code may raise anything, even SystemExit
        return False, describe_exception(err, request.impl)
    return True, str(message)


def _run_task(request: TaskRequest, out: BinaryIO) -> None:
    module_name, _, func_name = request.target.partition(":")
    if not module_name.startswith("playground.") and module_name not in _test_modules():
        raise ValueError(f"tasks must live in playground, got {request.target!r}")
    func = getattr(importlib.import_module(module_name), func_name)
    stop_event = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_event.set()

    signal.signal(signal.SIGUSR1, on_signal)
    ctx = TaskContext(emit=lambda message: write_message(out, ("progress", message)), stop_event=stop_event)
    value = func(ctx, **request.kwargs)
    write_message(out, ("done", value))


def main() -> int:
    fd = int(os.environ[RESULT_FD_ENV])
    out = os.fdopen(fd, "wb", buffering=0)
    scratch: str | None = None
    try:
        import torch

        torch.set_num_threads(1)
        request = pickle.load(sys.stdin.buffer)
        if isinstance(request, CheckRequest | TaskRequest) and request.sources:
            scratch = install_sources(request.sources)
            # Submitted code runs in the scratch directory: a file it writes never lands in the app's directory.
            work = os.path.join(scratch, "work")
            os.mkdir(work)
            os.chdir(work)
        if isinstance(request, CheckRequest):
            _run_checks(request, out)
        elif isinstance(request, TaskRequest):
            _run_task(request, out)
        else:
            raise TypeError(f"unknown request {type(request).__name__}")
    except BaseException as err:  # noqa: BLE001 - report, never die silently
        write_message(out, ("error", describe_exception(err), traceback.format_exc(limit=20)))
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    code = main()
    # Leave at once: a learner's stray non-daemon thread must not keep us alive.
    os._exit(code)
