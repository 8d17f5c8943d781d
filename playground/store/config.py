"""Where the class database lives: an SQLAlchemy URL from secrets or the environment, else SQLite (no Streamlit).

In order, the first that is set wins:

1. the environment variable ``PLAYGROUND_DATABASE_URL`` (any SQLAlchemy URL);
2. ``[connections.sql] url = "..."`` in ``.streamlit/secrets.toml``, the section Streamlit's own
   ``st.connection("sql")`` reads (on Community Cloud: the app's secrets);
3. SQLite in the data directory (:func:`playground.core.data_location.data_dir`):
   ``$PLAYGROUND_DATA_DIR``, else ``$XDG_DATA_HOME/dqn-playground``, else ``~/.local/share/dqn-playground``.
   That is outside the app's directory, so a deployment that replaces the app's files keeps the data;
   and outside every sandbox job's scratch directory.

A ``postgresql://`` URL is taken to mean psycopg 3 (``postgresql+psycopg://``), the driver the app pins.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from playground.core.data_location import DATA_DIR_ENV, DB_FILE, URL_ENV, data_dir

__all__ = ["DATA_DIR_ENV", "DB_FILE", "URL_ENV", "data_dir", "database_url", "describe", "sqlite_url"]


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def _secret_url(secrets: Mapping[str, object]) -> str | None:
    connections = secrets.get("connections")
    if not isinstance(connections, Mapping):
        return None
    sql = connections.get("sql")
    if not isinstance(sql, Mapping):
        return None
    url = sql.get("url")
    return str(url) if url else None


def database_url(secrets: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None) -> URL:
    """The database to use, as an SQLAlchemy URL (see the module docstring for the order)."""
    environ = os.environ if env is None else env
    text = environ.get(URL_ENV, "").strip() or _secret_url(secrets or {})
    if not text:
        text = sqlite_url(data_dir(environ) / DB_FILE)
    url = make_url(text)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def describe(url: URL) -> str:
    """The URL without its password, for messages."""
    return url.render_as_string(hide_password=True)
