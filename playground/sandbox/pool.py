"""Independent training runs one after another, or on two cores: :func:`run_jobs`.

This process works through the list of jobs while one helper process
(``python -m playground.sandbox.worker``, one torch thread) takes the next free
job. Progress of both reaches the same callback; a ``False`` from it stops
both. It runs inside the sandbox child (the app's network-size experiment) or
in a benchmark, never in the Streamlit server.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from playground.core.facts import PROJECT_ROOT
from playground.sandbox.protocol import MessageReader, write_message
from playground.sandbox.worker import STOP_SIGNALS, WORKER_FD_ENV

J = TypeVar("J")
R = TypeVar("R")
Report = Callable[[Any], bool]
"""Inside a job: send one progress message; returns ``False`` when the job should stop now."""


class HelperFailed(RuntimeError):
    """A run in the helper process raised."""


class HelperDied(HelperFailed):
    """The helper process ended while it had a run (killed, out of memory...)."""


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run with one intra-op torch thread (the same arithmetic in every process), then restore."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _stop_signals_blocked() -> Iterator[None]:
    """Hold back SIGUSR1/SIGINT while the helper process starts.

    The sandbox asks a task to stop by sending SIGUSR1 to its whole process
    group, and Ctrl-C reaches every process of a terminal's group: a helper
    still importing torch would die of either. A child inherits the blocked
    mask, sets both signals to "ignore" before it unblocks them, and learns
    about a stop from this process instead. A signal that arrives here
    meanwhile is delivered when the block ends.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


class _Helper:
    """One helper process (``python -m playground.sandbox.worker``), given one job at a time."""

    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        env = dict(os.environ)
        env[WORKER_FD_ENV] = str(write_fd)
        root = str(PROJECT_ROOT)
        env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        with _stop_signals_blocked():
            # Same process group as this one: whoever kills the group kills the helper too.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "playground.sandbox.worker"],
                stdin=subprocess.PIPE,
                pass_fds=(write_fd,),
                env=env,
            )
        os.close(write_fd)
        self.read_fd = read_fd
        self.reader = MessageReader(trusted=True)
        self.pending: list[Any] = []
        self.busy_with: int | None = None
        self.stop_sent = False
        self._send([p for p in sys.path if p])

    def _send(self, obj: Any) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            write_message(self.process.stdin, obj)

    def give(self, index: int, func: Callable[[Any, Report], Any], job: Any) -> None:
        self.busy_with = index
        self._send((index, func, job))

    def stop(self) -> None:
        if self.busy_with is not None and not self.stop_sent:
            self.stop_sent = True
            self._send("stop")

    def next_message(self, timeout: float) -> tuple[Any, ...] | None:
        """The next message, waiting up to ``timeout`` s; ``HelperDied`` if the helper died mid-job."""
        message = self._parse()
        if message is not None:
            return message
        if select.select([self.read_fd], [], [], max(timeout, 0.0))[0]:
            data = os.read(self.read_fd, 1 << 16)
            self.pending.extend(self.reader.feed(data))
            message = self._parse()
            if message is not None or data:
                return message
        if self.busy_with is not None and self.process.poll() is not None:
            raise HelperDied(
                f"the helper process died (exit code {self.process.returncode}) during run {self.busy_with}"
            )
        return None

    def _parse(self) -> tuple[Any, ...] | None:
        if not self.pending:
            return None
        message: tuple[Any, ...] = self.pending.pop(0)
        if message and message[0] == "end":
            self.busy_with, self.stop_sent = None, False
        return message

    def close(self) -> None:
        """Ask the helper to exit; kill it if it has not within a few seconds."""
        self.stop()
        self._send(None)
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        deadline = time.monotonic() + 10.0
        while self.process.poll() is None and time.monotonic() < deadline:
            if select.select([self.read_fd], [], [], 0.05)[0] and not os.read(self.read_fd, 1 << 16):
                break  # keep its pipe flowing so it can exit
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5.0)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.read_fd)


def run_jobs(
    func: Callable[[J, Report], R],
    jobs: Sequence[J],
    *,
    workers: int = 1,
    on_message: Callable[[int, Any], bool | None] | None = None,
    on_result: Callable[[int, R | None], bool | None] | None = None,
    costs: Sequence[float] | None = None,
) -> list[R | None]:
    """Run ``func(job, report)`` for every job; results in job order (``None`` for runs never done).

    ``on_message(index, message)`` sees what a job reports; ``on_result(index,
    result)`` sees each finished job. Either returning ``False`` stops: the
    running jobs are told (their ``report`` returns ``False``) and no new job
    starts. With ``workers=2`` a helper process takes the next free job;
    ``func`` must then be a module-level function and jobs and results
    picklable. Callbacks always run in this process. ``costs`` (a rough
    size of each job) makes two processes start the biggest jobs first, so
    neither waits long for the other at the end.
    """
    results: list[R | None] = [None] * len(jobs)
    stopped = False

    def handle_message(index: int, message: Any) -> None:
        nonlocal stopped
        if on_message is not None and on_message(index, message) is False:
            stopped = True

    def handle_result(index: int, result: R | None) -> None:
        nonlocal stopped
        results[index] = result
        if on_result is not None and on_result(index, result) is False:
            stopped = True

    helper = _Helper() if workers >= 2 and len(jobs) >= 2 else None
    pending = list(range(len(jobs)))
    if helper is not None and costs is not None:
        pending.sort(key=lambda index: -costs[index])  # stable: equal costs keep their order

    def pump(wait: float) -> None:
        """Forward the helper's messages; when it is idle, give it the next job."""
        nonlocal helper
        if helper is None:
            return
        try:
            message = helper.next_message(wait)
            while message is not None:
                if message[0] == "progress":
                    handle_message(message[1], message[2])
                elif message[0] == "end":
                    index, result, error = message[1], message[2], message[3]
                    if error:
                        raise HelperFailed(f"run {index} failed in the helper process:\n{error}")
                    handle_result(index, result)
                message = helper.next_message(0)
        except HelperDied as died:
            # Killed for lack of memory, say: run its job again here, and the rest too.
            print(f"{died}; running the remaining runs in this process", file=sys.stderr, flush=True)
            if helper.busy_with is not None:
                pending.insert(0, helper.busy_with)
            helper.close()
            helper = None
            return
        if stopped:
            helper.stop()
        elif helper.busy_with is None and pending:
            index = pending.pop(0)
            helper.give(index, func, jobs[index])

    def report_here(index: int) -> Report:
        def report(message: Any) -> bool:
            handle_message(index, message)
            pump(0)
            return not stopped

        return report

    try:
        pump(0)
        while True:
            if pending and not stopped:
                index = pending.pop(0)
                with one_torch_thread():
                    result = func(jobs[index], report_here(index))
                handle_result(index, result)
                pump(0)
            elif helper is not None and helper.busy_with is not None:
                pump(0.1)  # its run ends soon after a stop, and may still be the last one
            else:
                break
    finally:
        if helper is not None:
            helper.close()
    return results
