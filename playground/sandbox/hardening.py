"""Inside a sandbox child, before any learner code runs: limits, a scratch directory, a wall.

:func:`harden` is called by :mod:`playground.sandbox` in the child process,
after the request is read and everything the app itself needs is imported,
and before the learner's module is imported. It

* moves into the job's fresh scratch directory and replaces the environment
  with a minimal one (no variable of the server reaches learner code);
* sets resource limits: address space, CPU time, largest file, open files,
  no core files;
* pins the process to the one CPU its admission slot came with, and gives up
  every capability (a server running as root would hand them down);
* installs a Landlock ruleset (Linux, :mod:`playground.sandbox.landlock`): files
  may be read only beneath the Python installation, the app's code folders,
  the system libraries and the scratch directory, and created, written or
  removed only beneath the scratch directory; no TCP; no signals out of the
  job; all of it for C code (``ctypes``) too;
* installs a seccomp filter (Linux, :mod:`playground.sandbox.seccomp_filter`): no
  new programs or processes, no sockets, no signals to other processes, nothing
  that reaches around the kernel's walls (``io_uring``, namespaces, ``bpf``...),
  no change of CPU, and any call through another ABI (32-bit ``int 0x80``,
  x32) kills the job;
* installs an audit hook that refuses, with a message in the learner's words,
  what seccomp cannot see by path: writing files outside the scratch
  directory, reading other processes' ``/proc`` entries, the app's
  ``.streamlit`` secrets or the class database (the data directory and an
  SQLite file the server's ``PLAYGROUND_DATABASE_URL`` names, handed down in
  :data:`DATABASE_PATHS_ENV`; opened by ``open`` or by ``sqlite3``), and that
  refuses the same process, socket and signal operations at the Python level
  (so the message names them).

What this does not stop is written down in ``docs/SANDBOX.md``.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import resource
import signal
import sys
import types
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

from playground.core.facts import EXERCISES, PROJECT_ROOT
from playground.sandbox import landlock, seccomp_filter
from playground.sandbox.landlock import LandlockStatus
from playground.sandbox.protocol import Limits
from playground.sandbox.seccomp_filter import SeccompStatus

SOURCES_DIR = "_submitted"

# --- messages in the learner's words -----------------------------------------------------------

NO_PROCESSES = "the sandbox does not let your code start other programs or processes"
NO_NETWORK = "the sandbox does not let your code open network connections"
NO_SIGNALS = "the sandbox does not let your code send signals to other processes"
NO_WRITE = "the sandbox lets your code write files only in its own working directory"
NO_READ = "the sandbox does not let your code read"


def megabytes(size: int) -> str:
    if size >= 1024**3 and size % 1024**3 == 0:
        return f"{size // 1024**3} GB"
    return f"{size / 1024**2:.0f} MB"


def describe_limit(err: BaseException, limits: Limits) -> str | None:
    """A learner-facing sentence when ``err`` is a resource limit being hit, else ``None``."""
    text = str(err)
    if isinstance(err, MemoryError) or (
        isinstance(err, RuntimeError) and ("can't allocate memory" in text or "DefaultCPUAllocator" in text)
    ):
        return (
            f"your code tried to allocate more than {megabytes(limits.memory_bytes)} of memory "
            f"(the limit for one job): is an array or a buffer far bigger than you meant?"
        )
    if isinstance(err, OSError) and err.errno == errno.EFBIG:
        return (
            f"your code tried to write more than {megabytes(limits.file_bytes)} to one file "
            f"(or to print that much): the limit for one job"
        )
    if isinstance(err, OSError) and err.errno == errno.EMFILE:
        return f"your code opened more than {limits.open_files} files at once (the limit for one job)"
    return None


# --- environment and working directory ---------------------------------------------------------


# Settings every sandbox process runs with (the fork server too): headless plotting and rendering,
# one thread per numeric library, no bytecode files.
JOB_SETTINGS: dict[str, str] = {
    "MPLBACKEND": "Agg",
    "SDL_VIDEODRIVER": "dummy",
    "SDL_AUDIODRIVER": "dummy",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    # pandas keeps strings in Arrow, whose default allocator (mimalloc) first reserves a 1 GiB arena:
    # under the job's address-space limit that reservation fails and a DataFrame of strings cannot be
    # built. The system allocator maps only what is used, so the memory limit measures real use.
    "ARROW_DEFAULT_MEMORY_POOL": "system",
    # One process per job: the admission queue already spreads jobs over the cores.
    "PLAYGROUND_WORKERS": "1",
}


def scrubbed_environment(scratch: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment learner code sees: nothing of the server's."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": scratch,
        "TMPDIR": scratch,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        **JOB_SETTINGS,
    }
    env.update(extra or {})
    return env


def enter_scratch(scratch: str, extra_env: Mapping[str, str] | None = None) -> None:
    os.chdir(scratch)
    os.environ.clear()
    os.environ.update(scrubbed_environment(scratch, extra_env))
    import tempfile

    tempfile.tempdir = scratch
    sys.dont_write_bytecode = True


def install_sources(sources: Mapping[str, str], scratch: str) -> None:
    """Make ``exercises.<name>`` the submitted text: a package whose first directory is in the scratch dir.

    Modules that were not submitted still come from ``exercises/`` on disk.
    Nothing is written into the app's directory. The package is made here even with nothing submitted:
    found through ``sys.path``, it would need a listing of the app's root, which Landlock refuses to a job
    (a finder lists a directory again whenever it changed since the fork server's imports).
    """
    search = [str(PROJECT_ROOT / "exercises")]
    if sources:
        package_dir = Path(scratch) / SOURCES_DIR / "exercises"
        package_dir.mkdir(parents=True)
        for name, text in sources.items():
            if name not in EXERCISES:
                raise ValueError(f"not an exercise module name: {name!r} (one of {', '.join(EXERCISES)})")
            (package_dir / f"{name}.py").write_text(text, encoding="utf-8")
        search.insert(0, str(package_dir))
    spec = ModuleSpec("exercises", None, is_package=True)
    spec.submodule_search_locations = search
    package = types.ModuleType("exercises", "The learner's exercise modules (some submitted from the editor).")
    package.__spec__ = spec
    package.__path__ = search
    package.__package__ = "exercises"
    for name in [key for key in sys.modules if key == "exercises" or key.startswith("exercises.")]:
        del sys.modules[name]
    sys.modules["exercises"] = package


# --- resource limits ---------------------------------------------------------------------------


def _mapped_bytes() -> int:
    with contextlib.suppress(OSError), open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()
    return 0


def apply_limits(limits: Limits) -> None:
    """Set the rlimits of this process. Memory counts on top of what is mapped already."""

    def lower(which: int, soft: int, hard: int | None = None) -> None:
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            soft = min(soft, current_hard)
            hard = current_hard if hard is None else min(hard, current_hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (soft, soft if hard is None else hard))

    mapped = _mapped_bytes()
    if mapped:  # Linux: on top of what is mapped already (elsewhere the total would be a guess)
        lower(resource.RLIMIT_AS, mapped + limits.memory_bytes)
    lower(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 5)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big write fails with EFBIG instead of killing us
    lower(resource.RLIMIT_FSIZE, limits.file_bytes)
    lower(resource.RLIMIT_NOFILE, limits.open_files)
    lower(resource.RLIMIT_CORE, 0)


# --- the layers a child installs, and what it reports about them --------------------------------

_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3
_PR_SET_PDEATHSIG = 1
STRICT_ENV = "PLAYGROUND_SANDBOX"  # "strict": refuse to run learner code when a layer is missing


def strict_mode() -> bool:
    """``PLAYGROUND_SANDBOX=strict``: learner code runs only when every layer holds."""
    return os.environ.get(STRICT_ENV, "").strip().lower() == "strict"


class SandboxUnavailable(RuntimeError):
    """Strict mode, and a layer of the sandbox is missing here: learner code is not run."""


@dataclass(frozen=True)
class Layers:
    """What :func:`harden` installed in this child."""

    seccomp: SeccompStatus
    landlock: LandlockStatus
    cpu: int | None  # the one CPU the job is pinned to (``None``: not pinned)
    dumpable: bool
    no_capabilities: bool = False

    def missing(self) -> list[str]:
        """The layers that are not in place, in a teacher's words (empty when everything holds)."""
        missing = []
        if not self.seccomp.installed:
            missing.append(f"the seccomp filter ({self.seccomp.error or 'not installed'})")
        if not self.landlock.files:
            missing.append(f"Landlock for files ({self.landlock.error or 'not installed'})")
        else:
            if not self.landlock.network:
                missing.append(f"Landlock network rules (kernel ABI {self.landlock.abi}, needs 4: Linux 6.7+)")
            if not self.landlock.scoped:
                missing.append(f"Landlock signal scoping (kernel ABI {self.landlock.abi}, needs 6: Linux 6.12+)")
            if self.landlock.threads > 1:
                missing.append(f"Landlock on every thread ({self.landlock.threads} threads when it was installed)")
        if self.cpu is None:
            missing.append("pinning to one CPU (no sched_setaffinity here)")
        if not self.no_capabilities:
            missing.append("dropping the job's capabilities")
        return missing


installed: Layers | None = None  # what harden() installed in this process (the self-test's probe reads it)


def _prctl(option: int, arg: int = 0) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return int(libc.prctl(option, arg, 0, 0, 0))


def set_dumpable(dumpable: bool) -> bool:
    """Linux: ``PR_SET_DUMPABLE``. A non-dumpable process's ``/proc/<pid>`` entries (``environ``,
    ``maps``, ``mem``...) are closed to other processes of the same user, and it cannot be traced.
    ``True`` when the setting now holds."""
    if not sys.platform.startswith("linux"):
        return False
    _prctl(_PR_SET_DUMPABLE, 1 if dumpable else 0)
    return is_dumpable() == dumpable


def is_dumpable() -> bool:
    return sys.platform.startswith("linux") and _prctl(_PR_GET_DUMPABLE) == 1


def make_undumpable() -> bool:
    """For the processes above the jobs (the server, the fork server, the check command): no job may
    read their ``/proc`` entries. ``True`` when it holds (``False`` off Linux)."""
    return set_dumpable(False)


_CAPABILITY_VERSION_3 = 0x20080522


def drop_capabilities() -> bool:
    """Linux: give up every capability (effective, permitted, inheritable; ambient ones follow).

    A job of a server that runs as root (a container's default) would otherwise keep
    ``CAP_SYS_RESOURCE`` (raise its own rlimits), ``CAP_DAC_OVERRIDE``, ``CAP_SYS_NICE``... With
    ``no_new_privs`` and no ``execve`` they never come back. ``True`` when none is left.
    """
    if not sys.platform.startswith("linux"):
        return False
    header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # two struct __user_cap_data_struct, all zero
    libc = ctypes.CDLL(None, use_errno=True)
    if hasattr(libc, "capset"):
        libc.capset(header, data)
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
    except OSError:
        return False
    return all(int(fields.get(name, "1").strip(), 16) == 0 for name in ("CapEff", "CapPrm", "CapInh"))


def pin_to_cpu(cpu: int | None) -> int | None:
    """Pin every thread of this process to ``cpu``; the CPU, or ``None`` where that is not possible."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return None
    try:
        tids = [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        tids = [0]
    try:
        for tid in tids:
            with contextlib.suppress(ProcessLookupError):  # a thread that just ended
                os.sched_setaffinity(tid, {cpu})
    except OSError:
        return None
    return cpu


def set_parent_death_signal(signum: int = signal.SIGKILL) -> None:
    """Linux: die with ``signum`` when the parent (the thread that forked us) dies."""
    if not sys.platform.startswith("linux"):
        return
    _prctl(_PR_SET_PDEATHSIG, signum)


# --- the audit hook ----------------------------------------------------------------------------

_PROCESS_EVENTS = frozenset(
    {
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "subprocess.Popen",
        "pty.spawn",
        "os.startfile",
    }
)
_NETWORK_EVENTS = frozenset(
    {
        "socket.__new__",
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.gethostbyname_ex",
        "urllib.Request",
    }
)
_SIGNAL_EVENTS = frozenset({"os.kill", "os.killpg", "signal.pthread_kill"})
_PATH_EVENTS = frozenset(
    {
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "os.link",
        "os.symlink",
        "os.truncate",
        "os.utime",
        "os.setxattr",
        "os.removexattr",
        "shutil.rmtree",
        "shutil.move",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.chown",
    }
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_PROC_PID = re.compile(r"^/proc/(\d+)(/|$)")


# The class database's paths on this machine (:func:`playground.core.data_location.database_paths`), joined
# by ``os.pathsep``: the fork server's environment carries them down (:func:`forkserver.zygote_environment`)
# and :func:`harden` reads them before it replaces the environment. Landlock refuses them from C already
# where they are outside its read roots (the defaults are); the audit hook refuses them by name.
DATABASE_PATHS_ENV = "PLAYGROUND_SANDBOX_DATABASE_PATHS"


def database_paths_from_environment() -> list[str]:
    return [os.path.realpath(path) for path in os.environ.get(DATABASE_PATHS_ENV, "").split(os.pathsep) if path]


def sqlite_path(database: Any) -> Any:
    """The file ``sqlite3.connect`` opens for ``database``: a path, or the path of a ``file:`` URI."""
    if isinstance(database, bytes):
        database = os.fsdecode(database)
    if not isinstance(database, str) or not database.startswith("file:"):
        return database
    path = urllib.parse.unquote(database[len("file:") :].split("?", 1)[0].split("#", 1)[0])
    if path.startswith("//"):  # file://host/path: the host is empty or localhost
        path = "/" + path[2:].partition("/")[2]
    return path


class SandboxViolation(PermissionError):
    """Raised by the audit hook: learner code tried something the sandbox does not allow."""


def install_audit_hook(scratch: str, limits: Limits, database: Sequence[str] = ()) -> None:
    """Refuse writes outside ``scratch``, reads of ``.streamlit`` and ``database`` (the class database's
    directory and file), and process, network and signal operations (see the module doc)."""
    root = os.path.realpath(scratch)
    own_pid = os.getpid()
    secrets_dir = os.path.realpath(PROJECT_ROOT / ".streamlit")
    written: set[str] = set()
    allowed_devices = {"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/shm"}
    realpath = os.path.realpath
    fspath = os.fspath
    fsdecode = os.fsdecode

    def resolve(path: Any) -> str | None:
        if isinstance(path, int):
            return None
        try:
            text = fsdecode(fspath(path))
        except TypeError:
            return None
        return realpath(text)

    def inside(path: str, base: str) -> bool:
        return path == base or path.startswith(base.rstrip("/") + "/")

    # Never a folder that holds the job's own scratch directory or the app (a data directory of /tmp
    # would refuse the job everything): the database's file is in the list by name as well.
    database_paths = tuple(
        real
        for real in (os.path.realpath(path) for path in database)
        if not inside(root, real) and not inside(os.path.realpath(PROJECT_ROOT), real)
    )

    def check_write(path: Any) -> None:
        resolved = resolve(path)
        if resolved is None or inside(resolved, root) or resolved in allowed_devices:
            if resolved is not None and resolved not in written and inside(resolved, root):
                written.add(resolved)
                if len(written) > limits.files_written:
                    raise SandboxViolation(
                        f"your code wrote more than {limits.files_written} files (the limit for one job)"
                    )
            return
        raise SandboxViolation(f"{NO_WRITE}: it tried to change {resolved}")

    def check_read(path: Any) -> None:
        resolved = resolve(path)
        if resolved is None:
            return
        match = _PROC_PID.match(resolved)
        if match and int(match.group(1)) != own_pid:
            raise SandboxViolation(f"{NO_READ} other processes' information ({resolved})")
        if inside(resolved, secrets_dir):
            raise SandboxViolation(f"{NO_READ} the app's settings and secrets ({resolved})")
        for path in database_paths:  # a directory and what is in it; a file and its -wal, -shm, -journal
            if inside(resolved, path) or resolved.startswith(path + "-"):
                raise SandboxViolation(f"{NO_READ} the class database ({resolved})")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = (*args, None, None, None)[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing:
                check_write(path)
            else:
                check_read(path)
        elif event == "sqlite3.connect":  # sqlite3 opens its file in C, past the "open" event
            check_read(sqlite_path(args[0] if args else None))
        elif event in _PROCESS_EVENTS:
            raise SandboxViolation(f"{NO_PROCESSES} ({event})")
        elif event in _NETWORK_EVENTS:
            raise SandboxViolation(f"{NO_NETWORK} ({event})")
        elif event in _SIGNAL_EVENTS:
            target = args[0] if args else None
            if event == "os.kill" and target in (own_pid, 0, -own_pid):
                return
            if event == "signal.pthread_kill":
                return  # threads of this process only, by definition
            raise SandboxViolation(f"{NO_SIGNALS} ({event} {target})")
        elif event in _PATH_EVENTS:
            for arg in args[:2]:
                if isinstance(arg, (str, bytes, os.PathLike)):
                    check_write(arg)

    sys.addaudithook(hook)


def harden(
    scratch: str,
    limits: Limits,
    extra_env: Mapping[str, str] | None = None,
    *,
    cpu: int | None = None,
    extra_read: Sequence[str] = (),
    strict: bool = False,
) -> Layers:
    """Everything above, in order; call it once, in the child, right before learner code.

    The order matters: the seccomp filter is built first (finding libseccomp reads files
    Landlock then closes) and loaded last, after the steps that need calls it refuses
    (``sched_setaffinity`` for the CPU pin). With ``strict``, raises
    :class:`SandboxUnavailable` when a layer is missing.
    """
    database = database_paths_from_environment()  # before the environment is replaced
    enter_scratch(scratch, extra_env)
    apply_limits(limits)
    pinned = pin_to_cpu(cpu)
    no_capabilities = drop_capabilities()
    prepared_filter = seccomp_filter.prepare()  # loads libseccomp while every file can still be read
    landlock_status = landlock.restrict(scratch, extra_read)
    # Behind Landlock no other job can open our /proc entries: become dumpable again, so the parent can
    # read our open files for the disk quota. Without Landlock stay as the fork server left us (not dumpable).
    dumpable = set_dumpable(True) if landlock_status.files else is_dumpable()
    seccomp_status = seccomp_filter.install(prepared_filter)
    layers = Layers(seccomp_status, landlock_status, pinned, dumpable, no_capabilities)
    global installed
    installed = layers
    if strict and layers.missing():
        raise SandboxUnavailable(
            f"{STRICT_ENV}=strict and this server lacks part of the sandbox ({'; '.join(layers.missing())}), "
            "so it does not run learner code. `python -m playground.sandbox --self-test` says what holds here."
        )
    install_audit_hook(scratch, limits, database)
    return layers
