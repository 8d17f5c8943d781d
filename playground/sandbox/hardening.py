"""Inside a sandbox child, before any learner code runs: limits, a scratch directory, a wall.

:func:`harden` is called by :mod:`playground.sandbox` in the child process,
after the request is read and everything the app itself needs is imported,
and before the learner's module is imported. It

* moves into the job's fresh scratch directory and replaces the environment
  with a minimal one (no variable of the server reaches learner code);
* sets resource limits: address space, CPU time, largest file, open files,
  no core files;
* installs a Landlock ruleset (Linux): files may be created, written or
  removed only beneath the scratch directory (and ``/dev/null``), even from C;
* installs a seccomp filter (Linux x86-64): no new programs (``execve``), no
  new processes (``fork``/``clone`` without ``CLONE_THREAD``), no sockets, no
  signals to other processes, no ``ptrace``, no leaving the process group,
  no change of the parent-death signal;
* installs an audit hook that refuses, with a message in the learner's words,
  what seccomp cannot see by path: writing files outside the scratch
  directory, reading other processes' ``/proc`` entries or the app's
  ``.streamlit`` secrets, and that refuses the same process, socket and
  signal operations at the Python level (so the message names them).

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
import struct
import sys
import types
from collections.abc import Mapping
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

from playground.core.facts import EXERCISES, PROJECT_ROOT
from playground.sandbox.protocol import Limits

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
    Nothing is written into the app's directory.
    """
    if not sources:
        return
    package_dir = Path(scratch) / SOURCES_DIR / "exercises"
    package_dir.mkdir(parents=True)
    for name, text in sources.items():
        if name not in EXERCISES:
            raise ValueError(f"not an exercise module name: {name!r} (one of {', '.join(EXERCISES)})")
        (package_dir / f"{name}.py").write_text(text, encoding="utf-8")
    search = [str(package_dir), str(PROJECT_ROOT / "exercises")]
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


# --- seccomp -----------------------------------------------------------------------------------

_AUDIT_ARCH_X86_64 = 0xC000003E
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_PR_SET_PDEATHSIG = 1
_SECCOMP_MODE_FILTER = 2
_CLONE_THREAD = 0x00010000
# x86-64 system call numbers
_NR = {
    "socket": 41,
    "socketpair": 53,
    "clone": 56,
    "fork": 57,
    "vfork": 58,
    "execve": 59,
    "kill": 62,
    "ptrace": 101,
    "setpgid": 109,
    "setsid": 112,
    "rt_sigqueueinfo": 129,
    "prctl": 157,
    "tkill": 200,
    "tgkill": 234,
    "rt_tgsigqueueinfo": 297,
    "process_vm_writev": 311,
    "execveat": 322,
    "pidfd_send_signal": 424,
    "clone3": 435,
}


def _ld(offset: int) -> tuple[int, int, int, int]:
    return (0x20, 0, 0, offset)  # BPF_LD | BPF_W | BPF_ABS


def _jeq(value: int, jt: int, jf: int) -> tuple[int, int, int, int]:
    return (0x15, jt, jf, value & 0xFFFFFFFF)


def _jset(value: int, jt: int, jf: int) -> tuple[int, int, int, int]:
    return (0x45, jt, jf, value)


def _ret(value: int) -> tuple[int, int, int, int]:
    return (0x06, 0, 0, value)


def _errno(code: int) -> int:
    return _SECCOMP_RET_ERRNO | code


def seccomp_program(own_pid: int) -> list[tuple[int, int, int, int]]:
    """The BPF program: refuse processes, programs, sockets and signals to others; allow the rest."""
    nr, arg0 = 0, 16
    program = [_ld(4), _jeq(_AUDIT_ARCH_X86_64, 1, 0), _ret(_SECCOMP_RET_ALLOW), _ld(nr)]
    for name in ("fork", "vfork", "execve", "execveat", "ptrace", "setsid", "setpgid", "process_vm_writev"):
        program += [_jeq(_NR[name], 0, 1), _ret(_errno(errno.EPERM))]
    for name in ("rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal", "tkill"):
        program += [_jeq(_NR[name], 0, 1), _ret(_errno(errno.EPERM))]
    program += [_jeq(_NR["socketpair"], 0, 1), _ret(_errno(errno.EACCES))]
    program += [_jeq(_NR["clone3"], 0, 1), _ret(_errno(errno.ENOSYS))]  # glibc then falls back to clone
    # clone: threads only
    program += [_jeq(_NR["clone"], 0, 4), _ld(arg0), _jset(_CLONE_THREAD, 0, 1), _ret(_SECCOMP_RET_ALLOW)]
    program += [_ret(_errno(errno.EPERM))]
    program += [_jeq(_NR["socket"], 0, 1), _ret(_errno(errno.EACCES))]  # no sockets at all
    # kill: this process, or its own process group
    program += [_jeq(_NR["kill"], 0, 6), _ld(arg0), _jeq(own_pid, 3, 0), _jeq(0, 2, 0), _jeq(-own_pid, 1, 0)]
    program += [_ret(_errno(errno.EPERM)), _ret(_SECCOMP_RET_ALLOW)]
    # tgkill: threads of this process
    program += [_jeq(_NR["tgkill"], 0, 4), _ld(arg0), _jeq(own_pid, 1, 0), _ret(_errno(errno.EPERM))]
    program += [_ret(_SECCOMP_RET_ALLOW)]
    # prctl: everything but changing the parent-death signal
    program += [_jeq(_NR["prctl"], 0, 4), _ld(arg0), _jeq(_PR_SET_PDEATHSIG, 0, 1), _ret(_errno(errno.EPERM))]
    program += [_ret(_SECCOMP_RET_ALLOW)]
    program += [_ret(_SECCOMP_RET_ALLOW)]
    return program


def install_seccomp() -> bool:
    """Install :func:`seccomp_program` for this process; ``False`` where the platform has no seccomp."""
    if not sys.platform.startswith("linux") or os.uname().machine != "x86_64":
        return False
    program = seccomp_program(os.getpid())
    data = b"".join(struct.pack("<HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(data, len(data))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program), ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return bool(libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) == 0)


# --- Landlock: no writes outside the scratch directory, for C code too -------------------------

_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_FS_WRITE_FILE = 1 << 1
_FS_DIR_WRITES = sum(1 << bit for bit in range(4, 13))  # remove dir/file, make char/dir/reg/sock/fifo/block/sym
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3


def install_landlock(scratch: str) -> bool:
    """Linux Landlock: this process may create, change or remove files only beneath ``scratch``.

    Unlike the audit hook this also holds for C code (``ctypes``). ``False`` when
    the kernel has no Landlock (then only the audit hook guards writes).
    """
    if not sys.platform.startswith("linux") or os.uname().machine != "x86_64":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), _LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 1:
        return False
    file_rights = _FS_WRITE_FILE | (_FS_TRUNCATE if abi >= 3 else 0)
    handled = file_rights | _FS_DIR_WRITES | (_FS_REFER if abi >= 2 else 0)
    attr = ctypes.c_uint64(handled)
    ruleset = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(8), 0)
    if ruleset < 0:
        return False
    try:
        for path, rights in ((scratch, handled), (os.devnull, file_rights)):
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = struct.pack("<Qi", rights, fd)  # struct landlock_path_beneath_attr (packed)
                buffer = ctypes.create_string_buffer(rule, len(rule))
                if libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH, buffer, 0) != 0:
                    return False
            finally:
                os.close(fd)
        libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return bool(libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) == 0)
    finally:
        os.close(ruleset)


def set_parent_death_signal(signum: int = signal.SIGKILL) -> None:
    """Linux: die with ``signum`` when the parent (the thread that forked us) dies."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)


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


class SandboxViolation(PermissionError):
    """Raised by the audit hook: learner code tried something the sandbox does not allow."""


def install_audit_hook(scratch: str, limits: Limits) -> None:
    """Refuse writes outside ``scratch`` and process, network and signal operations (see the module doc)."""
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


def harden(scratch: str, limits: Limits, extra_env: Mapping[str, str] | None = None) -> None:
    """Everything above, in order; call it once, in the child, right before learner code."""
    enter_scratch(scratch, extra_env)
    apply_limits(limits)
    install_landlock(scratch)
    install_seccomp()
    install_audit_hook(scratch, limits)
