"""The disk quota of a sandbox job, enforced from outside the job: :class:`DiskWatch`.

Nothing inside the child can be trusted to count what it writes (C code writes
past any Python hook), and Linux offers no per-directory quota without
privileges. So the parent watches: a thread measures, every
:data:`POLL_SECONDS`, the space the job's files take

* beneath its scratch directory (every file and directory, by allocated blocks,
  so sparse files count for what they really use), and
* in files the job still holds open after removing them (``/proc/<pid>/fd``
  entries marked ``(deleted)``: a removed file's blocks stay in use while it is
  open);

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
    at ``limit_entries + 1``."""
    total = 0
    entries = 0
    inodes: set[tuple[int, int]] = set()
    stack = [root]
    while stack and entries <= limit_entries:
        try:
            scanner = os.scandir(stack.pop())
        except OSError:
            continue
        with scanner:
            for entry in scanner:
                entries += 1
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                total += info.st_blocks * 512
                inodes.add((info.st_dev, info.st_ino))
                if stat.S_ISDIR(info.st_mode):
                    stack.append(entry.path)
    return total, entries, inodes


def deleted_open_usage(pid: int, seen: set[tuple[int, int]]) -> int:
    """Bytes allocated to removed regular files that process ``pid`` still holds open (not in ``seen``)."""
    total = 0
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return 0
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


class DiskWatch:
    """Watch one job's disk use from the parent; call ``kill`` (once) past the quota."""

    def __init__(
        self, scratch: str, limit_bytes: int, kill: Callable[[], None], max_entries: int = MAX_ENTRIES
    ) -> None:
        self.scratch = scratch
        self.kill = kill
        self.limit_bytes = limit_bytes
        self.max_entries = max_entries
        self.pid = 0
        self.exceeded = ""  # why the job was killed, in the learner's words ("" while within bounds)
        self.peak_bytes = 0
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
            used += deleted_open_usage(self.pid, inodes)
        return used, entries

    def check(self) -> bool:
        """Measure once; kill the job and return ``True`` when it is over its quota."""
        used, entries = self.measure()
        self.peak_bytes = max(self.peak_bytes, used)
        if used > self.limit_bytes:
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
