"""The disk quota of a sandbox job, enforced from outside the job: :class:`DiskWatch`.

Nothing inside the child can be trusted to count what it writes (C code writes
past any Python hook), and Linux offers no per-directory quota without
privileges. So the parent watches: a thread measures, every
:data:`POLL_SECONDS`, the space the job's files take

* beneath its scratch directory (every file and directory, by allocated blocks,
  so sparse files count for what they really use), and
* in files the job still holds open after removing them (``/proc/<pid>/fd``
  entries marked ``(deleted)``: a removed file's blocks stay in use while it is
  open). A server that is not root can list them only while the job is
  dumpable, which the hardened job is behind Landlock and cannot change (seccomp
  refuses ``PR_SET_DUMPABLE``); a list that was readable, or should be, and is
  not any more stops the job as a violation rather than counting nothing;

and kills the job's process group as soon as the total passes the job's
``disk_bytes``, or the scratch directory holds more than :data:`MAX_ENTRIES`
files and directories. The runner then reports the reason and removes the
scratch directory.

The bound is not exact: between two looks, the job can write at the disk's
speed, and one ``write`` is at most the largest-file limit (``RLIMIT_FSIZE``).
So the space in use can pass the quota by what the disk absorbs in
:data:`POLL_SECONDS` plus the time a measurement takes (see docs/SANDBOX.md for
the figure measured here) before the job is killed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Callable

from playground.sandbox import scratch

POLL_SECONDS = 0.05
MAX_ENTRIES = 1_000  # Python code may write 64 files (the audit hook); only C code gets near this
DISK_ENV = "PLAYGROUND_JOB_DISK_MB"
DEFAULT_DISK_MB = 256


def disk_limit_bytes() -> int:
    """``PLAYGROUND_JOB_DISK_MB`` (default 256) in bytes."""
    megabytes = DEFAULT_DISK_MB
    with contextlib.suppress(ValueError):
        megabytes = int(os.environ.get(DISK_ENV, "") or megabytes)
    return max(1, megabytes) * 1024 * 1024


def tree_usage(root: str, limit_entries: int = MAX_ENTRIES) -> tuple[int, int, set[tuple[int, int]]]:
    """(bytes allocated, entries, the (device, inode) of every file) beneath ``root``; stops counting entries
    at ``limit_entries + 1``.

    A folder the job made unreadable or unsearchable to its own user (``mkdir`` with mode 0300, a
    umask) is opened up to its owner first (:func:`playground.sandbox.scratch.grant_owner`): the
    job runs as our user, so no mode it picks hides a byte from us (it cannot ``chmod``: seccomp)."""
    total = 0
    entries = 0
    inodes: set[tuple[int, int]] = set()
    stack = [root]
    while stack and entries <= limit_entries:
        folder = stack.pop()
        try:
            listing = scratch.open_listing(folder)
        except OSError:
            continue
        with listing:
            for entry in listing:
                entries += 1
                try:
                    info = scratch.entry_stat(entry, folder)
                except OSError:
                    continue
                total += info.st_blocks * 512
                inodes.add((info.st_dev, info.st_ino))
                if stat.S_ISDIR(info.st_mode):
                    stack.append(entry.path)
    return total, entries, inodes


def deleted_open_usage(pid: int, seen: set[tuple[int, int]]) -> int | None:
    """Bytes allocated to removed regular files that process ``pid`` still holds open (not in ``seen``);
    ``None`` when its open files cannot be listed (the process is not dumpable, and we are not root)."""
    total = 0
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except PermissionError:
        return None
    except OSError:
        return 0  # the process is gone
    for name in names:
        path = f"{fd_dir}/{name}"
        try:
            if not os.readlink(path).endswith(" (deleted)"):
                continue
            info = os.stat(path)
        except OSError:
            continue
        key = (info.st_dev, info.st_ino)
        if stat.S_ISREG(info.st_mode) and key not in seen:
            seen.add(key)
            total += info.st_blocks * 512
    return total


def seccomp_filters(pid: int | str) -> int | None:
    """How many seccomp filters process ``pid`` (or ``"self"``) runs under (``Seccomp_filters`` in its
    status, Linux 5.9+), or ``None`` when unknown."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Seccomp_filters:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def filter_loaded(pid: int) -> bool:
    """Whether job ``pid`` has loaded its own seccomp filter, that is, finished its hardening (the filter
    is loaded last): it runs under more filters than this process (a container's runtime may put one on
    every process, the job's parent included)."""
    theirs, ours = seccomp_filters(pid), seccomp_filters("self")
    return theirs is not None and ours is not None and theirs > ours


class DiskWatch:
    """Watch one job's disk use from the parent; call ``kill`` (once) past the quota."""

    def __init__(
        self,
        scratch_dir: str,
        limit_bytes: int,
        kill: Callable[[], None],
        max_entries: int = MAX_ENTRIES,
        *,
        open_files_visible: bool = False,
    ) -> None:
        self.scratch = scratch_dir
        self.kill = kill
        self.limit_bytes = limit_bytes
        self.max_entries = max_entries
        self.pid = 0
        self.exceeded = ""  # why the job was killed, in the learner's words ("" while within bounds)
        self.peak_bytes = 0
        # Whether the job's open files must be listable once it is hardened: it then makes itself
        # dumpable (behind Landlock), and its seccomp filter refuses PR_SET_DUMPABLE from then on.
        self.open_files_visible = open_files_visible
        self.open_files_hidden = False
        self._open_files_seen = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pid: int) -> None:
        self.pid = pid
        self._thread = threading.Thread(target=self._run, name=f"playground-disk-{pid}", daemon=True)
        self._thread.start()

    def measure(self) -> tuple[int, int]:
        """(bytes in use, entries) right now."""
        used, entries, inodes = tree_usage(self.scratch, self.max_entries)
        if self.pid > 0:
            held = deleted_open_usage(self.pid, inodes)
            if held is not None:
                self._open_files_seen = True
                used += held
            elif self._open_files_seen or (self.open_files_visible and filter_loaded(self.pid)):
                # Listed before, or listable by design once hardened: the job hid them. Counting 0
                # would let it fill the disk with removed files it keeps open.
                self.open_files_hidden = True
        return used, entries

    def check(self) -> bool:
        """Measure once; kill the job and return ``True`` when it is over its quota."""
        used, entries = self.measure()
        self.peak_bytes = max(self.peak_bytes, used)
        if self.open_files_hidden:
            self.exceeded = (
                "your code hid the files it holds open from the sandbox's disk limit "
                "(it made its process non-dumpable), so it was stopped and its files were removed"
            )
        elif used > self.limit_bytes:
            self.exceeded = (
                f"your code wrote more than {self.limit_bytes // (1024 * 1024)} MB of files "
                "(the disk limit for one job), so it was stopped and its files were removed"
            )
        elif entries > self.max_entries:
            self.exceeded = (
                f"your code created more than {self.max_entries} files and folders "
                "(the limit for one job), so it was stopped and its files were removed"
            )
        if self.exceeded:
            self.kill()
        return bool(self.exceeded)

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            if self.check():
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
