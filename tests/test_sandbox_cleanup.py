"""Scratch directories and children are cleaned up on every path: a callback that raises, a check
command ended by ``SIGTERM``, a process killed by ``SIGKILL`` (the next process sweeps its directory);
and the disk quota's watcher treats a job's open files it can no longer list as a violation."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import sandbox_selftest
from test_sandbox_hostile import NAMES, ROOT, learner, secret_in_server_env  # noqa: F401 - fixtures

from playground.checks import CheckResult
from playground.sandbox import quota, scratch
from playground.sandbox.runner import job_owner, run_checks

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def test_an_on_result_that_raises_leaves_no_scratch_directory_and_no_child(
    learner: Path,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CLI's print can raise (``BrokenPipeError``) while the child runs the next check: the child
    is ended and its scratch directory removed before the exception leaves ``run_checks``."""
    base = tmp_path_factory.mktemp("scratch")  # not beneath the learner's import path (Landlock refuses that)
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    learner.write_text(
        "import os, time\n\ndef first():\n    return f'{os.getpid()} {os.getcwd()}'\n\n"
        "def second():\n    time.sleep(60)\n\ndef third():\n    return 'third ran'\n"
    )
    seen: list[str] = []

    def broken_pipe(result: CheckResult) -> None:
        seen.append(result.message)
        raise BrokenPipeError(32, "Broken pipe")

    with job_owner("a closed terminal"), pytest.raises(BrokenPipeError):
        run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES, on_result=broken_pipe)
    pid, cwd = seen[0].split(" ", 1)
    assert Path(cwd).parent == base, seen
    assert not list(base.glob("playground-job-*")), "the scratch directory was left behind"
    assert _wait_gone(int(pid), 2.0), "the child still runs after its job ended"


@linux_only
def test_a_check_command_ended_by_sigterm_ends_its_job_and_removes_its_scratch_directory(tmp_path: Path) -> None:
    """``kill -TERM`` on ``python -m playground.check`` while a job runs: exit code 143, the job's
    process gone, its scratch directory removed."""
    source = tmp_path / "q_network.py"
    source.write_text(
        (ROOT / "solutions" / "q_network.py").read_text(encoding="utf-8")
        + "\nimport os, time\nwith open('pid', 'w') as out:\n    out.write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    base = tmp_path / "tmp"
    base.mkdir()
    env = {**os.environ, "TMPDIR": str(base), "PLAYGROUND_RAY_ADDRESS": ""}
    command = subprocess.Popen(
        [sys.executable, "-m", "playground.check", "q_network", "--source", f"q_network={source}", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        written: list[Path] = []
        while not written and command.poll() is None and time.monotonic() < deadline:
            written = [p for p in base.glob("playground-job-*/pid") if p.read_text()]
            time.sleep(0.1)
        assert written, "the job never started"
        job_pid = int(written[0].read_text())
        command.send_signal(signal.SIGTERM)
        assert command.wait(timeout=20) == 128 + signal.SIGTERM
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    assert command.stderr is not None
    assert not list(base.glob("playground-job-*")), command.stderr.read().decode()[-2000:]
    assert _wait_gone(job_pid, 5.0), "the job outlived the check command"


def _maker(base: Path) -> subprocess.Popen[str]:
    """A process that makes a scratch directory as a server does, prints it, and waits."""
    code = "import time\nfrom playground.sandbox import scratch\nprint(scratch.make(), flush=True)\ntime.sleep(120)\n"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(base)},
        stdout=subprocess.PIPE,
        text=True,
    )


@linux_only
def test_the_sweep_removes_a_killed_processs_directory_and_keeps_a_live_ones(tmp_path: Path) -> None:
    base = tmp_path / "tmp"
    base.mkdir()
    killed, live = _maker(base), _maker(base)
    try:
        assert killed.stdout is not None
        assert live.stdout is not None
        killed_dir, live_dir = Path(killed.stdout.readline().strip()), Path(live.stdout.readline().strip())
        assert killed_dir.name.startswith(f"playground-job-{killed.pid}-")
        assert stat.S_IMODE(killed_dir.stat().st_mode) == 0o700
        (killed_dir / "hidden").mkdir(mode=0o300)  # what a job may leave: a folder its user cannot list
        (killed_dir / "hidden" / "learner.py").write_text("code")
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert killed_dir.exists(), "a killed process cannot clean up"
        removed = scratch.sweep(str(base))
        assert removed == [str(killed_dir)]
        assert not killed_dir.exists()
        assert live_dir.exists(), "a live process's directory was removed"
    finally:
        for process in (killed, live):
            process.kill()
            process.wait()


@linux_only
def test_a_reused_pid_or_an_old_unnamed_directory_is_stale_and_a_fresh_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "playground-job-abcd1234"
    folder.mkdir()
    info = folder.stat()
    assert not scratch.is_stale(folder.name, info), "an unnamed directory in use now"
    assert scratch.is_stale(folder.name, info, now=time.time() + scratch.UNNAMED_STALE_SECONDS + 60)
    named = f"playground-job-{os.getpid()}-abcd1234"
    started = scratch.process_start_time(os.getpid())
    assert started is not None
    assert started <= time.time() + scratch.CLOCK_SLACK_SECONDS
    assert not scratch.is_stale(named, info), "this live process made it"
    monkeypatch.setattr(scratch, "process_start_time", lambda pid: time.time() + 60)
    assert scratch.is_stale(named, info), "the pid now belongs to a process started after the directory"


@linux_only
def test_giving_the_owner_its_rights_back_never_goes_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "app"
    target.mkdir(mode=0o500)
    link = tmp_path / "swapped"
    link.symlink_to(target)
    assert not scratch.grant_owner(str(link))
    assert stat.S_IMODE(target.stat().st_mode) == 0o500
    hidden = tmp_path / "hidden"
    hidden.mkdir(mode=0o300)
    assert scratch.grant_owner(str(hidden))
    assert stat.S_IMODE(hidden.stat().st_mode) == 0o700
    assert scratch.remove(str(tmp_path / "hidden"))
    assert not hidden.exists()


@linux_only
def test_a_job_whose_open_files_can_no_longer_be_listed_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once its ``/proc/<pid>/fd`` was listed, or once it is hardened where it should be listable, an
    unreadable list stops the job (counting nothing would let it hide removed files it keeps open)."""
    job = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        kills: list[str] = []
        watch = quota.DiskWatch(str(tmp_path), 1 << 30, kill=lambda: kills.append("kill"))
        watch.pid = job.pid
        assert not watch.check()
        listdir = os.listdir

        def refused(path: str) -> list[str]:
            if str(path).startswith("/proc/"):
                raise PermissionError(13, "Permission denied", path)
            return listdir(path)

        monkeypatch.setattr(os, "listdir", refused)
        assert watch.check(), "the list was readable, then was not"
        assert "hid the files it holds open" in watch.exceeded
        assert kills == ["kill"]

        fresh = quota.DiskWatch(str(tmp_path), 1 << 30, kill=lambda: None, open_files_visible=True)
        fresh.pid = job.pid
        assert not fresh.check(), "before its hardening a job is not dumpable: nothing to hold against it"
        # A container's runtime may put a filter on every process: one filter each is not yet hardened.
        monkeypatch.setattr(quota, "seccomp_filters", lambda pid: 1)
        assert not fresh.check(), "the filter it inherited is not its own"
        monkeypatch.setattr(quota, "seccomp_filters", lambda pid: 1 if pid == "self" else 2)
        assert fresh.check(), "hardened (its own filter loaded), it should be listable"
        assert "hid the files it holds open" in fresh.exceeded
    finally:
        job.kill()
        job.wait()
