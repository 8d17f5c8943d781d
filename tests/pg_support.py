"""A throw-away PostgreSQL server for the tests: Debian's binaries, a fresh cluster in a temp dir, a free port.

PostgreSQL refuses to run as root, so when the tests run as root (CI does) the cluster belongs to the
``postgres`` user that Debian's package creates, and its commands run through ``runuser``. The server
listens on 127.0.0.1 only, with trust authentication for the one test role; it is stopped and its
directory removed when the context ends.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from browser_support import free_port

PG_GLOB = "/usr/lib/postgresql/*/bin"
ROLE = "playground"
DATABASE = "playground_test"


def pg_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's ``bin`` directory, or None when none is installed."""
    found = sorted(
        Path("/").glob(PG_GLOB.lstrip("/")), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )
    found = [path for path in found if (path / "initdb").exists() and (path / "pg_ctl").exists()]
    return found[-1] if found else None


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def postgres_server(bin_dir: Path) -> Iterator[str]:
    """Start a fresh PostgreSQL cluster; yield an SQLAlchemy URL of an empty database on it."""
    owner = "postgres" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="playground-pg-"))
    data, sockets = base / "data", base / "run"
    sockets.mkdir()
    if owner:
        record = pwd.getpwnam(owner)
        for path in (base, sockets):
            os.chown(path, record.pw_uid, record.pw_gid)
    port = free_port()
    log = base / "server.log"
    try:
        _run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", ROLE, "--auth=trust", "-E", "UTF8"], owner))
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], owner))
        try:
            _run(
                _as_owner([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", ROLE, DATABASE], owner)
            )
            yield f"postgresql+psycopg://{ROLE}@127.0.0.1:{port}/{DATABASE}"
        finally:
            subprocess.run(
                _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], owner),
                check=False,
                capture_output=True,
                timeout=60,
            )
    except subprocess.CalledProcessError as err:
        server_log = log.read_text() if log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {err.stderr}\n{server_log}") from err
    finally:
        shutil.rmtree(base, ignore_errors=True)
