"""Each denied system call of the seccomp filter, once without the filter and once under it alone.

``python -m seccomp_probe`` (run by ``test_sandbox_claims`` in a fresh process, as root with its
capabilities) makes every call of :data:`CALLS` with harmless arguments, then loads only the filter
(:func:`playground.sandbox.seccomp_filter.build` and ``install``: no Landlock, no rlimits, no dropped
capabilities) and makes them again. It prints one JSON object: ``{"before": {name: outcome},
"after": {name: outcome}, "query": outcome}``, where an outcome is ``"returned"`` or an errno name
(``"EPERM"``), and ``query`` is ``personality``'s read-only form under the filter.

The arguments are chosen so that a call that goes through changes nothing outside this process: bad
pointers (``EFAULT``), closed descriptors (``EBADF``), paths that do not exist (``ENOENT``), unknown
commands (``EINVAL``), or a no-op (``unshare(CLONE_NEWUTS)`` gives this process its own host name,
``personality(PER_LINUX)`` and ``sched_setaffinity`` to the CPUs it already has).
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import socket
import threading
from collections.abc import Callable

import pyseccomp  # type: ignore[import-untyped]

from playground.sandbox import seccomp_filter

_CLONE_NEWUTS = 0x04000000
_O_CLOEXEC = 0o2000000
_PER_LINUX = 0
_PERSONALITY_QUERY = 0xFFFFFFFF
_AT_FDCWD = -100
_MISSING = b"/nonexistent/playground-seccomp-probe"
_PR_SET_PDEATHSIG = 1
_TIOCSTI = 0x5412

Arg = int | bytes | ctypes.Array[ctypes.c_ulong] | ctypes.Array[ctypes.c_int]


def _affinity_mask() -> ctypes.Array[ctypes.c_ulong]:
    """This process's current CPU set, as the kernel's bit mask (setting it again changes nothing)."""
    mask = (ctypes.c_ulong * 16)()
    for cpu in os.sched_getaffinity(0):
        mask[cpu // 64] |= 1 << (cpu % 64)
    return mask


# name -> the arguments of a harmless call, and what it does unfiltered as root (for the reader; a kernel built
# without the feature, as this one is without modules and I/O ports, answers ENOSYS: still not the refusal).
CALLS: dict[str, tuple[Callable[[], tuple[Arg, ...]], str]] = {
    # --- around the kernel's walls ---
    "userfaultfd": (lambda: (_O_CLOEXEC,), "a new descriptor"),
    "fanotify_init": (lambda: (0, 0), "a new descriptor (FAN_CLASS_NOTIF)"),
    "pivot_root": (lambda: (0, 0), "EFAULT, after the capability check"),
    "unshare": (lambda: (_CLONE_NEWUTS,), "this process gets its own UTS namespace"),
    "setns": (lambda: (-1, 0), "EBADF"),
    "mount": (lambda: (0, 0, 0, 0, 0), "EFAULT (no target)"),
    "umount2": (lambda: (_MISSING, 0), "ENOENT"),
    "fsopen": (lambda: (0, 0), "EFAULT"),
    "fsconfig": (lambda: (-1, 0, 0, 0, 0), "EINVAL or EBADF"),
    "fsmount": (lambda: (-1, 0, 0), "EBADF"),
    "fspick": (lambda: (-1, 0, 0), "EFAULT"),
    "open_tree": (lambda: (-1, 0, 0), "EFAULT"),
    "open_tree_attr": (lambda: (-1, 0, 0, 0, 0), "EFAULT"),
    "move_mount": (lambda: (-1, 0, -1, 0, 0), "EFAULT"),
    "mount_setattr": (lambda: (-1, 0, 0, 0, 0), "EINVAL"),
    "chroot": (lambda: (_MISSING,), "ENOENT"),
    "bpf": (lambda: (0xFFFF, 0, 0), "EINVAL (no such command)"),
    "perf_event_open": (lambda: (0, 0, -1, -1, 0), "EFAULT (no attributes)"),
    "keyctl": (lambda: (0xFFFF, 0, 0, 0, 0), "EOPNOTSUPP (no such operation)"),
    "add_key": (lambda: (0, 0, 0, 0, 0), "EFAULT"),
    "request_key": (lambda: (0, 0, 0, 0), "EFAULT"),
    "io_uring_setup": (lambda: (1, 0), "EFAULT (no parameters)"),
    "io_uring_enter": (lambda: (-1, 0, 0, 0, 0, 0), "EBADF"),
    "io_uring_register": (lambda: (-1, 0, 0, 0), "EINVAL"),
    "personality": (lambda: (_PER_LINUX,), "sets the persona it already has"),
    "name_to_handle_at": (lambda: (_AT_FDCWD, _MISSING, 0, 0, 0), "ENOENT"),
    "open_by_handle_at": (lambda: (-1, 0, 0), "EFAULT"),
    "memfd_create": (lambda: (b"probe", 0), "a new descriptor"),
    "memfd_secret": (lambda: (0,), "a descriptor, or ENOSYS where secret memory is off"),
    # --- other processes ---
    "process_vm_readv": (lambda: (os.getpid(), 0, 0, 0, 0, 0), "reads nothing from itself"),
    "process_vm_writev": (lambda: (os.getpid(), 0, 0, 0, 0, 0), "writes nothing to itself"),
    "ptrace": (lambda: (2, -1, 0, 0), "ESRCH (PTRACE_PEEKDATA of no process)"),
    "kcmp": (lambda: (os.getpid(), os.getpid(), 1, 0, 0), "0: its memory is its own"),
    "pidfd_open": (lambda: (os.getpid(), 0), "a descriptor of itself"),
    "pidfd_getfd": (lambda: (-1, 0, 0), "EBADF"),
    "pidfd_send_signal": (lambda: (-1, 0, 0, 0), "EBADF"),
    "tkill": (lambda: (threading.get_native_id(), 0), "signal 0 to itself: nothing sent"),
    "rt_sigqueueinfo": (lambda: (os.getpid(), 0, 0), "EFAULT"),
    "rt_tgsigqueueinfo": (lambda: (os.getpid(), threading.get_native_id(), 0, 0), "EFAULT"),
    "setsid": (lambda: (), "a session of its own"),
    "setpgid": (lambda: (0, -1), "EINVAL"),
    "execve": (lambda: (_MISSING, 0, 0), "ENOENT"),
    "execveat": (lambda: (_AT_FDCWD, _MISSING, 0, 0, 0), "ENOENT"),
    # --- the machine ---
    "finit_module": (lambda: (-1, 0, 0), "EBADF"),
    "delete_module": (lambda: (0, 0), "EFAULT"),
    "swapon": (lambda: (0, 0), "EFAULT (no file)"),
    "swapoff": (lambda: (0,), "EFAULT (no file)"),
    "quotactl": (lambda: (0, 0, 0, 0), "ENODEV (no device)"),
    "quotactl_fd": (lambda: (-1, 0, 0, 0), "EBADF"),
    "settimeofday": (lambda: (1, 0), "EFAULT"),
    "clock_settime": (lambda: (0, 1), "EFAULT"),
    "clock_adjtime": (lambda: (0, 1), "EFAULT"),
    "adjtimex": (lambda: (1,), "EFAULT"),
    "sethostname": (lambda: (0, 100_000), "EINVAL (too long)"),
    "setdomainname": (lambda: (0, 100_000), "EINVAL (too long)"),
    "syslog": (lambda: (10, 0, 0), "the size of the kernel's log buffer"),
    "ioperm": (lambda: (0, 0, 0), "nothing to change"),
    "iopl": (lambda: (0,), "the level it already has"),
    "uselib": (lambda: (0,), "EFAULT, or ENOSYS where the call is gone"),
    "lookup_dcookie": (lambda: (0, 0, 0), "ENOSYS where the call is gone"),
    "mbind": (lambda: (0, 0, 0, 0, 0, 0), "nothing to change"),
    "set_mempolicy": (lambda: (0, 0, 0), "the default policy it already has"),
    "move_pages": (lambda: (0, 0, 0, 0, 0, 0), "no pages to move"),
    "migrate_pages": (lambda: (0, 0, 0, 0), "no pages to move, or EINVAL"),
    # --- the job's core and priority ---
    "sched_setaffinity": (lambda: (0, ctypes.sizeof(_affinity_mask()), _affinity_mask()), "the CPUs it has"),
    "sched_setscheduler": (lambda: (0, 0, 0), "EINVAL (no parameters)"),
    "sched_setattr": (lambda: (0, 0, 0), "EINVAL or EFAULT"),
    "setpriority": (lambda: (0, 0, os.getpriority(os.PRIO_PROCESS, 0)), "the niceness it has"),
    "ioprio_set": (lambda: (1, 0, 0), "the default I/O priority"),
    # --- file metadata ---
    "chmod": (lambda: (_MISSING, 0), "ENOENT"),
    "fchmod": (lambda: (-1, 0), "EBADF"),
    "fchmodat": (lambda: (_AT_FDCWD, _MISSING, 0), "ENOENT"),
    "fchmodat2": (lambda: (_AT_FDCWD, _MISSING, 0, 0), "ENOENT"),
    "chown": (lambda: (_MISSING, 0, 0), "ENOENT"),
    "fchown": (lambda: (-1, 0, 0), "EBADF"),
    "lchown": (lambda: (_MISSING, 0, 0), "ENOENT"),
    "fchownat": (lambda: (_AT_FDCWD, _MISSING, 0, 0, 0), "ENOENT"),
    "setxattr": (lambda: (_MISSING, b"user.probe", b"1", 1, 0), "ENOENT"),
    "lsetxattr": (lambda: (_MISSING, b"user.probe", b"1", 1, 0), "ENOENT"),
    "fsetxattr": (lambda: (-1, b"user.probe", b"1", 1, 0), "EBADF"),
    "setxattrat": (lambda: (_AT_FDCWD, _MISSING, 0, b"user.probe", 0, 0), "EINVAL or EFAULT"),
    "removexattr": (lambda: (_MISSING, b"user.probe"), "ENOENT"),
    "lremovexattr": (lambda: (_MISSING, b"user.probe"), "ENOENT"),
    "fremovexattr": (lambda: (-1, b"user.probe"), "EBADF"),
    "removexattrat": (lambda: (_AT_FDCWD, _MISSING, 0, b"user.probe"), "ENOENT"),
    "file_setattr": (lambda: (_AT_FDCWD, _MISSING, 0, 0, 0), "EINVAL (no attributes)"),
    "utime": (lambda: (_MISSING, 0), "ENOENT"),
    "utimes": (lambda: (_MISSING, 0), "ENOENT"),
    "utimensat": (lambda: (-1, _MISSING, 0, 0), "ENOENT"),
    "futimesat": (lambda: (_AT_FDCWD, _MISSING, 0), "ENOENT"),
    # --- the filter's rules on arguments, and its other refusals ---
    "clone3": (lambda: (0, 0), "EINVAL (no arguments)"),
    "socket": (lambda: (int(socket.AF_INET), int(socket.SOCK_STREAM), 0), "a new socket"),
    "socketpair": (lambda: (int(socket.AF_UNIX), int(socket.SOCK_STREAM), 0, (ctypes.c_int * 2)()), "two sockets"),
    "kill": (lambda: (1, 0), "signal 0 to process 1: nothing sent"),
    "tgkill": (lambda: (1, 1, 0), "signal 0 to process 1: nothing sent"),
    "prctl": (lambda: (_PR_SET_PDEATHSIG, 0), "clears its own parent-death signal"),
    "ioctl": (lambda: (-1, _TIOCSTI, 0), "EBADF"),
}
# Denied calls this probe does not make, and why (the escape tests try some of them without capabilities).
NOT_CALLED = {
    "fork": "would make a process (test_sandbox_escape: 'clone a process through libc')",
    "vfork": "would make a process sharing this one's memory",
    "reboot": "too close to harm to call on the test machine, whatever its arguments",
    "kexec_load": "with no segments it unloads the machine's crash kernel",
    "kexec_file_load": "too close to harm to call on the test machine, whatever its arguments",
    "init_module": "too close to harm to call on the test machine, whatever its arguments",
    "acct": "acct(NULL) turns off the machine's process accounting",
    "vhangup": "hangs up the terminal",
}
# The filter's rules beyond the deny list (on arguments, or with another answer than EPERM).
OTHER_RULES = {"clone3", "socket", "socketpair", "kill", "tgkill", "prctl", "personality", "ioctl"}
# What the filter answers instead of EPERM.
REFUSALS = {"clone3": "ENOSYS", "socket": "EACCES", "socketpair": "EACCES"}
# Calls that Debian 12's libseccomp cannot name: their x86-64 numbers (the kernel's syscall_64.tbl).
_NUMBERS = {"setxattrat": 463, "removexattrat": 466, "open_tree_attr": 467, "file_setattr": 469}
_DESCRIPTORS = {"userfaultfd", "fanotify_init", "pidfd_open", "memfd_create", "memfd_secret", "socket"}


def _outcome(result: int) -> str:
    return "returned" if result != -1 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))


def _call_all(libc: ctypes.CDLL) -> dict[str, str]:
    outcomes = {}
    for name, (arguments, _) in CALLS.items():
        number = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
        number = number if number >= 0 else _NUMBERS[name]
        ctypes.set_errno(0)
        args = [ctypes.c_long(a) if isinstance(a, int) else a for a in arguments()]
        result = int(libc.syscall(ctypes.c_long(number), *args))
        outcomes[name] = _outcome(result)
        if name in _DESCRIPTORS and result > 2:
            os.close(result)
    return outcomes


def main() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    before = _call_all(libc)
    status = seccomp_filter.install(seccomp_filter.build(os.getpid()))
    if not status.installed:
        raise SystemExit(f"the filter did not load: {status.error}")
    after = _call_all(libc)
    personality = ctypes.c_long(pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, "personality"))
    query = _outcome(int(libc.syscall(personality, ctypes.c_long(_PERSONALITY_QUERY))))
    print(json.dumps({"before": before, "after": after, "query": query}))


if __name__ == "__main__":
    main()
