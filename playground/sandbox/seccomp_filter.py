"""The seccomp filter of a sandbox child, built with libseccomp (``pyseccomp``).

:func:`install` loads one filter on every thread of the calling process
(``SECCOMP_FILTER_FLAG_TSYNC``). It allows every system call but those below,
which fail with an error code, so Python sees a clean ``OSError`` and C code a
``-1``:

* no new processes or programs: ``fork``, ``vfork``, ``clone`` without
  ``CLONE_THREAD`` (or without ``CLONE_FILES``: a thread with a file table of
  its own would hide its open files from the disk quota), ``clone3``
  (``ENOSYS``: the C library then falls back to ``clone``), ``execve``, ``execveat``; no leaving the process group
  (``setsid``, ``setpgid``);
* no sockets (``socket``, ``socketpair``);
* no signals to another process: ``kill`` and ``tgkill`` only to this process,
  ``tkill``, ``rt_sigqueueinfo``, ``rt_tgsigqueueinfo``, ``pidfd_send_signal``
  refused; ``prctl(PR_SET_PDEATHSIG)`` refused (a job dies with its parent);
* ``prctl(PR_SET_DUMPABLE)``: the job's dumpable flag stays as hardening left it
  (dumpable behind Landlock), so a server that is not root can always list the
  job's open files for the disk quota (:mod:`playground.sandbox.quota`);
* nothing that inspects or reaches into other processes: ``ptrace``,
  ``process_vm_readv``/``writev``, ``kcmp``, ``pidfd_open``, ``pidfd_getfd``;
* nothing that goes around the filter or the kernel's other walls (Docker's
  default profile as a guide): ``io_uring_*`` (its operations are not seen by
  seccomp), ``unshare``, ``setns``, the mount family, ``chroot``,
  ``pivot_root``, ``bpf``, ``perf_event_open``, ``userfaultfd``,
  ``fanotify_init``, ``keyctl``, ``add_key``, ``request_key``,
  ``personality`` (but its read-only query), the file-handle calls, kernel
  modules, ``kexec``, ``reboot``, ``swapon``, clocks, ``acct``, ``quotactl``,
  the NUMA calls, ``ioperm``/``iopl``, ``memfd_create`` (files in memory that no
  disk quota sees), ``ioctl(TIOCSTI)`` (typing into a terminal);
* ``sched_setaffinity`` (the job stays on the core it was pinned to),
  ``sched_setscheduler``/``sched_setattr``, ``setpriority``, ``ioprio_set``;
* file metadata, which Landlock does not cover: the ``chmod``, ``chown``,
  extended-attribute, inode-flag (``file_setattr``) and ``utime`` families (a job may read the app's files,
  and the server's user owns them: it must not change their mode or owner).

Every other architecture's entry point is refused wholesale: a call made
through the 32-bit ``int 0x80`` gate (i386) or with the x32 bit set kills the
whole process with ``SIGSYS`` (libseccomp's "bad architecture" action), so
the list above cannot be dodged by using another ABI's numbers.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from dataclasses import dataclass
from typing import Any

_CLONE_THREAD = 0x00010000
_CLONE_FILES = 0x00000400
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_TIOCSTI = 0x5412
_PERSONALITY_QUERY = 0xFFFFFFFF

# Refused with EPERM (a name this libseccomp cannot resolve is denied by its number in _X86_64_NUMBERS,
# else skipped: a call the library does not know is then also too new for the kernel it was built for).
DENIED = (
    "fork",
    "vfork",
    "execve",
    "execveat",
    "setsid",
    "setpgid",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "tkill",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "open_tree",
    "move_mount",
    "mount_setattr",
    "open_tree_attr",
    "chroot",
    "pivot_root",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "fanotify_init",
    "keyctl",
    "add_key",
    "request_key",
    "name_to_handle_at",
    "open_by_handle_at",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "quotactl_fd",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "syslog",
    "vhangup",
    "ioperm",
    "iopl",
    "uselib",
    "lookup_dcookie",
    "mbind",
    "set_mempolicy",
    "move_pages",
    "migrate_pages",
    "memfd_create",
    "memfd_secret",
    "sched_setaffinity",
    "sched_setscheduler",
    "sched_setattr",
    "setpriority",
    "ioprio_set",
    # File metadata, which Landlock does not cover: a job could otherwise chmod, chown or touch
    # the app's own files (it may read them, and the server's user owns them).
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "setxattrat",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "removexattrat",
    "file_setattr",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
)

# Calls newer than the libseccomp of Debian 12 (2.5.4, which cannot name them, so they went through the
# filter): their numbers in the kernel's x86-64 table (arch/x86/entry/syscalls/syscall_64.tbl, Linux 6.13-6.17).
_X86_64_NUMBERS = {"setxattrat": 463, "removexattrat": 466, "open_tree_attr": 467, "file_setattr": 469}

# Every x86-64 call number after the newest this table knows (469, Linux 6.17) answers ENOSYS, as on an
# older kernel (libraries then fall back), so a call that a future kernel adds cannot go around the walls
# of a filter that allows what it does not name. 50 numbers: several years of new calls.
FUTURE_CALLS = range(470, 520)


@dataclass(frozen=True)
class SeccompStatus:
    """What :func:`install` loaded."""

    installed: bool = False
    foreign_abis_killed: bool = False  # i386 (int 0x80) and x32 calls end the process
    error: str = ""


def _library() -> Any:
    """``pyseccomp``, or ``None`` where libseccomp is missing (it loads ``libseccomp.so.2`` on import)."""
    try:
        import pyseccomp  # type: ignore[import-untyped]
    except (ImportError, RuntimeError, OSError):
        return None
    return pyseccomp


def available() -> bool:
    return sys.platform.startswith("linux") and _library() is not None


def build(own_pid: int) -> Any:
    """The filter (a ``pyseccomp.SyscallFilter``), not loaded; ``own_pid`` is the only signal target."""
    sc = _library()
    if sc is None:
        raise OSError("libseccomp is not installed (Debian: apt install libseccomp2)")
    eperm = sc.ERRNO(errno.EPERM)
    refuse = sc.SyscallFilter(sc.ALLOW)
    # Only the native architecture is in the filter: any other ABI's call (i386 int 0x80, x32) kills us.
    refuse.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    refuse.set_attr(sc.Attr.CTL_TSYNC, 1)
    # A binary tree over the call numbers: an allowed call (every call a job really makes) is compared
    # with a few numbers, not with each rule in turn.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        refuse.set_attr(sc.Attr.CTL_OPTIMIZE, 2)
    x86_64 = os.uname().machine == "x86_64"
    for name in DENIED:
        try:
            refuse.add_rule(eperm, name)
        except (OSError, ValueError):
            if x86_64 and name in _X86_64_NUMBERS:
                refuse.add_rule(eperm, _X86_64_NUMBERS[name])  # the filter holds only the native architecture
    if x86_64:
        for number in FUTURE_CALLS:
            refuse.add_rule(sc.ERRNO(errno.ENOSYS), number)
    refuse.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # glibc then uses clone, whose flags we can see
    refuse.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, _CLONE_THREAD, 0))
    # A thread with a file table of its own would hold files the disk quota cannot see in /proc/<pid>/fd.
    refuse.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, _CLONE_FILES, 0))
    refuse.add_rule(sc.ERRNO(errno.EACCES), "socket")
    refuse.add_rule(sc.ERRNO(errno.EACCES), "socketpair")
    # kill and tgkill: only this process (anything smaller or larger, negative groups included, is refused).
    for name in ("kill", "tgkill"):
        refuse.add_rule(eperm, name, sc.Arg(0, sc.LT, own_pid))
        refuse.add_rule(eperm, name, sc.Arg(0, sc.GT, own_pid))
    refuse.add_rule(eperm, "prctl", sc.Arg(0, sc.EQ, _PR_SET_PDEATHSIG))
    refuse.add_rule(eperm, "prctl", sc.Arg(0, sc.EQ, _PR_SET_DUMPABLE))  # set in harden(), before this loads
    refuse.add_rule(eperm, "personality", sc.Arg(0, sc.NE, _PERSONALITY_QUERY))
    refuse.add_rule(eperm, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, _TIOCSTI))
    return refuse


def prepare() -> Any:
    """The filter for this process, built now (before Landlock: finding libseccomp runs ``ldconfig``),
    or the reason there is none (a ``SeccompStatus``)."""
    if not sys.platform.startswith("linux"):
        return SeccompStatus(error="seccomp exists only on Linux")
    try:
        return build(os.getpid())
    except OSError as err:
        return SeccompStatus(error=str(err))


def install(prepared: Any = None) -> SeccompStatus:
    """Load the filter (:func:`prepare`'s, or a new one) on every thread of this process; what was loaded."""
    refuse = prepare() if prepared is None else prepared
    if isinstance(refuse, SeccompStatus):
        return refuse
    try:
        refuse.load()
    except OSError as err:
        return SeccompStatus(error=str(err))
    return SeccompStatus(installed=True, foreign_abis_killed=True)
