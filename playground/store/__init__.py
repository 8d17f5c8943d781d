"""The class database: learners, their work, and the checks the server ran on it (no Streamlit here).

:mod:`playground.store.work` is a learner's work as plain data (the browser's local storage keeps the
same data as JSON); :mod:`playground.store.config` finds the database; :mod:`playground.store.db`
reads and writes it through SQLAlchemy, with the schema kept by Alembic (``migrations/``).
It imports only :mod:`playground.core` (see docs/ARCHITECTURE.md).
"""
