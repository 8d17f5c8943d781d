"""Learner code never reads the class database: not its file (through Python's ``open``, ``sqlite3`` or
libc), not its URL (the server's ``PLAYGROUND_DATABASE_URL`` stays out of every job's environment).

The "server" (this process) keeps a real SQLite class database in a data directory of its own, with a
learner's code in it, and has ``PLAYGROUND_DATA_DIR`` and ``PLAYGROUND_DATABASE_URL`` set as a
deployment would; the fork server is restarted so it starts from that environment. Each job runs the
submission through the self-test checks of ``sandbox_selftest``, like ``test_sandbox_escape.py``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sandbox_selftest
from test_sandbox_escape import LIBC, needs_landlock
from test_sandbox_hostile import ENVIRONMENT_PROBES, NAMES, learner, secret_in_server_env  # noqa: F401 - fixtures

from playground.sandbox import forkserver
from playground.sandbox.runner import job_owner, run_checks
from playground.store.config import DATA_DIR_ENV, DB_FILE, URL_ENV
from playground.store.db import open_store

STORED_CODE = "class CustomQNetwork:  # kept-in-the-database-only\n"
REFUSED = "the sandbox does not let your code read the class database"


def restart_fork_server() -> None:
    """Stop the fork server, so the next job starts one from this process's environment as it is now."""
    server = forkserver._server
    if server is None:
        return
    server.close()
    server.ready.wait(10)
    deadline = time.monotonic() + 10
    while not server.dead and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def database(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    secret_in_server_env: None,  # noqa: F811 - started first, so the restart below is the last one
) -> Iterator[Path]:
    """A class database with a learner's code in it, in the server's data directory; yields the file."""
    data = tmp_path_factory.mktemp("class-data")
    path = data / DB_FILE
    url = f"sqlite+pysqlite:///{path}"
    store = open_store(url)
    ada = store.signed_in("ada@school.example", "Ada")
    store.save_code(ada.id, "q_network", STORED_CODE)
    store.close()
    monkeypatch.setenv(DATA_DIR_ENV, str(data))
    monkeypatch.setenv(URL_ENV, url)
    restart_fork_server()
    yield path
    restart_fork_server()  # the next tests' jobs start from their own environment


def checked(learner_module: Path, source: str) -> list[str]:
    """The messages of the three self-test checks after ``source`` (``first``, ``second``, ``third``)."""
    learner_module.write_text(LIBC + textwrap.dedent(source), encoding="utf-8")
    with job_owner("a curious learner"):
        results = run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES)
    assert [r.check for r in results] == NAMES
    for result in results:
        assert STORED_CODE.strip() not in result.message, "learner code read the class database"
    return [r.message for r in results]


def test_python_cannot_open_the_class_database(learner: Path, database: Path) -> None:  # noqa: F811
    first, second, third = checked(
        learner,
        f"""
        import sqlite3

        def first():
            return open({str(database)!r}, "rb").read()

        def second():
            query = "SELECT code FROM exercise_code"
            return sqlite3.connect("file:{database}?mode=ro", uri=True).execute(query).fetchall()

        def third():
            return open({str(database.parent / (DB_FILE + "-wal"))!r}, "rb").read()
        """,
    )
    assert REFUSED in first, first
    assert REFUSED in second, second
    assert REFUSED in third, third


@needs_landlock
def test_libc_cannot_open_the_class_database(learner: Path, database: Path) -> None:  # noqa: F811
    first, second, third = checked(
        learner,
        f"""
        def first():
            report_open({str(database)!r})

        def second():
            raise RuntimeError(f"open: {{c_open({str(database.parent)!r}, os.O_RDONLY | os.O_DIRECTORY)}}")

        def third():
            sqlite = ctypes.CDLL("libsqlite3.so.0")
            handle = ctypes.c_void_p()
            code = sqlite.sqlite3_open_v2({str(database).encode()!r}, ctypes.byref(handle), 1, None)  # read-only
            raise RuntimeError(f"sqlite3_open_v2: {{code}}")
        """,
    )
    assert "open: -13" in first, first
    assert "open: -13" in second, second
    assert "sqlite3_open_v2: 14" in third, third  # SQLITE_CANTOPEN


def test_a_job_never_sees_the_database_url(learner: Path, database: Path) -> None:  # noqa: F811
    url = f"sqlite+pysqlite:///{database}"
    first, second, third = checked(learner, ENVIRONMENT_PROBES + 'def third():\n    return "ran"\n')
    for seen in (first, second):
        assert URL_ENV not in seen, seen
        assert url not in seen, seen
    assert f"{DATA_DIR_ENV}=" not in second, second
    assert third == "ran"


HOOK_IN_A_DATA_DIRECTORY_ABOVE_THE_JOB = """
import sys
from pathlib import Path
from playground.sandbox.hardening import install_audit_hook
from playground.sandbox.protocol import Limits

data = Path(sys.argv[1])
scratch = data / "playground-job-1"
scratch.mkdir()
install_audit_hook(str(scratch), Limits(), [str(data), str(data / "playground.sqlite3")])
(scratch / "notes.txt").write_text("mine")
print("own file:", (scratch / "notes.txt").read_text())
try:
    open(data / "playground.sqlite3", "rb")
except PermissionError as refused:
    print("database:", refused)
"""


def test_a_data_directory_that_holds_the_jobs_scratch_still_refuses_only_the_database(tmp_path: Path) -> None:
    """``PLAYGROUND_DATA_DIR=/tmp``: refusing the folder would refuse the job its own files; the file is refused."""
    (tmp_path / DB_FILE).write_bytes(b"SQLite format 3\0")
    done = subprocess.run(
        [sys.executable, "-c", HOOK_IN_A_DATA_DIRECTORY_ABOVE_THE_JOB, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert "own file: mine" in done.stdout
    assert REFUSED in done.stdout, done.stdout
