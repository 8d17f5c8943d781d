"""Warm sandbox children: a fork server that has already imported torch, NumPy, Gymnasium and the checks.

``python -m playground.sandbox.forkserver`` (the *zygote*) imports everything a job
needs once, with one torch thread and before any thread pool starts, then
waits on a Unix socket. For each job the parent sends three descriptors (the
request pipe, the output file, the result pipe); the zygote forks, and the
child runs the job with :func:`playground.sandbox.child.run_job` (which applies the
limits and the sandbox) and exits. A child never runs a second job, so
nothing leaks from one learner to the next; forking costs milliseconds and
the pages it shares with the zygote are not copied.

No orphans: the zygote gets ``SIGKILL`` when the thread of the parent that
started it dies (Linux parent-death signal; the client starts it from a
thread that lives as long as the parent process), and exits, killing its
children, when its socket to the parent closes. Each child gets ``SIGKILL``
when the zygote dies and cannot undo that (see :mod:`playground.sandbox.hardening`).
So ``kill -9`` of the server or of the CLI takes every sandbox process with it.

:class:`ForkServer` is the parent's side; :func:`fork_server` returns the
process-wide one, starting (or restarting) it when needed.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Any

from playground.core.data_location import database_paths
from playground.core.facts import PROJECT_ROOT
from playground.sandbox.hardening import DATABASE_PATHS_ENV, JOB_SETTINGS

SOCKET_FD_ENV = "PLAYGROUND_FORKSERVER_FD"
PARENT_PID_ENV = "PLAYGROUND_FORKSERVER_PARENT"
ENABLED_ENV = "PLAYGROUND_FORKSERVER"  # "0" runs every job in a cold ``python -m playground.sandbox.child``
WARM_ENV = "PLAYGROUND_FORKSERVER_WARM"  # "0": the zygote only imports (the CLI, which forks one child)
_SPAWN = struct.Struct(">Q")
# Modules the zygote imports so that its children start warm (missing ones are skipped).
PRELOAD = (
    "torch",
    "numpy",
    "pandas",
    "gymnasium",
    "gymnasium.envs.classic_control.cartpole",
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib.font_manager",
    "PIL.Image",
    "pyseccomp",  # finding libseccomp runs ldconfig once here, not in every child
    # Not pygame: importing it installs a SIGSEGV handler (its "parachute") that would turn a learner's
    # segfault into an abort in every child; CartPole's renderer imports it in the jobs that draw.
    "playground.tasks.rollout",
    "playground.checks",
    "playground.checks.q_network",
    "playground.checks.replay_buffer",
    "playground.checks.train_dqn",
    "playground.checks.save_load",
    "playground.checks.network_sizes",
    "playground.tasks.training_task",
    "playground.tasks.experiment_task",
    "playground.tasks.save_load_tasks",
    "playground.sandbox.child",
    "solutions.q_network",
    "solutions.replay_buffer",
    "solutions.train_dqn",
    "solutions.save_load",
    "solutions.network_sizes",
)


class ForkServerDied(RuntimeError):
    """The zygote is gone (killed, or it failed to start)."""


# --- the zygote (child side) -------------------------------------------------------------------


def _preload() -> None:
    import importlib

    import torch

    torch.set_num_threads(1)
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - a missing optional module only makes children slower
            print(f"forkserver: could not preload {name}: {err}", file=sys.stderr, flush=True)
    with contextlib.suppress(Exception):
        from playground.core.envs import register_envs

        register_envs()
    if os.environ.get(WARM_ENV, "1") != "0":
        _exercise_lazy_paths()
    import gc

    gc.collect()
    gc.freeze()  # children then do not touch (and copy) the zygote's objects when they collect


def _exercise_lazy_paths() -> None:
    """Run the reference once on a tiny LineWorld budget and draw one figure, in the zygote.

    Importing torch is not all of a cold start: the first ``optimizer.step()`` imports
    ``torch._dynamo`` and sympy (about 800 modules, 0.8 s here), the first figure loads fonts and
    the first DataFrame of strings starts Arrow. Paying that once here means no child pays it
    again. Only trusted code runs here: the reference solutions.
    """
    try:
        import matplotlib.pyplot as plt
        import pandas as pd

        from playground.core.config import PRESETS
        from solutions.train_dqn import train_dqn

        config = PRESETS["lineworld"].replace(
            total_timesteps=80, learning_starts=20, batch_size=8, buffer_size=100, eval_freq=0, reward_threshold=None
        )
        train_dqn(config)
        pd.DataFrame({"size": ["1x4"], "reward": [1.0]}).groupby("size").mean()
        figure, axes = plt.subplots()
        axes.plot([0, 1], [0, 1], label="warm")
        axes.fill_between([0, 1], [0, 0], [1, 1], alpha=0.2)
        axes.legend()
        figure.canvas.draw()
        plt.close(figure)
    except Exception as err:  # noqa: BLE001 - a failed warm-up only makes the first child slower
        print(f"forkserver: warm-up failed: {err}", file=sys.stderr, flush=True)


def _send(sock: socket.socket, message: tuple[Any, ...]) -> None:
    with contextlib.suppress(OSError):
        sock.send(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _child(sock: socket.socket, wake: tuple[int, int], fds: list[int], zygote_pid: int) -> None:
    """In the forked child: detach from the zygote's plumbing, then run one job and exit."""
    code = 1
    try:
        sock.close()
        for fd in wake:
            os.close(fd)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from playground.sandbox.hardening import set_parent_death_signal

        os.setpgid(0, 0)
        set_parent_death_signal()
        if os.getppid() != zygote_pid:
            os._exit(1)
        request_fd, output_fd, result_fd = fds
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(output_fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        with os.fdopen(request_fd, "rb") as requests:
            job = pickle.load(requests)
        from playground.sandbox.child import run_job
        from playground.sandbox.protocol import Job

        if not isinstance(job, Job):
            raise TypeError(f"unknown job {type(job).__name__}")
        out = os.fdopen(result_fd, "wb", buffering=0)
        code = run_job(job, out)
    except BaseException:  # noqa: BLE001 - the child must never return into the zygote's loop
        import traceback

        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        os._exit(code)


def serve() -> int:
    """The zygote's main loop: fork a child per spawn request, report pids and exit codes."""
    from playground.sandbox.hardening import make_undumpable, set_parent_death_signal

    set_parent_death_signal()
    dumpable = not make_undumpable()  # no job may read our /proc entries (environ, maps, memory)
    expected_parent = int(os.environ.pop(PARENT_PID_ENV, "0") or 0)
    if expected_parent and os.getppid() != expected_parent:
        return 1  # the parent died before we could arm the parent-death signal
    sock = socket.socket(fileno=int(os.environ.pop(SOCKET_FD_ENV)))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl+C is the parent's to handle
    _preload()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    children: set[int] = set()
    my_pid = os.getpid()
    _send(sock, ("ready", my_pid, dumpable))
    try:
        while True:
            readable, _, _ = select.select([sock.fileno(), wake_r], [], [], 1.0)
            if wake_r in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
            if sock.fileno() in readable:
                try:
                    data, fds, _, _ = socket.recv_fds(sock, 64, 3)
                except OSError:
                    break
                if not data:
                    break  # the parent is gone
                (seq,) = _SPAWN.unpack(data)
                if len(fds) != 3:
                    for fd in fds:
                        os.close(fd)
                    _send(sock, ("error", seq, f"expected 3 descriptors, got {len(fds)}"))
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _child(sock, (wake_r, wake_w), fds, my_pid)
                with contextlib.suppress(OSError):
                    os.setpgid(pid, pid)
                for fd in fds:
                    os.close(fd)
                children.add(pid)
                _send(sock, ("spawned", seq, pid))
            while children:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                children.discard(pid)
                _send(sock, ("exited", pid, os.waitstatus_to_exitcode(status)))
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
    return 0


# --- the parent's side -------------------------------------------------------------------------


class ForkedProcess:
    """A sandbox child forked by the zygote: a pid, and its exit code once the zygote reports it."""

    def __init__(self, server: ForkServer) -> None:
        self._server = server
        self.pid = 0
        self.returncode: int | None = None
        self.error = ""

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._server.changed:
            while self.returncode is None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise subprocess.TimeoutExpired("sandbox child", timeout or 0.0)
                self._server.changed.wait(remaining)
        return self.returncode

    def signal_group(self, signum: int) -> None:
        if self.returncode is None and self.pid > 0:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signum)

    def signal(self, signum: int) -> None:
        if self.returncode is None and self.pid > 0:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signum)


def zygote_environment() -> dict[str, str]:
    """The zygote's environment: what Python, torch and matplotlib need, and none of the server's secrets.

    Children inherit it (``/proc/<pid>/environ`` shows it), and then clear
    ``os.environ`` for the learner's code (:func:`playground.sandbox.hardening.enter_scratch`).
    It names the class database's paths (never its URL: that may hold a password), so that every job
    refuses them (:data:`playground.sandbox.hardening.DATABASE_PATHS_ENV`).
    """
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "VIRTUAL_ENV", "MPLCONFIGDIR", "XDG_CACHE_HOME")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(JOB_SETTINGS)
    env["PYTHONUNBUFFERED"] = "1"
    env[DATABASE_PATHS_ENV] = os.pathsep.join(str(path) for path in database_paths())
    if WARM_ENV in os.environ:
        env[WARM_ENV] = os.environ[WARM_ENV]
    return env


class ForkServer:
    """The parent's handle on one zygote. Thread-safe: many sessions spawn through it."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self._send_lock = threading.Lock()
        self._seq = 0
        self._pending: dict[int, ForkedProcess] = {}
        self._children: dict[int, ForkedProcess] = {}
        self.dead = False
        self.ready = threading.Event()
        self.zygote_pid = 0
        self.zygote_dumpable: bool | None = None  # as the zygote reported it when ready
        self.process: subprocess.Popen[bytes] | None = None
        self._sock, self._zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        started = threading.Event()
        # The zygote's parent-death signal follows the thread that started it: a thread that
        # lives as long as this process (it reads the zygote's messages until the end).
        self._thread = threading.Thread(target=self._run, args=(started,), name="playground-forkserver", daemon=True)
        self._thread.start()
        started.wait()
        if self.process is None:
            raise ForkServerDied("the sandbox fork server could not be started")

    def _run(self, started: threading.Event) -> None:
        try:
            env = zygote_environment()
            env[SOCKET_FD_ENV] = str(self._zygote_end.fileno())
            env[PARENT_PID_ENV] = str(os.getpid())
            self.process = subprocess.Popen(
                [sys.executable, "-m", "playground.sandbox.forkserver"],
                pass_fds=(self._zygote_end.fileno(),),
                env=env,
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl+C in the terminal is for the parent, which then closes us
            )
        except OSError:
            self._mark_dead()
            return
        finally:
            self._zygote_end.close()
            started.set()
        self._read_loop()

    def _read_loop(self) -> None:
        try:
            while True:
                data = self._sock.recv(1 << 16)
                if not data:
                    break
                message = pickle.loads(data)
                with self.changed:
                    kind = message[0]
                    if kind == "ready":
                        self.zygote_pid = message[1]
                        self.zygote_dumpable = bool(message[2]) if len(message) > 2 else None
                        self.ready.set()
                    elif kind == "spawned":
                        child = self._pending.pop(message[1], None)
                        if child is not None:
                            child.pid = message[2]
                            self._children[child.pid] = child
                    elif kind == "error":
                        child = self._pending.pop(message[1], None)
                        if child is not None:
                            child.error = str(message[2])
                            child.returncode = 1
                    elif kind == "exited":
                        child = self._children.pop(message[1], None)
                        if child is not None:
                            child.returncode = int(message[2])
                    self.changed.notify_all()
        except OSError:
            pass
        finally:
            self._mark_dead()
            if self.process is not None:
                with contextlib.suppress(OSError):
                    self.process.kill()
                self.process.wait()

    def _mark_dead(self) -> None:
        with self.changed:
            self.dead = True
            for child in [*self._pending.values(), *self._children.values()]:
                if child.returncode is None:
                    child.error = child.error or "the sandbox fork server died"
                    child.returncode = -int(signal.SIGKILL)
            self._pending.clear()
            self._children.clear()
            self.ready.set()
            self.changed.notify_all()

    def spawn(self, request_fd: int, output_fd: int, result_fd: int, timeout: float = 60.0) -> ForkedProcess:
        """Fork a child that reads its job from ``request_fd``; the caller then closes its copies."""
        child = ForkedProcess(self)
        with self.changed:
            if self.dead:
                raise ForkServerDied("the sandbox fork server is not running")
            self._seq += 1
            seq = self._seq
            self._pending[seq] = child
        try:
            with self._send_lock:
                socket.send_fds(self._sock, [_SPAWN.pack(seq)], [request_fd, output_fd, result_fd])
        except OSError as err:
            with self.changed:
                self._pending.pop(seq, None)
            raise ForkServerDied(f"the sandbox fork server is not answering ({err})") from err
        deadline = time.monotonic() + timeout
        with self.changed:
            while child.pid == 0 and child.returncode is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.dead:
                    break
                self.changed.wait(remaining)
            if child.pid == 0:
                self._pending.pop(seq, None)
                raise ForkServerDied(child.error or "the sandbox fork server did not start the job")
        return child

    def close(self) -> None:
        """Stop the zygote (its children die with it)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.kill()


_server: ForkServer | None = None
_server_lock = threading.Lock()


def enabled() -> bool:
    return sys.platform.startswith("linux") and os.environ.get(ENABLED_ENV, "1") != "0"


def fork_server() -> ForkServer:
    """The process-wide fork server, started on first use and restarted if it died."""
    global _server
    with _server_lock:
        if _server is None or _server.dead:
            _server = ForkServer()
        return _server


def warm_up() -> None:
    """Start the fork server now (in the background), so the first job does not wait for torch."""
    if enabled():
        with contextlib.suppress(ForkServerDied, OSError):
            fork_server()


if __name__ == "__main__":
    sys.exit(serve())
