"""Hostile submissions: each one is a clean failed check, the caller keeps serving, other jobs finish,
and no file of the app changes.

Like ``test_runner.py``, the "learner code" is a throwaway module written into a
temporary directory and called by the self-test checks of ``sandbox_selftest``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sandbox_selftest

from playground import checks as registry
from playground.checks import CheckResult
from playground.sandbox import forkserver
from playground.sandbox.child import TEST_MODULES_ENV
from playground.sandbox.runner import TaskOutcome, job_owner, run_checks, run_task

TESTS_DIR = Path(__file__).resolve().parent
ROOT = TESTS_DIR.parent
NAMES = list(sandbox_selftest.CHECK_NAMES)
SECRET = "PLAYGROUND_TEST_SECRET"
SECRET_VALUE = "s3cr3t-do-not-leak"
SKIP_DIRS = {".git", "artifacts", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".venv"}


def app_hashes() -> dict[str, str]:
    """sha256 of every file of the app (what a hostile job must not change)."""
    hashes = {}
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            path = Path(dirpath) / name
            hashes[str(path.relative_to(ROOT))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


@pytest.fixture(scope="module")
def secret_in_server_env() -> Iterator[None]:
    """A secret in the environment of the "server" (this process) when the fork server starts."""
    os.environ[SECRET] = SECRET_VALUE
    server = forkserver._server
    if server is not None:  # restart it, so it starts with the secret in our environment
        server.close()
        server.ready.wait(10)
        deadline = time.monotonic() + 10
        while not server.dead and time.monotonic() < deadline:
            time.sleep(0.05)
    try:
        yield
    finally:
        os.environ.pop(SECRET, None)


@pytest.fixture
def learner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret_in_server_env: None) -> Iterator[Path]:
    registry.checks_for(sandbox_selftest.EXERCISE)
    specs = registry._REGISTRY.setdefault(sandbox_selftest.EXERCISE, [])
    monkeypatch.setitem(registry._REGISTRY, sandbox_selftest.EXERCISE, list(specs))
    sandbox_selftest.register()
    monkeypatch.setenv(TEST_MODULES_ENV, sandbox_selftest.__name__)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS_DIR), str(tmp_path)]))
    monkeypatch.setenv("PLAYGROUND_JOB_MEMORY_MB", "300")
    before = app_hashes()
    yield tmp_path / f"{sandbox_selftest.LEARNER_MODULE}.py"
    assert app_hashes() == before, "a hostile job changed a file of the app"
    assert sandbox_selftest.LEARNER_MODULE not in sys.modules


BENIGN_REST = """
def second():
    return "second ran"

def third():
    return "third ran"
"""

# Each case: the learner's `first`, and what its failed check must say (any of several texts, by "|").
HOSTILE: dict[str, tuple[str, str]] = {
    "memory bomb": (
        """
        def first():
            blocks = []
            while True:
                blocks.append(bytearray(50 * 1024 * 1024))
        """,
        "your code tried to allocate more than 300 MB of memory",
    ),
    "fork bomb": (
        """
        import os

        def first():
            while True:
                os.fork()
        """,
        "does not let your code start other programs or processes",
    ),
    "fork bomb through libc": (
        """
        import ctypes

        def first():
            libc = ctypes.CDLL(None)
            pids = [libc.fork() for _ in range(50)]
            if any(pid > 0 for pid in pids):
                raise SystemExit(0)  # in the parent: leave a child behind
            raise RuntimeError(f"fork refused: {sorted(set(pids))}")
        """,
        "RuntimeError: fork refused: [-1]",
    ),
    "subprocess": (
        """
        import subprocess

        def first():
            return subprocess.run(["echo", "hi"], capture_output=True).stdout
        """,
        "does not let your code start other programs or processes",
    ),
    "disk filler": (
        """
        def first():
            with open("filler.bin", "wb") as handle:
                while True:
                    handle.write(b"x" * (1 << 20))
        """,
        "your code tried to write more than 32 MB to one file",
    ),
    "many files": (
        """
        def first():
            for i in range(1000):
                with open(f"file{i}.bin", "wb") as handle:
                    handle.write(b"x")
        """,
        "your code wrote more than 64 files",
    ),
    "endless printing": (
        """
        def first():
            while True:
                print("spam " * 200)
        """,
        "(or to print that much)",
    ),
    "write into solutions": (
        f"""
        def first():
            with open({str(ROOT / "solutions" / "q_network.py")!r}, "a") as handle:
                handle.write("# pwned")
        """,
        "write files only in its own working directory",
    ),
    "os.open into playground": (
        f"""
        import os

        def first():
            fd = os.open({str(ROOT / "playground" / "pwned.py")!r}, os.O_WRONLY | os.O_CREAT)
            os.write(fd, b"pwned")
        """,
        "write files only in its own working directory",
    ),
    "write into the app through libc": (
        f"""
        import ctypes, os

        def first():
            libc = ctypes.CDLL(None)
            fd = libc.open({str(ROOT / "playground" / "pwned_by_libc.py").encode()!r}, os.O_WRONLY | os.O_CREAT, 0o644)
            raise RuntimeError(f"open() returned {{fd}}")
        """,
        "RuntimeError: open() returned -1",
    ),
    "delete an app file": (
        f"""
        import os

        def first():
            os.remove({str(ROOT / "README.md")!r})
        """,
        "write files only in its own working directory",
    ),
    "read the parent's environment": (
        """
        import os

        def first():
            with open(f"/proc/{os.getppid()}/environ", "rb") as handle:
                return handle.read().decode(errors="replace")
        """,
        "does not let your code read other processes' information",
    ),
    "read the secrets file": (
        f"""
        def first():
            with open({str(ROOT / ".streamlit" / "secrets.toml")!r}) as handle:
                return handle.read()
        """,
        "does not let your code read the app's settings and secrets",
    ),
    "socket connection": (
        """
        import socket

        def first():
            socket.create_connection(("127.0.0.1", 80), timeout=1)
        """,
        "does not let your code open network connections",
    ),
    "socket through libc": (
        """
        import ctypes

        def first():
            fd = ctypes.CDLL(None).socket(2, 1, 0)
            raise RuntimeError(f"socket() returned {fd}")
        """,
        "RuntimeError: socket() returned -1",
    ),
    "kill the parent": (
        """
        import os, signal

        def first():
            os.kill(os.getppid(), signal.SIGKILL)
        """,
        "does not let your code send signals to other processes",
    ),
    "kill the parent through libc": (
        """
        import ctypes, os

        def first():
            libc = ctypes.CDLL(None)
            results = [libc.kill(pid, 9) for pid in (os.getppid(), -1)]
            raise RuntimeError(f"kill returned {results}")
        """,
        "RuntimeError: kill returned [-1, -1]",
    ),
    "deep recursion": (
        """
        import sys

        def first():
            sys.setrecursionlimit(10**8)

            def down(n):
                return down(n + 1) + 1

            return down(0)
        """,
        # Python 3.11 keeps frames on the heap: the memory limit, the C stack or the time limit ends it.
        "the process was killed by SIGSEGV|did not finish within|more than 300 MB of memory",
    ),
    "segfault through ctypes": (
        """
        import ctypes

        def first():
            ctypes.string_at(0)
        """,
        "the process was killed by SIGSEGV",
    ),
}


def _run_other_session(outcomes: list[TaskOutcome]) -> None:
    with job_owner("another learner"):
        outcomes.append(run_task(f"{sandbox_selftest.__name__}:count", timeout=60, n=3, tag="other"))


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_submission_is_a_clean_failed_check(learner: Path, case: str) -> None:
    source, expected = HOSTILE[case]
    learner.write_text(textwrap.dedent(source) + BENIGN_REST, encoding="utf-8")
    parent_pid = os.getpid()
    other: list[TaskOutcome] = []
    thread = threading.Thread(target=_run_other_session, args=(other,))
    thread.start()
    with job_owner("hostile learner"):
        results = run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES)
    thread.join(timeout=120)
    assert [r.check for r in results] == NAMES
    first = results[0]
    assert not first.passed, first.message
    assert any(text in first.message for text in expected.split("|")), first.message
    assert SECRET_VALUE not in first.message
    if "did not finish within" in first.message:  # a hang costs one time limit: the rest are not run
        assert all("not run" in r.message for r in results[1:]), [r.message for r in results[1:]]
    else:  # the hostile check did not take the others down: a fresh child runs them
        assert [r.passed for r in results[1:]] == [True, True], [r.message for r in results[1:]]
    assert os.getpid() == parent_pid
    assert other, "the other session's job never ended"
    assert other[0].ok, other[0].error
    assert other[0].value == ["other 0", "other 1", "other 2"]


# Learner code whose first two checks answer with the environment the job sees: os.environ, then the kernel's copy.
ENVIRONMENT_PROBES = """
import os

def first():
    return repr(sorted(os.environ.items()))

def second():
    with open("/proc/self/environ", "rb") as handle:
        return handle.read().decode(errors="replace").replace("\\0", " ")
"""


def test_learner_code_sees_a_scrubbed_environment_and_a_fresh_scratch_dir(learner: Path) -> None:
    learner.write_text(
        ENVIRONMENT_PROBES
        + textwrap.dedent(
            """
            import tempfile

            def third():
                return f"cwd={os.getcwd()} files={os.listdir('.')} tmp={tempfile.gettempdir()}"
            """
        ),
        encoding="utf-8",
    )
    results: list[CheckResult] = run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES)
    assert all(r.passed for r in results), [r.message for r in results]
    env_text, proc_env, where = (r.message for r in results)
    assert SECRET not in env_text, env_text
    assert SECRET_VALUE not in env_text, env_text
    assert SECRET_VALUE not in proc_env, "the fork server must not hand the server's environment down"
    cwd = where.split()[0].removeprefix("cwd=")
    assert "playground-job-" in cwd
    assert not cwd.startswith(str(ROOT))
    assert "files=[]" in where, "the scratch directory starts empty"
    assert f"tmp={cwd}" in where
    assert not Path(cwd).exists(), "the scratch directory is removed after the job"
