"""Run learner code in a child process, with a time limit, from the app or the CLI.

:func:`run_checks` runs an exercise's checks; :func:`start_task` runs a
:mod:`playground` task (training, an experiment) that may call learner code,
streaming its progress. Either way the code runs in ``python -m
playground.sandbox``, in its own process group, and anything that goes wrong
there (an exception, a hang, ``os._exit``, a segfault, unreadable output)
becomes a failed check or a failed task with a clear message; the parent never
imports learner code and never dies with the child.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from playground.checks import CheckResult, CheckSpec, checks_for
from playground.protocol import RESULT_FD_ENV, CheckRequest, MessageReader, TaskRequest, UnsafeMessage
from playground.submitted import validate_sources

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 30.0  # importing torch in a cold child can take a while
OUTPUT_TAIL_CHARS = 1500


@dataclass
class _Child:
    """A running sandbox process and the pipe its messages come on."""

    process: subprocess.Popen[bytes]
    read_fd: int
    output: IO[bytes]
    reader: MessageReader

    @classmethod
    def start(cls, request: CheckRequest | TaskRequest) -> _Child:
        read_fd, write_fd = os.pipe()
        output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in output_tail()
        env = dict(os.environ)
        env[RESULT_FD_ENV] = str(write_fd)
        env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # a learner's edit is always read fresh
        env.setdefault("SDL_VIDEODRIVER", "dummy")
        env.setdefault("MPLBACKEND", "Agg")
        process = subprocess.Popen(
            [sys.executable, "-m", "playground.sandbox"],
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            cwd=PROJECT_ROOT,
            env=env,
            start_new_session=True,
        )
        os.close(write_fd)
        assert process.stdin is not None
        try:
            process.stdin.write(pickle.dumps(request))
            process.stdin.close()
        except BrokenPipeError:
            pass
        return cls(process, read_fd, output, MessageReader())

    def messages(self, deadline: Callable[[], float]) -> Iterator[Any]:
        """Yield messages until the pipe closes; ``TimeoutError`` past the deadline.

        ``deadline`` is asked again after every message, so the caller can move
        it (a new check starts, a new time limit applies).
        """
        selector = selectors.DefaultSelector()
        selector.register(self.read_fd, selectors.EVENT_READ)
        try:
            while True:
                remaining = deadline() - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                if not selector.select(timeout=min(remaining, 0.25)):
                    yield None  # a heartbeat: lets the caller poll (stop buttons, progress)
                    continue
                data = os.read(self.read_fd, 1 << 16)
                if not data:
                    return
                yield from self.reader.feed(data)
        finally:
            selector.close()

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def finish(self, grace: float = 2.0) -> str:
        """Wait briefly, kill the group if needed, and describe how the child ended."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        self.signal(signal.SIGKILL)
        code = self.process.wait()
        os.close(self.read_fd)
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the process was killed by {name}" + (" (a crash in native code)" if name == "SIGSEGV" else "")
        return f"the process exited with code {code}"

    def output_tail(self) -> str:
        self.output.seek(0, os.SEEK_END)
        size = self.output.tell()
        self.output.seek(max(0, size - OUTPUT_TAIL_CHARS))
        text = self.output.read().decode("utf-8", errors="replace").strip()
        self.output.close()
        return text


def _with_output(message: str, output: str) -> str:
    return f"{message}\n--- last output ---\n{output}" if output else message


def run_checks(
    exercise: str,
    impl: str = "exercises",
    names: Sequence[str] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    *,
    sources: Mapping[str, str] | None = None,
) -> list[CheckResult]:
    """Run the checks of ``exercise`` against ``impl`` ("exercises" or "solutions").

    ``sources`` maps exercise module names to source text (a page's editor):
    in the child, ``exercises.<name>`` is that text instead of the file on disk.
    Each check has its own time limit. When a check hangs or the child dies,
    that check fails with the reason, and a fresh child runs the rest.
    """
    if impl not in ("exercises", "solutions"):
        raise ValueError(f"impl must be 'exercises' or 'solutions', got {impl!r}")
    specs = checks_for(exercise)
    if names is not None:
        unknown = sorted(set(names) - {spec.name for spec in specs})
        if unknown:
            raise ValueError(f"unknown check(s) for {exercise}: {', '.join(unknown)}")
        specs = [spec for spec in specs if spec.name in names]
    submitted = validate_sources(sources or {})
    results: list[CheckResult] = []
    pending = list(specs)
    while pending:
        batch = _run_check_batch(exercise, impl, pending, on_result, submitted)
        results.extend(batch)
        pending = pending[len(batch) :]
    return results


def _run_check_batch(
    exercise: str,
    impl: str,
    specs: list[CheckSpec],
    on_result: Callable[[CheckResult], None] | None,
    sources: dict[str, str] | None = None,
) -> list[CheckResult]:
    """Run checks in one child until they are all done or the child fails."""
    by_name = {spec.name: spec for spec in specs}
    child = _Child.start(CheckRequest(exercise, impl, tuple(by_name), dict(sources or {})))
    results: list[CheckResult] = []
    current: CheckSpec | None = specs[0]
    deadline = time.monotonic() + STARTUP_SECONDS + specs[0].timeout
    failure = ""

    def record(result: CheckResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    try:
        for message in child.messages(lambda: deadline):  # noqa: B023 - read late on purpose
            if message is None:
                continue
            kind = message[0] if isinstance(message, tuple) and message else None
            if kind == "start" and message[1] in by_name:
                current = by_name[message[1]]
                deadline = time.monotonic() + current.timeout
            elif kind == "result" and isinstance(message[1], CheckResult):
                record(message[1])
                current = None
                deadline = time.monotonic() + STARTUP_SECONDS
            elif kind == "error":
                failure = f"the check runner failed: {message[1]}"
                break
            else:
                failure = "the check process sent a message that could not be read"
                break
    except TimeoutError:
        limit = current.timeout if current is not None else STARTUP_SECONDS
        failure = f"did not finish within {limit:g} s: is there an infinite loop, or a very slow step?"
    except (UnsafeMessage, pickle.UnpicklingError, EOFError, ValueError) as err:
        failure = f"the check process sent output that could not be read ({err})"
    ended = child.finish(grace=0.5 if failure else 5.0)
    output = child.output_tail()
    if len(results) < len(specs):
        broken = specs[len(results)]
        if not failure:
            failure = f"{ended} before reporting a result (a crash, or a call to exit()?)"
        record(CheckResult(exercise, broken.name, False, _with_output(failure, output)))
    return results


@dataclass
class TaskOutcome:
    """How a task ended: its value, or why there is none."""

    value: Any = None
    error: str = ""
    stopped: bool = False
    output: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


class TaskHandle:
    """A task running in the sandbox. Iterate :meth:`progress`, then read :attr:`outcome`."""

    def __init__(
        self, target: str, kwargs: dict[str, Any], timeout: float, sources: Mapping[str, str] | None = None
    ) -> None:
        self.timeout = timeout
        self.started = time.monotonic()
        self.outcome: TaskOutcome | None = None
        self._stop_requested = False
        self._child = _Child.start(TaskRequest(target, kwargs, validate_sources(sources or {})))
        self._deadline = self.started + STARTUP_SECONDS + timeout

    def progress(self) -> Iterator[Any]:
        """Yield each progress message (and ``None`` heartbeats) until the task ends."""
        if self.outcome is not None:
            return
        outcome = TaskOutcome(stopped=self._stop_requested)
        try:
            for message in self._child.messages(lambda: self._deadline):
                if message is None:
                    yield None
                    continue
                kind = message[0] if isinstance(message, tuple) and message else None
                if kind == "progress":
                    yield message[1]
                elif kind == "done":
                    outcome.value = message[1]
                elif kind == "error":
                    outcome.error = str(message[1])
                    break
                else:
                    outcome.error = "the task sent a message that could not be read"
                    break
        except TimeoutError:
            outcome.error = f"stopped after the time limit of {self.timeout:g} s"
        except (UnsafeMessage, pickle.UnpicklingError, EOFError, ValueError) as err:
            outcome.error = f"the task sent output that could not be read ({err})"
        finally:
            ended = self._child.finish(grace=5.0 if not outcome.error else 0.5)
            outcome.output = self._child.output_tail()
            outcome.stopped = self._stop_requested
            if outcome.value is None and not outcome.error:
                outcome.error = f"{ended} before returning a result"
            self.outcome = outcome

    def stop(self, grace: float = 10.0) -> None:
        """Ask the task to stop early; it returns what it has within ``grace`` seconds."""
        self._stop_requested = True
        self._child.signal(signal.SIGUSR1)
        self._deadline = min(self._deadline, time.monotonic() + grace)

    def kill(self) -> None:
        self._child.signal(signal.SIGKILL)

    def wait(self) -> TaskOutcome:
        for _ in self.progress():
            pass
        assert self.outcome is not None
        return self.outcome


def start_task(
    target: str, timeout: float = 600.0, *, sources: Mapping[str, str] | None = None, **kwargs: Any
) -> TaskHandle:
    """Start ``target`` ("playground.module:function") in the sandbox.

    ``sources``: exercise module name -> source text, imported in the child as
    ``exercises.<name>`` (see :func:`run_checks`).
    """
    return TaskHandle(target, kwargs, timeout, sources)


def run_task(
    target: str, timeout: float = 600.0, *, sources: Mapping[str, str] | None = None, **kwargs: Any
) -> TaskOutcome:
    """Run a task to the end and return its outcome (no progress)."""
    return start_task(target, timeout, sources=sources, **kwargs).wait()
