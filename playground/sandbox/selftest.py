"""What holds on this deployment: ``python -m playground.sandbox --self-test``, and the server's start-up line.

:func:`run_self_test` runs a few probe jobs through the same queue, fork
server and sandbox child as a learner's Check, and each probe *tries* what the
layer should stop, from inside the hardened child:

* the seccomp filter: ``fork``, ``socket``, ``io_uring_setup`` through libc;
  a 32-bit ``int 0x80`` call and an x32 call, each in its own job (the
  filter kills the job, so the parent reads the outcome);
* Landlock: reading the app's ``.streamlit`` folder and ``/etc/passwd``,
  writing ``/var/tmp``; its ABI, and whether TCP and signals are covered;
* the capabilities it holds (none) and the rlimits it runs under; the CPU it is pinned to, and whether it can
  move; the disk quota (a job that writes past a small quota must be stopped);
* the processes above the jobs: whether this process and the fork server
  are non-dumpable.

It prints one line per layer and exits 0 when everything holds, 1 otherwise.
:func:`server_start` is what the Streamlit server calls once at start: it
makes the server non-dumpable and logs :func:`status_line`.

The probes below run inside the sandbox child (they are tasks, like training):
they are the app's own code, not the learner's.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import mmap
import os
import resource
import struct
import sys
from dataclasses import asdict
from typing import Any

from playground.core.facts import PROJECT_ROOT
from playground.sandbox import hardening, landlock, quota, seccomp_filter

_X32_GETPID = 0x40000000 | 39
_I386_GETPID = 20


# --- probes: tasks that run inside a hardened sandbox child ---------------------------------------


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _errno_of(result: int) -> int:
    return ctypes.get_errno() if result == -1 else 0


def probe_layers(ctx: Any) -> dict[str, Any]:
    """Inside the child: what harden() installed, and what each wall actually refuses from C."""
    libc = _libc()
    refused: dict[str, bool] = {}
    refused["fork"] = libc.fork() == -1
    refused["socket"] = libc.socket(2, 1, 0) == -1
    refused["io_uring_setup"] = _errno_of(libc.syscall(425, 8, 0)) == errno.EPERM
    for name, path, flags in (
        ("read .streamlit", str(PROJECT_ROOT / ".streamlit"), os.O_RDONLY | os.O_DIRECTORY),
        ("read /etc/passwd", "/etc/passwd", os.O_RDONLY),
        ("write /var/tmp", "/var/tmp/playground-self-test", os.O_WRONLY | os.O_CREAT),
        ("write /dev/shm", "/dev/shm/playground-self-test", os.O_WRONLY | os.O_CREAT),
    ):
        fd = libc.open(path.encode(), flags, 0o600)
        refused[name] = fd == -1
        if fd >= 0:
            libc.close(fd)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    moved = False
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
        moved = True
    layers = hardening.installed
    limits = {
        name: resource.getrlimit(getattr(resource, name))[0]
        for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")
    }
    return {
        "layers": None if layers is None else asdict(layers),
        "refused": refused,
        "cpus": cpus,
        "cpu_change_refused": not moved,
        "rlimits": limits,
        "threads": landlock.thread_count(),
    }


def _int80(number: int) -> int:
    """A system call through the i386 gate (``int 0x80``) with no arguments."""
    # push rbx; mov eax, number; int 0x80; pop rbx; ret
    code = b"\x53\xb8" + struct.pack("<I", number) + b"\xcd\x80\x5b\xc3"
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    function = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
    return int(function())


def probe_foreign_abi(ctx: Any, abi: str) -> str:
    """Inside the child: ``getpid`` through another ABI. The filter should kill us before we return."""
    result = _int80(_I386_GETPID) if abi == "i386" else int(_libc().syscall(ctypes.c_long(_X32_GETPID)))
    if result == os.getpid():
        return "ran"  # the call went through: that ABI is not filtered
    return f"failed without killing the job (returned {result}, errno {ctypes.get_errno()})"


def probe_disk(ctx: Any, megabytes: int) -> str:
    """Inside the child: write ``megabytes`` MB through libc, 1 MB at a time; the quota should stop us first."""
    libc = _libc()
    block = b"x" * (1 << 20)
    fd = libc.open(b"fill.bin", os.O_WRONLY | os.O_CREAT, 0o600)
    written = 0
    for index in range(megabytes):
        if index % 30 == 29:  # the largest-file limit: go on in a new file
            libc.close(fd)
            fd = libc.open(f"fill{index}.bin".encode(), os.O_WRONLY | os.O_CREAT, 0o600)
        written += max(0, int(libc.write(fd, block, len(block))))
    import time

    time.sleep(2.0)  # time for the parent's watcher to notice
    return f"wrote {written // (1 << 20)} MB and was not stopped"


# --- the parent's side ------------------------------------------------------------------------------


def status_line() -> str:
    """One line for the server's log: what this machine offers the sandbox (without running a job)."""
    abi = landlock.abi_version()
    if abi >= 6:
        walls = "files read+write, TCP, signal scoping"
    elif abi >= 4:
        walls = "files read+write, TCP"
    else:
        walls = "files read+write"
    parts = [
        "seccomp: " + ("all ABIs (i386/x32 calls kill the job)" if seccomp_filter.available() else "MISSING"),
        f"Landlock ABI {abi} ({walls})" if abi else "Landlock: MISSING",
        f"pinning: {len(os.sched_getaffinity(0))} CPUs" if hasattr(os, "sched_getaffinity") else "pinning: MISSING",
        f"disk quota {quota.disk_limit_bytes() // (1024 * 1024)} MB per job",
        "server non-dumpable" if not hardening.is_dumpable() else "server dumpable",
        "mode strict" if hardening.strict_mode() else "mode default (degrades when a layer is missing)",
    ]
    return "sandbox: " + "; ".join(parts) + " (details: python -m playground.sandbox --self-test)"


SELF_TEST_AT_START_ENV = "PLAYGROUND_SANDBOX_SELF_TEST"  # "1": the server also runs the probes once, in its log


def _log_self_test() -> None:
    for _, line in run_self_test():
        print(f"sandbox self-test: {line}", file=sys.stderr, flush=True)


def server_start() -> str:
    """Once, when the Streamlit server starts: no job may read our ``/proc`` entries; log what holds.

    With ``PLAYGROUND_SANDBOX_SELF_TEST=1`` (where no shell runs ``--self-test``: Community Cloud)
    the server also runs the self-test's probe jobs once, in the background, and logs their lines.
    """
    hardening.make_undumpable()
    line = status_line()
    print(line, file=sys.stderr, flush=True)
    if os.environ.get(SELF_TEST_AT_START_ENV, "") == "1":
        import threading

        threading.Thread(target=_log_self_test, name="playground-sandbox-self-test", daemon=True).start()
    return line


def _line(ok: bool, layer: str, detail: str) -> tuple[bool, str]:
    return ok, f"{'holds  ' if ok else 'MISSING'}  {layer}: {detail}"


def _error(status: dict[str, Any]) -> str:
    return f" ({status['error']})" if status.get("error") else ""


def run_self_test() -> list[tuple[bool, str]]:
    """Run the probes through the real sandbox; ``(holds, line)`` per layer."""
    from playground.sandbox import forkserver
    from playground.sandbox.runner import run_task

    hardening.make_undumpable()
    target = "playground.sandbox.selftest"
    lines: list[tuple[bool, str]] = []
    outcome = run_task(f"{target}:probe_layers", timeout=60)
    if not outcome.ok:
        return [(False, f"MISSING  the sandbox child: the probe job failed: {outcome.error}")]
    report = outcome.value
    layers = report["layers"] or {}
    seccomp = layers.get("seccomp", {})
    refused = report["refused"]
    lines.append(
        _line(
            bool(seccomp.get("installed")) and refused["fork"] and refused["socket"] and refused["io_uring_setup"],
            "seccomp (x86-64)",
            f"fork refused {refused['fork']}, socket refused {refused['socket']}, "
            f"io_uring refused {refused['io_uring_setup']}" + _error(seccomp),
        )
    )
    for abi in ("i386", "x32"):
        foreign = run_task(f"{target}:probe_foreign_abi", timeout=30, abi=abi)
        killed = "SIGSYS" in foreign.error
        detail = "kill the job" if killed else (foreign.error or str(foreign.value))
        lines.append(_line(killed, f"seccomp ({abi} calls)", detail))
    lock = layers.get("landlock", {})
    lines.append(
        _line(
            bool(lock.get("files")) and refused["read .streamlit"] and refused["read /etc/passwd"],
            "Landlock reads",
            f"ABI {lock.get('abi', 0)}; .streamlit refused {refused['read .streamlit']}, "
            f"/etc/passwd refused {refused['read /etc/passwd']}" + _error(lock),
        )
    )
    lines.append(
        _line(
            bool(lock.get("files")) and refused["write /var/tmp"] and refused["write /dev/shm"],
            "Landlock writes",
            f"/var/tmp refused {refused['write /var/tmp']}, /dev/shm refused {refused['write /dev/shm']}",
        )
    )
    lines.append(_line(bool(lock.get("network")), "Landlock TCP", "bind and connect refused (ABI 4+)"))
    scoping = "signals and abstract sockets stay in the job (ABI 6+)"
    lines.append(_line(bool(lock.get("scoped")), "Landlock scoping", scoping))
    lines.append(
        _line(
            len(report["cpus"]) == 1 and report["cpu_change_refused"],
            "one core per job",
            f"pinned to CPU {report['cpus']}, moving refused {report['cpu_change_refused']}",
        )
    )
    lines.append(_line(bool(layers.get("no_capabilities")), "capabilities", "the job holds none"))
    limits = report["rlimits"]
    lines.append(
        _line(
            all(value != resource.RLIM_INFINITY for value in limits.values()),
            "rlimits",
            ", ".join(f"{name.removeprefix('RLIMIT_')} {value}" for name, value in limits.items()),
        )
    )
    # Past this server's own quota (the job is stopped there; nothing else changes for other jobs).
    quota_mb = quota.disk_limit_bytes() // (1024 * 1024)
    disk = run_task(f"{target}:probe_disk", timeout=60, megabytes=quota_mb + 64)
    lines.append(_line("disk limit" in disk.error, "disk quota", disk.error or str(disk.value)))
    server = forkserver.fork_server() if forkserver.enabled() else None
    zygote = None if server is None else server.zygote_dumpable
    lines.append(
        _line(
            not hardening.is_dumpable() and zygote is not True,
            "non-dumpable",
            f"this process {not hardening.is_dumpable()}, fork server "
            + ("not used" if zygote is None else str(not zygote)),
        )
    )
    return lines


def main() -> int:
    """``python -m playground.sandbox --self-test``."""
    hardening.make_undumpable()
    print(status_line(), flush=True)
    lines = run_self_test()
    for _, line in lines:
        print(line, flush=True)
    missing = [line for ok, line in lines if not ok]
    print("every layer holds here" if not missing else f"{len(missing)} layer(s) missing here", flush=True)
    return 0 if not missing else 1
