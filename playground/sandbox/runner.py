"""Run learner code in a sandbox child, from the app or the CLI: queued, limited, never orphaned.

:func:`run_checks` runs an exercise's checks; :func:`start_task` runs a
:mod:`playground` task (training, an experiment) that may call learner code,
streaming its progress. Either way:

* the job first waits for a slot of the server-wide admission control
  (:mod:`playground.sandbox.admission`: at most K jobs at once, one per browser
  session; a waiting job knows its place in the queue and can be cancelled);
* it then runs in a child forked from the warm fork server
  (:mod:`playground.sandbox.forkserver`: torch and the checks already imported), or,
  with ``PLAYGROUND_FORKSERVER=0``, in a cold ``python -m playground.sandbox.child``;
* the child runs in a fresh scratch directory (removed afterwards) with a
  scrubbed environment, resource limits and a seccomp filter and audit hook
  (:mod:`playground.sandbox.hardening`); a source text submitted from the browser
  editor (``sources``) becomes ``exercises.<name>`` there, and is never written
  into the app's directory;
* anything that goes wrong (an exception, a limit, a hang, ``os._exit``, a
  segfault, unreadable output) becomes a failed check or a failed task with a
  clear message. A hang is reported once per exercise, naming the function and
  line that was running; the exercise's remaining checks are then not run.

The parent never imports learner code and never dies with the child; the
child always dies with the parent.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import pickle
import re
import selectors
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from playground.checks import CheckResult, CheckSpec, checks_for
from playground.checks.aim import settle
from playground.core.facts import PROJECT_ROOT, require_impl
from playground.sandbox import forkserver, scratch
from playground.sandbox.admission import Ticket, admission
from playground.sandbox.fairness import LONG, SHORT, Lane
from playground.sandbox.hardening import strict_mode
from playground.sandbox.protocol import (
    RESULT_FD_ENV,
    CheckRequest,
    Job,
    Limits,
    MessageReader,
    TaskRequest,
    UnsafeMessage,
)
from playground.sandbox.quota import DiskWatch, disk_limit_bytes

STARTUP_SECONDS = 30.0  # a cold child (or the fork server's first start) imports torch first
OUTPUT_TAIL_CHARS = 1500
STACK_DUMP_SECONDS = 0.5
TEST_MODULES_ENV = "PLAYGROUND_TEST_MODULES"
MEMORY_ENV = "PLAYGROUND_JOB_MEMORY_MB"
QUEUE_POLL_SECONDS = 0.25

_OWNER: contextvars.ContextVar[Hashable | None] = contextvars.ContextVar("playground_job_owner", default=None)


@contextlib.contextmanager
def job_owner(owner: Hashable) -> Iterator[None]:
    """Jobs started in this block belong to ``owner`` (one running job per owner; benchmarks use it)."""
    token = _OWNER.set(owner)
    try:
        yield
    finally:
        _OWNER.reset(token)


_owner_resolver: Callable[[], Hashable | None] | None = None


def set_owner_resolver(resolver: Callable[[], Hashable | None]) -> None:
    """How to tell who starts a job when no :func:`job_owner` block says so (the UI: its browser session)."""
    global _owner_resolver
    _owner_resolver = resolver


def current_owner() -> Hashable | None:
    """Who a job started now belongs to: :func:`job_owner`, else the resolver (the session), else nobody."""
    owner = _OWNER.get()
    if owner is not None or _owner_resolver is None:
        return owner
    with contextlib.suppress(Exception):
        return _owner_resolver()
    return None


def job_limits(seconds: float) -> Limits:
    """The limits of a job that may take ``seconds`` of wall time (CPU time gets the same plus a margin)."""
    memory_mb = 1024
    with contextlib.suppress(ValueError):
        memory_mb = int(os.environ.get(MEMORY_ENV, "") or memory_mb)
    return Limits(memory_bytes=memory_mb * 1024 * 1024, cpu_seconds=int(seconds) + 30, disk_bytes=disk_limit_bytes())


def warm_up() -> None:
    """Start the warm fork server now, so the first Check does not wait for torch to import."""
    forkserver.warm_up()


class _Process(Protocol):
    pid: int

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def _test_modules() -> tuple[str, ...]:
    return tuple(name.strip() for name in os.environ.get(TEST_MODULES_ENV, "").split(",") if name.strip())


def _python_path() -> tuple[str, ...]:
    return tuple(path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path)


def _write_all(fd: int, data: bytes) -> None:
    with contextlib.suppress(OSError), open(fd, "wb", closefd=True) as stream:
        stream.write(data)


_landlock_here: bool | None = None


def _open_files_visible() -> bool:
    """Whether a hardened job's open files must be listable by its parent: it makes itself dumpable
    behind Landlock, and its seccomp filter keeps it so."""
    global _landlock_here
    if _landlock_here is None:
        from playground.sandbox import landlock

        _landlock_here = landlock.abi_version() >= 1
    return _landlock_here


@dataclass
class _Child:
    """A running sandbox process, the pipe its messages come on, and its scratch directory."""

    process: _Process
    read_fd: int
    output: IO[bytes]
    reader: MessageReader
    scratch: str
    disk: DiskWatch | None = None
    returncode: int | None = None
    tail_cache: str | None = None
    stack: list[tuple[str, int, str]] = field(default_factory=list)

    @classmethod
    def start(cls, request: CheckRequest | TaskRequest, limits: Limits, cpu: int | None = None) -> _Child:
        scratch_dir = scratch.make()  # playground-job-<our pid>-XXXX, mode 0700: no other user's job looks in
        job = Job(
            request,
            scratch_dir,
            limits,
            python_path=_python_path(),
            test_modules=_test_modules(),
            cpu=cpu,
            strict=strict_mode(),
        )
        data = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        read_fd, write_fd = os.pipe()
        output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in output_tail()
        process: _Process
        try:
            if forkserver.enabled():
                request_r, request_w = os.pipe()
                try:
                    process = forkserver.fork_server().spawn(request_r, output.fileno(), write_fd)
                finally:
                    os.close(request_r)
                # A thread, so a child that dies before reading a big request cannot block us.
                threading.Thread(target=_write_all, args=(request_w, data), daemon=True).start()
            else:
                process = _start_cold(write_fd, output, data)
        except BaseException:
            os.close(read_fd)
            output.close()
            scratch.remove(scratch_dir)
            raise
        finally:
            os.close(write_fd)
        child = cls(process, read_fd, output, MessageReader(), scratch_dir)
        try:
            child.disk = DiskWatch(
                scratch_dir,
                limits.disk_bytes,
                kill=lambda: child.signal(signal.SIGKILL),
                open_files_visible=_open_files_visible(),
            )
            child.disk.start(process.pid)
        except BaseException:
            child.finish(grace=0.0)
            child.output_tail()
            raise
        return child

    def messages(self, deadline: Callable[[], float]) -> Iterator[Any]:
        """Yield messages until the pipe closes; ``TimeoutError`` past the deadline.

        ``deadline`` is asked again after every message, so the caller can move
        it (a new check starts, a new time limit applies). ``None`` is a heartbeat.
        """
        selector = selectors.DefaultSelector()
        selector.register(self.read_fd, selectors.EVENT_READ)
        try:
            while True:
                remaining = deadline() - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                if not selector.select(timeout=min(remaining, QUEUE_POLL_SECONDS)):
                    yield None  # a heartbeat: lets the caller poll (stop buttons, progress)
                    continue
                data = os.read(self.read_fd, 1 << 16)
                if not data:
                    return
                yield from self.reader.feed(data)
        finally:
            selector.close()

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the child's whole process group."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signum)

    def dump_stack(self) -> None:
        """Ask a hung child where it is (faulthandler writes its stack into the output), then kill it."""
        if self.process.poll() is None:
            from playground.sandbox.child import HANG_SIGNAL

            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.process.pid, HANG_SIGNAL)
            deadline = time.monotonic() + STACK_DUMP_SECONDS
            while time.monotonic() < deadline and b"most recent call first" not in self._recent_output():
                time.sleep(0.02)
        self.signal(signal.SIGKILL)

    def _recent_output(self, size: int = 1 << 16) -> bytes:
        try:
            end = os.fstat(self.output.fileno()).st_size
            return os.pread(self.output.fileno(), size, max(0, end - size))
        except OSError:
            return b""

    def finish(self, grace: float = 2.0) -> str:
        """Wait briefly, kill the group if needed, clean up, and describe how the child ended."""
        if self.returncode is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
            if self.disk is not None:
                self.disk.stop()
            self.signal(signal.SIGKILL)
            self.returncode = self.process.wait()
            os.close(self.read_fd)
            scratch.remove(self.scratch)  # whatever modes the job gave its folders
        code = self.returncode
        if self.disk is not None and self.disk.exceeded:
            return self.disk.exceeded
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if name == "SIGXCPU":
                return "your code used up the CPU time allowed for one job and was stopped"
            if name == "SIGSYS":
                return (
                    "the sandbox stopped your code: it made a system call through another ABI "
                    "(a 32-bit or x32 call), which the sandbox does not allow (SIGSYS)"
                )
            return f"the process was killed by {name}" + (" (a crash in native code)" if name == "SIGSEGV" else "")
        return f"the process exited with code {code}"

    def output_tail(self) -> str:
        """The learner's last output, without a stack dump of ours (that goes to :attr:`stack`)."""
        if self.tail_cache is not None:
            return self.tail_cache
        text = self._recent_output().decode("utf-8", errors="replace")
        self.output.close()
        marker = re.search(r"(?:Stack|Current thread 0x[0-9a-f]+) \(most recent call first\):\n", text)
        if marker is not None:
            dump = text[marker.end() :]
            text = text[: marker.start()]
            self.stack = [
                (m.group(1), int(m.group(2)), m.group(3))
                for m in re.finditer(r'^\s+File "(.+)", line (\d+) in (\S+)', dump, flags=re.MULTILINE)
            ]
        self.tail_cache = text[-OUTPUT_TAIL_CHARS:].strip()
        return self.tail_cache


class _ColdProcess:
    """A ``python -m playground.sandbox.child`` child (no fork server), with the same face as a forked one."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen
        self.pid = popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self.popen.wait(timeout=timeout)


def _start_cold(write_fd: int, output: IO[bytes], data: bytes) -> _ColdProcess:
    env = forkserver.zygote_environment()
    env[RESULT_FD_ENV] = str(write_fd)
    popen = subprocess.Popen(
        [sys.executable, "-m", "playground.sandbox.child"],
        stdin=subprocess.PIPE,
        stdout=output,
        stderr=subprocess.STDOUT,
        pass_fds=(write_fd,),
        cwd=PROJECT_ROOT,
        env=env,
        start_new_session=True,
    )
    assert popen.stdin is not None
    threading.Thread(target=_write_all, args=(os.dup(popen.stdin.fileno()), data), daemon=True).start()
    popen.stdin.close()
    return _ColdProcess(popen)


def _with_output(message: str, output: str) -> str:
    return f"{message}\n--- last output ---\n{output}" if output else message


_LIBRARY_DIRS = tuple(
    {os.path.realpath(path) for path in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"])}
)


def _where(stack: list[tuple[str, int, str]], sources: Mapping[str, str]) -> str:
    """'in `f` at exercises/q_network.py line 12: `while True:`' for the innermost learner frame."""
    playground_dir = str(PROJECT_ROOT / "playground")
    for path, line, func in stack:
        real = os.path.realpath(path)
        if real.startswith(playground_dir) or real.startswith(_LIBRARY_DIRS) or path.startswith("<"):
            continue
        text = ""
        match = re.search(r"/_submitted/exercises/(\w+)\.py$", path)
        if match and match.group(1) in sources:
            lines = sources[match.group(1)].splitlines()
            text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            shown = f"exercises/{match.group(1)}.py"
        else:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                lines = Path(path).read_text(encoding="utf-8").splitlines()
                text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            parent = Path(path).parent.name
            shown = f"{parent}/{Path(path).name}" if parent in ("exercises", "solutions") else Path(path).name
        return f"in `{func}` at {shown} line {line}" + (f": `{text}`" if text else "")
    if stack:
        path, line, func = stack[0]
        return f"in `{func}` at {Path(path).name} line {line}"
    return ""


# --- admission ----------------------------------------------------------------------------------


class CheckCancelled(Exception):
    """A Check was cancelled (:func:`run_checks`' ``cancel`` was set): it left the queue, or its child was ended."""

    def __init__(self, results: list[CheckResult]) -> None:
        super().__init__(f"cancelled after {len(results)} check(s)")
        self.results = results  # the checks that finished before the cancel


@contextlib.contextmanager
def _admitted(
    on_queue: Callable[[int], None] | None, cancel: threading.Event | None = None, kind: str | None = None
) -> Iterator[Ticket]:
    """Wait for a slot (telling ``on_queue`` the place in the queue while waiting); release it after."""
    ticket = admission().request(current_owner(), SHORT, kind)
    try:
        while not ticket.wait(QUEUE_POLL_SECONDS):
            if cancel is not None and cancel.is_set():
                raise CheckCancelled([])
            position = ticket.position()
            if position is None:
                break
            if on_queue is not None:
                on_queue(position)  # every poll: a page's callback is where a Cancel click interrupts
        yield ticket
    finally:
        ticket.release()


# --- checks -------------------------------------------------------------------------------------


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
    """Run the checks of ``exercise`` against ``impl`` ("exercises" or "solutions").

    ``sources`` maps exercise module names to submitted source text (the
    browser editor): ``exercises.<name>`` is then that text. ``on_queue`` is
    told the job's 1-based place in the queue, every quarter second while it
    waits for a slot. Setting ``cancel`` (from another thread) ends the Check
    within a quarter second, in the queue or running (its child is killed), and
    raises :class:`CheckCancelled` with the results so far.

    Each check has its own time limit. When a check crashes, it fails with the
    reason and a fresh child runs the rest; when one hangs, it fails naming
    where it was stuck, and the exercise's remaining checks are reported as not run.
    """
    require_impl(impl)
    specs = checks_for(exercise)
    if names is not None:
        unknown = sorted(set(names) - {spec.name for spec in specs})
        if unknown:
            raise ValueError(f"unknown check(s) for {exercise}: {', '.join(unknown)}")
        specs = [spec for spec in specs if spec.name in names]
    submitted = dict(sources or {})
    results: list[CheckResult] = []

    def record(result: CheckResult) -> None:
        results.append(settle(exercise, [*results, result], specs)[-1])  # aimed at the function with the bug
        if on_result is not None:
            on_result(results[-1])

    with _admitted(on_queue, cancel, f"checks:{exercise}") as ticket:
        pending = list(specs)
        while pending:
            done, hung = _run_check_batch(exercise, impl, pending, record, submitted, cancel, ticket.cpu)
            if cancel is not None and cancel.is_set():
                raise CheckCancelled(results)
            pending = pending[done:]
            if hung is not None:
                for spec in pending:
                    record(
                        CheckResult(
                            exercise,
                            spec.name,
                            False,
                            f"not run: the check '{hung}' did not finish, so the rest of this exercise's checks "
                            "were skipped (fix the endless loop first)",
                            "not_run",
                        )
                    )
                break
    return results


def _run_check_batch(
    exercise: str,
    impl: str,
    specs: list[CheckSpec],
    record: Callable[[CheckResult], None],
    sources: dict[str, str],
    cancel: threading.Event | None = None,
    cpu: int | None = None,
) -> tuple[int, str | None]:
    """Run checks in one child until they are all done or the child fails: (results recorded, hung check)."""
    by_name = {spec.name: spec for spec in specs}
    total = sum(spec.timeout for spec in specs) + STARTUP_SECONDS
    request = CheckRequest(exercise, impl, tuple(by_name), sources)
    try:
        child = _Child.start(request, job_limits(total), cpu)
    except (forkserver.ForkServerDied, OSError) as err:
        record(CheckResult(exercise, specs[0].name, False, f"the sandbox could not start the check ({err})", "error"))
        return 1, None
    try:
        return _read_check_batch(child, exercise, specs, by_name, record, sources, cancel)
    finally:
        # Whatever happened (``record`` raising, a signal turned into an exception), the child is
        # ended and its scratch directory removed before the admission ticket is released.
        child.finish(grace=0.0)
        child.output_tail()


def _read_check_batch(
    child: _Child,
    exercise: str,
    specs: list[CheckSpec],
    by_name: dict[str, CheckSpec],
    record: Callable[[CheckResult], None],
    sources: dict[str, str],
    cancel: threading.Event | None,
) -> tuple[int, str | None]:
    """Read the messages of a started batch and record its results (the caller ends the child)."""
    done = 0
    current: CheckSpec | None = specs[0]
    deadline = time.monotonic() + STARTUP_SECONDS + specs[0].timeout
    failure = ""
    hung: str | None = None
    try:
        for message in child.messages(lambda: deadline):  # noqa: B023 - read late on purpose
            if cancel is not None and cancel.is_set():
                break
            if message is None:
                continue
            kind = message[0] if isinstance(message, tuple) and message else None
            if kind == "start" and message[1] in by_name:
                current = by_name[message[1]]
                deadline = time.monotonic() + current.timeout
            elif kind == "result" and isinstance(message[1], CheckResult):
                record(message[1])
                done += 1
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
        child.dump_stack()
        hung = specs[done].name
        failure = f"did not finish within {limit:g} s"
    except (UnsafeMessage, pickle.UnpicklingError, EOFError, ValueError) as err:
        failure = f"the check process sent output that could not be read ({err})"
    if cancel is not None and cancel.is_set():
        child.finish(grace=0.0)
        child.output_tail()
        return done, None
    ended = child.finish(grace=0.5 if failure else 5.0)
    if not failure and child.disk is not None and child.disk.exceeded:
        failure = child.disk.exceeded
    output = child.output_tail()
    if hung is not None:
        where = _where(child.stack, sources)
        failure += f": stuck {where}. Is there an endless loop?" if where else ": is there an endless loop?"
    if done < len(specs):
        broken = specs[done]
        if not failure:
            failure = f"{ended} before reporting a result (a crash, or a call to exit()?)"
        record(CheckResult(exercise, broken.name, False, _with_output(failure, output), "error"))
        done += 1
    return done, hung


# --- tasks --------------------------------------------------------------------------------------


@dataclass
class TaskOutcome:
    """How a task ended: its value, or why there is none."""

    value: Any = None
    error: str = ""
    stopped: bool = False
    output: str = ""
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


class TaskHandle:
    """A task waiting for a slot, then running in the sandbox. Iterate :meth:`progress`, then read :attr:`outcome`."""

    def __init__(
        self, target: str, kwargs: dict[str, Any], timeout: float, sources: Mapping[str, str], lane: Lane = LONG
    ) -> None:
        self.timeout = timeout
        self.started = time.monotonic()
        self.outcome: TaskOutcome | None = None
        self._request = TaskRequest(target, kwargs, dict(sources))
        self._stop_requested = False
        self._cancelled = False
        self._child: _Child | None = None
        self._deadline = 0.0
        self._ticket = admission().request(current_owner(), lane)
        # A handle dropped without being run must not keep its place (or its slot) for ever.
        self._finalizer = weakref.finalize(self, self._ticket.release)

    def queue_position(self) -> int | None:
        """1-based place in the server's queue while waiting for a slot; ``None`` once running or done."""
        if self.outcome is not None or self._child is not None:
            return None
        return self._ticket.position()

    @property
    def queued(self) -> bool:
        return self.queue_position() is not None

    def progress(self) -> Iterator[Any]:
        """Yield each progress message (and ``None`` heartbeats, also while queued) until the task ends."""
        if self.outcome is not None:
            return
        try:
            while not self._ticket.wait(QUEUE_POLL_SECONDS):
                if self._ticket.state != "queued":
                    break
                yield None
            if self._cancelled or self._stop_requested or self._ticket.state != "running":
                self.outcome = TaskOutcome(
                    error="cancelled before it started", stopped=self._stop_requested, cancelled=True
                )
                return
            yield from self._run()
        finally:
            self._ticket.release()

    def _run(self) -> Iterator[Any]:
        self.started = time.monotonic()
        self._deadline = self.started + STARTUP_SECONDS + self.timeout
        try:
            self._child = _Child.start(self._request, job_limits(self.timeout + STARTUP_SECONDS), self._ticket.cpu)
        except (forkserver.ForkServerDied, OSError) as err:
            self.outcome = TaskOutcome(error=f"the sandbox could not start the task ({err})")
            return
        outcome = TaskOutcome(stopped=self._stop_requested)
        child = self._child
        try:
            for message in child.messages(lambda: self._deadline):
                if message is None:
                    yield None
                    continue
                kind = message[0] if isinstance(message, tuple) and message else None
                if kind == "start":  # imports done: the time limit counts from here (a child can only shorten it)
                    self._deadline = min(self._deadline, time.monotonic() + self.timeout)
                elif kind == "progress":
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
            if self._cancelled:
                outcome.error = "cancelled"
            else:
                child.dump_stack()
                outcome.error = f"stopped after the time limit of {self.timeout:g} s"
        except (UnsafeMessage, pickle.UnpicklingError, EOFError, ValueError) as err:
            outcome.error = f"the task sent output that could not be read ({err})"
        finally:
            ended = child.finish(grace=5.0 if not outcome.error else 0.5)
            outcome.output = child.output_tail()
            if child.stack and "time limit" in outcome.error:
                where = _where(child.stack, self._request.sources)
                if where:
                    outcome.error += f" (it was {where})"
            outcome.stopped = self._stop_requested
            outcome.cancelled = self._cancelled
            if self._cancelled and not outcome.error:
                outcome.error = "cancelled"
            if child.disk is not None and child.disk.exceeded and not outcome.error:
                outcome.error = child.disk.exceeded
            if outcome.value is None and not outcome.error:
                outcome.error = f"{ended} before returning a result"
            self.outcome = outcome

    def stop(self, grace: float = 10.0) -> None:
        """Ask the task to stop early; it returns what it has within ``grace`` seconds (or leaves the queue)."""
        self._stop_requested = True
        if self._child is None:
            self._ticket.cancel()
            return
        self._child.signal(signal.SIGUSR1)
        self._deadline = min(self._deadline, time.monotonic() + grace)

    def cancel(self) -> None:
        """Leave the queue, or end a running task at once (without its partial result)."""
        self._cancelled = True
        self._ticket.cancel()
        if self._child is not None:
            self._child.signal(signal.SIGKILL)
            self._deadline = time.monotonic()

    def wait(self) -> TaskOutcome:
        for _ in self.progress():
            pass
        assert self.outcome is not None
        return self.outcome


def start_task(
    target: str,
    timeout: float = 600.0,
    *,
    sources: Mapping[str, str] | None = None,
    lane: Lane = LONG,
    **kwargs: Any,
) -> TaskHandle:
    """Queue ``target`` ("playground.module:function") for the sandbox; it starts once a slot is free.

    ``lane``: "long" (a training) or "short" (a job a page waits for), see :mod:`playground.sandbox.fairness`.
    """
    return TaskHandle(target, kwargs, timeout, sources or {}, lane)


def run_task(
    target: str,
    timeout: float = 600.0,
    *,
    sources: Mapping[str, str] | None = None,
    lane: Lane = SHORT,
    **kwargs: Any,
) -> TaskOutcome:
    """Run a task to the end and return its outcome (no progress); a page waits for it, so the short lane."""
    return start_task(target, timeout, sources=sources, lane=lane, **kwargs).wait()
