"""Where this server keeps the class database on disk: the data directory, and an SQLite file a URL names.

Plain paths and strings, no SQLAlchemy: :mod:`playground.store.config` finds the database with them, and
the sandbox (:mod:`playground.sandbox.forkserver`, :mod:`playground.sandbox.hardening`) refuses every
path of it to learner code.

The data directory is ``$PLAYGROUND_DATA_DIR``, else ``$XDG_DATA_HOME/dqn-playground``, else
``~/.local/share/dqn-playground``: outside the app's directory (a deployment that replaces the app's
files keeps the data) and outside every sandbox job's scratch directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

URL_ENV = "PLAYGROUND_DATABASE_URL"
DATA_DIR_ENV = "PLAYGROUND_DATA_DIR"
DB_FILE = "playground.sqlite3"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The directory that holds the default SQLite file (see the module docstring)."""
    environ = os.environ if env is None else env
    if environ.get(DATA_DIR_ENV, "").strip():
        return Path(environ[DATA_DIR_ENV]).expanduser()
    base = environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "dqn-playground"


def sqlite_file(url: str) -> Path | None:
    """The file an ``sqlite[+driver]:///path`` URL names (relative to the working directory), else None.

    None too for an in-memory database and for any other kind of database.
    """
    scheme, separator, rest = url.strip().partition("://")
    if not separator or scheme.split("+", 1)[0] != "sqlite" or not rest.startswith("/"):
        return None
    path = rest[1:].split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).expanduser().absolute()


def database_paths(env: Mapping[str, str] | None = None) -> list[Path]:
    """Every path of the class database the environment names: the data directory and its SQLite file,
    and the SQLite file of ``$PLAYGROUND_DATABASE_URL`` when it names one (wherever it is)."""
    environ = os.environ if env is None else env
    paths = [data_dir(environ), data_dir(environ) / DB_FILE]
    named = sqlite_file(environ.get(URL_ENV, ""))
    if named is not None:
        paths.append(named)
    return paths
