"""Alembic's environment for the class database.

The app upgrades the schema itself at start (:func:`playground.store.db.upgrade`), handing Alembic an
open connection in ``config.attributes["connection"]``. From a shell, ``alembic upgrade head`` (with
the project's ``alembic.ini``) connects to the database :func:`playground.store.config.database_url`
names, and ``alembic revision --autogenerate -m "..."`` writes a new migration from the models.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from playground.store.config import database_url
from playground.store.models import Base


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _migrate(given)
        return
    engine = create_engine(database_url())
    with engine.connect() as connection:
        _migrate(connection)
    engine.dispose()


run()
