"""A job's scratch directory: made private, removed whatever the job did to its modes, and swept when
the process that made it died without removing it.

* :func:`make` creates ``$TMPDIR/playground-job-<pid>-XXXXXXXX`` (mode 0700), ``<pid>`` being the
  process that runs the job (the server, the check command, a Ray node's actor): the name says
  whose it is.
* :func:`remove` deletes one, including folders the job made unreadable to its own user (``mkdir``
  with mode 0300, a umask): the job runs as the server's user, so the server may give the owner
  back its rights before deleting.
* :func:`sweep` removes the directories of processes that are gone (a server or check command
  killed with ``SIGKILL`` cannot clean up). It runs once per process, before its first job
  (:func:`sweep_once`), and removes only directories owned by this user whose maker is not alive,
  or whose pid now belongs to a process started after the directory was last changed (the pid was
  reused). A directory of a live process is never touched: several servers, tests and Ray nodes
  may share one host. Directories named in the older ``playground-job-XXXXXXXX`` form (no pid) go
  once untouched for longer than any job may run (:data:`UNNAMED_STALE_SECONDS`).

The sweep assumes the processes that share this ``/tmp`` share one pid namespace (one host, or one
container); processes of another container with the same ``/tmp`` and the same uid would need
their own ``TMPDIR``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Iterator

PREFIX = "playground-job-"
# The longest job any caller starts is a live training of ui.live_jobs (3600 s), plus its start-up
# (30 s) and its stop grace (60 s): an unnamed directory left alone this long has no job any more.
UNNAMED_STALE_SECONDS = 2 * 3600.0
# /proc/stat's boot time is in whole seconds: a process that started this close after the
# directory's last change is not taken for a newcomer on a reused pid.
CLOCK_SLACK_SECONDS = 2.0
_NAMED = re.compile(rf"^{re.escape(PREFIX)}(\d+)-[A-Za-z0-9_]+$")
_UNNAMED = re.compile(rf"^{re.escape(PREFIX)}[A-Za-z0-9_]+$")
_OWNER_RWX = stat.S_IRWXU


def make() -> str:
    """A new private scratch directory for a job run by this process."""
    sweep_once()
    return tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")  # mode 0700: no other user's job looks in


# --- giving the owner its rights back ---------------------------------------------------------------


def grant_owner(path: str) -> bool:
    """Give the owner read, write and search rights on the directory ``path`` (never through a symbolic
    link: a job may swap a folder for a link to the app's files). ``True`` when it now has them."""
    o_path = getattr(os, "O_PATH", 0)
    if not o_path:  # not Linux: look, then change (a job could race this; the sandbox is Linux's)
        try:
            info = os.lstat(path)
            if not stat.S_ISDIR(info.st_mode):
                return False
            os.chmod(path, stat.S_IMODE(info.st_mode) | _OWNER_RWX)
        except OSError:
            return False
        return True
    try:
        fd = os.open(path, o_path | os.O_NOFOLLOW | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & _OWNER_RWX != _OWNER_RWX:
            os.chmod(f"/proc/self/fd/{fd}", mode | _OWNER_RWX)  # the very directory the descriptor holds
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def open_listing(path: str) -> os._ScandirIterator[str]:  # the type of os.scandir's result
    """``os.scandir(path)``, after giving the owner its rights back when the job took them away."""
    try:
        return os.scandir(path)
    except PermissionError:
        if not grant_owner(path):
            raise
        return os.scandir(path)


def entry_stat(entry: os.DirEntry[str], folder: str) -> os.stat_result:
    """``entry.stat`` without following links; when ``folder`` cannot be searched (mode 0600), its
    owner gets its rights back first."""
    try:
        return entry.stat(follow_symlinks=False)
    except PermissionError:
        if not grant_owner(folder):
            raise
        return os.lstat(entry.path)


def walk_folders(root: str) -> Iterator[str]:
    """Every directory beneath ``root`` (itself first), each opened up to its owner before it is listed."""
    stack = [root]
    while stack:
        folder = stack.pop()
        yield folder
        try:
            listing = open_listing(folder)
        except OSError:
            continue
        with listing:
            for entry in listing:
                try:
                    info = entry_stat(entry, folder)
                except OSError:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    stack.append(entry.path)


def remove(path: str, attempts: int = 3) -> bool:
    """Delete the directory ``path`` and everything in it, whatever modes the job gave its folders.
    ``True`` when it is gone."""
    for _ in range(attempts):
        if not os.path.lexists(path):
            return True
        for folder in walk_folders(path):
            grant_owner(folder)
        shutil.rmtree(path, ignore_errors=True)
    return not os.path.lexists(path)


# --- the sweep ----------------------------------------------------------------------------------------


def _boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as lines:
            for line in lines:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch; Linux), or ``None`` when unknown."""
    boot = _boot_time()
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as source:
            text = source.read()
        ticks = int(text[text.rindex(")") + 2 :].split()[19])  # field 22, starttime, after the command's ")"
        return None if boot is None else boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def is_stale(name: str, info: os.stat_result, now: float | None = None) -> bool:
    """Whether the scratch directory ``name`` (``lstat`` ``info``) belongs to no live job."""
    last_change = max(info.st_mtime, info.st_ctime)
    named = _NAMED.match(name)
    if named is not None:
        pid = int(named.group(1))
        if not _alive(pid):
            return True
        started = process_start_time(pid)
        return started is not None and started > last_change + CLOCK_SLACK_SECONDS  # the pid was reused
    if _UNNAMED.match(name) is not None:
        return (time.time() if now is None else now) - last_change > UNNAMED_STALE_SECONDS
    return False


def sweep(directory: str | None = None) -> list[str]:
    """Remove the stale scratch directories of this user in ``directory`` (the temporary directory);
    the paths removed."""
    base = tempfile.gettempdir() if directory is None else directory
    removed: list[str] = []
    uid = os.getuid()
    try:
        names = [name for name in os.listdir(base) if name.startswith(PREFIX)]
    except OSError:
        return removed
    for name in names:
        path = os.path.join(base, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or name.startswith(f"{PREFIX}{os.getpid()}-"):
            continue
        if is_stale(name, info) and remove(path):
            removed.append(path)
    return removed


_swept = False
_sweep_lock = threading.Lock()


def sweep_once() -> None:
    """:func:`sweep`, the first time this process calls it."""
    global _swept
    if _swept:
        return
    with _sweep_lock:
        if _swept:
            return
        _swept = True
    with contextlib.suppress(OSError):
        sweep()
