"""Linux Landlock for a sandbox child: what it may read, write and connect to, even from C.

:func:`restrict` installs one Landlock ruleset on the calling process. Every
file-system access right the kernel knows is *handled*, so anything not granted
below is refused (``EACCES``), whatever makes the call: Python, ``ctypes`` or a
compiled extension.

* **Read** (files and directory listings) only beneath the roots that
  :func:`read_roots` names: the Python installation and every import path
  (``sys.path``, except the app's own root), the app's code folders
  (``playground``, ``exercises``, ``solutions``; never ``.streamlit``, ``.git``
  or the rest of the app's folder), the system's libraries and shared data
  (``/usr``, ``/lib*``, a few files of ``/etc``), this process's own ``/proc``
  entry, a few ``/proc``, ``/sys`` and ``/dev`` entries the numeric libraries
  read, and the job's scratch directory. Other jobs' scratch directories,
  the rest of ``/tmp``, ``/var/tmp``, ``/dev/shm``, the home directory and
  every other process's ``/proc`` entry are refused.
* **Write, create, remove, rename, truncate** only beneath the scratch
  directory (and ``/dev/null``).
* **TCP** (ABI 4, Linux 6.7+): ``bind`` and ``connect`` refused on every port.
* **Scoping** (ABI 6, Linux 6.12+): no signal to, and no abstract Unix socket of,
  a process outside this job's Landlock domain.

Landlock restricts the calling thread and the threads and processes it starts
afterwards. A sandbox child calls this while it is single-threaded
(:func:`thread_count` says whether it is).
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from playground.core.facts import PROJECT_ROOT

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

_FILE_RIGHTS_ABI1 = EXECUTE | WRITE_FILE | READ_FILE
_DIR_RIGHTS_ABI1 = READ_DIR | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG
_DIR_RIGHTS_ABI1 |= MAKE_SOCK | MAKE_FIFO | MAKE_BLOCK | MAKE_SYM

# Beneath the app's root, only these folders are read (the code a job runs).
APP_CODE_FOLDERS = ("playground", "exercises", "solutions")
# The system's libraries and shared data (fonts, time zones, locales).
SYSTEM_ROOTS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/usr/lib64")
# Single files of /etc that the C library, fonts and time zones read.
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/fonts",
    "/etc/mime.types",
    "/etc/nsswitch.conf",
    "/etc/matplotlibrc",
)
# What torch, NumPy and OpenMP read about the machine.
MACHINE_FILES = (
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/sys/vm/overcommit_memory",
    "/sys/devices/system/cpu",
    "/sys/devices/system/node",
    "/sys/fs/cgroup/cpu.max",
    "/sys/fs/cgroup/memory.max",
)
DEVICES_READ = ("/dev/zero", "/dev/urandom", "/dev/random")


@dataclass(frozen=True)
class LandlockStatus:
    """What :func:`restrict` installed (``abi`` 0: nothing, the kernel has no Landlock)."""

    abi: int = 0
    files: bool = False  # reads and writes of files are restricted
    network: bool = False  # TCP bind and connect refused (ABI 4+)
    scoped: bool = False  # signals and abstract Unix sockets scoped to the job (ABI 6+)
    threads: int = 1  # threads of the process when it was installed (only the caller's are restricted)
    error: str = ""


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 when it has none (or this is not Linux x86-64)."""
    if not sys.platform.startswith("linux") or os.uname().machine != "x86_64":
        return 0
    version = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(0, int(version))


def thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _inside(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip("/") + "/")


def read_roots(scratch: str, extra: Iterable[str] = ()) -> list[str]:
    """Every path a job may read beneath (existing ones only)."""
    root = os.path.realpath(PROJECT_ROOT)
    scratches = os.path.dirname(os.path.realpath(scratch))  # where every job's scratch directory lives
    roots: list[str] = [str(Path(root) / folder) for folder in APP_CODE_FOLDERS]
    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for entry in [*python, *sys.path, *extra]:
        if not entry:
            continue
        real = os.path.realpath(entry)
        # Never the app's root or a folder above it (that would open .streamlit and .git), nor a
        # folder that holds the jobs' scratch directories (that would open the other jobs').
        if _inside(root, real) or _inside(scratches, real) or real == "/":
            continue
        roots.append(real)
    roots += [*SYSTEM_ROOTS, *ETC_FILES, *MACHINE_FILES, *DEVICES_READ, "/proc/self", scratch]
    seen: set[str] = set()
    found = []
    for path in roots:
        real = os.path.realpath(path)
        if real not in seen and os.path.exists(real):
            seen.add(real)
            found.append(real)
    return found


def _add_rule(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS_ABI1 | TRUNCATE | IOCTL_DEV  # a file takes only the rights of files
        rule = struct.pack("<Qi", rights, fd)  # struct landlock_path_beneath_attr (packed)
        buffer = ctypes.create_string_buffer(rule, len(rule))
        if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, buffer, 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule({path}): {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def restrict(scratch: str, extra_read: Iterable[str] = ()) -> LandlockStatus:
    """Install the ruleset described in the module's doc on this process; what was installed."""
    abi = abi_version()
    if abi < 1:
        return LandlockStatus(error="the kernel has no Landlock (Linux 5.13+ with Landlock in its LSM list)")
    libc = _libc()
    handled_fs = _FILE_RIGHTS_ABI1 | _DIR_RIGHTS_ABI1
    handled_fs |= REFER if abi >= 2 else 0
    handled_fs |= TRUNCATE if abi >= 3 else 0
    handled_fs |= IOCTL_DEV if abi >= 5 else 0
    handled_net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    # struct landlock_ruleset_attr grew with the ABI: handled_access_fs, then _net (4), then scoped (6).
    if abi >= 6:
        attr = struct.pack("<QQQ", handled_fs, handled_net, scoped)
    elif abi >= 4:
        attr = struct.pack("<QQ", handled_fs, handled_net)
    else:
        attr = struct.pack("<Q", handled_fs)
    attr_buffer = ctypes.create_string_buffer(attr, len(attr))
    ruleset = int(libc.syscall(_SYS_CREATE_RULESET, attr_buffer, ctypes.c_size_t(len(attr)), 0))
    if ruleset < 0:
        return LandlockStatus(abi=abi, error=f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}")
    threads = thread_count()
    try:
        for path in read_roots(scratch, extra_read):
            _add_rule(libc, ruleset, path, READ_FILE | READ_DIR)
        _add_rule(libc, ruleset, scratch, handled_fs & ~EXECUTE & ~IOCTL_DEV)
        _add_rule(libc, ruleset, os.devnull, READ_FILE | WRITE_FILE | (TRUNCATE if abi >= 3 else 0) | IOCTL_DEV)
        for device in DEVICES_READ:
            if os.path.exists(device):
                _add_rule(libc, ruleset, device, READ_FILE | IOCTL_DEV)
        libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return LandlockStatus(abi=abi, error="prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
            return LandlockStatus(abi=abi, error=f"landlock_restrict_self: {os.strerror(ctypes.get_errno())}")
    except OSError as err:
        return LandlockStatus(abi=abi, error=str(err))
    finally:
        os.close(ruleset)
    return LandlockStatus(abi=abi, files=True, network=bool(handled_net), scoped=bool(scoped), threads=threads)
