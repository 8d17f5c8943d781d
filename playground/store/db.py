"""The class database behind one interface: learners, their work, the checks the server ran (no Streamlit here).

:func:`open_store` connects to an SQLAlchemy URL (:mod:`playground.store.config`), upgrades the schema
with Alembic to the newest migration, and returns a :class:`Store`. Every method opens its own short
transaction, so one store serves all of the server's sessions and threads.

What the teacher page reads (:meth:`Store.class_matrix`, :meth:`Store.failing_checks`) comes only from
``check_runs``: checks this server ran, in its sandbox, on code it keeps beside the results.

The history of Checks is bounded: of each learner's Checks of one exercise the store keeps the newest
:data:`KEPT_CHECK_RUNS` and the newest that passed every check (so "solved" stays a Check the server
holds the code of), and deletes older ones as it records a new one. A learner pressing Check in a loop
therefore holds at most ``(KEPT_CHECK_RUNS + 1) x 5`` runs of at most ``MAX_CODE_CHARS`` each.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, and_, case, create_engine, delete, event, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from playground.core.facts import EXERCISES
from playground.store.models import (
    CheckOutcome,
    CheckRun,
    ExerciseCode,
    HintPosition,
    Learner,
    RunSettings,
    utc_now,
)
from playground.store.work import (
    MAX_NAME_CHARS,
    ExerciseWork,
    JsonValue,
    StoredCheck,
    Work,
    check_code_size,
    clean_hints,
    clean_settings,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SETTINGS_NAME = "widgets"  # the one settings row per learner: the kept widget values
# The PostgreSQL advisory lock that serialises schema upgrades (any fixed 64-bit key; these bytes spell "dqn_migr").
MIGRATION_LOCK = 0x6471_6E5F_6D69_6772
BUSY_TIMEOUT_MS = 5_000  # SQLite: how long a write waits for another connection's
MIGRATION_WAIT_MS = 120_000  # SQLite: how long a starting server waits for another one's schema upgrade
KEPT_CHECK_RUNS = 20  # the newest Checks kept per learner and exercise (and the newest that solved it)


class NameTaken(ValueError):
    """A class-code learner of that name exists already: they sign in with their personal key."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there already).

    Several servers may start at once on one database (compose.yaml runs two replicas): each upgrade
    runs in one transaction that first takes a lock, so the second waits for the first to commit and
    then finds the schema at the newest migration. On PostgreSQL the lock is the advisory lock
    :data:`MIGRATION_LOCK`, taken with ``pg_advisory_xact_lock`` on the connection that migrates (held
    until that transaction commits or rolls back, so a failed upgrade cannot leave it held). On SQLite
    it is the database file's write lock, ``BEGIN IMMEDIATE`` (pysqlite would otherwise run the
    ``CREATE TABLE`` statements outside any transaction, and two servers would both create the tables),
    which the other server waits for up to :data:`MIGRATION_WAIT_MS`. Other databases migrate unlocked.
    """
    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={MIGRATION_WAIT_MS}")
            connection.commit()  # ends the (empty) transaction the pragma began
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                elif sqlite:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        finally:
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                connection.commit()


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers (the teacher page) do not block the writer
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()


def make_engine(url: URL | str) -> Engine:
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _sqlite_pragmas(engine)
    return engine


def open_store(url: URL | str) -> Store:
    """Connect to ``url``, upgrade its schema, and return the store."""
    engine = make_engine(url)
    upgrade(engine)
    return Store(engine)


def normalise_name(name: str) -> str:
    """A class-code learner's name as the identity compares it: trimmed, single spaces, case-folded."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were written as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LearnerInfo:
    id: int
    identity: str
    name: str


@dataclass(frozen=True)
class MatrixCell:
    """One learner in one exercise: their latest Check (passed of total), whether any Check passed all."""

    passed: int
    total: int
    solved: bool
    runs: int  # the Checks kept (at most KEPT_CHECK_RUNS, and the one that solved it)


@dataclass(frozen=True)
class MatrixRow:
    learner: LearnerInfo
    cells: dict[str, MatrixCell]  # exercise -> cell (absent: never checked)
    last_activity: datetime | None


@dataclass(frozen=True)
class FailingCheck:
    """A check that fails in the latest Check of ``learners`` learners, with their most common first line."""

    exercise: str
    check: str
    learners: int
    message: str
    message_learners: int


class Store:
    """One database of learner work, shared by every session of the server."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    # --- learners -------------------------------------------------------------------------------

    def signed_in(self, email: str, name: str) -> LearnerInfo:
        """The learner who signed in with ``email`` (through the identity provider), created on first sight."""
        return self._learner(f"oidc:{email.strip().casefold()}", name or email, None, create=True)

    def join(self, name: str) -> tuple[LearnerInfo, str]:
        """A new class-code learner called ``name``; returns them and their personal key (shown once).

        :class:`NameTaken` when the name is in use (the same person signs in with :meth:`rejoin`).
        """
        clean = re.sub(r"\s+", " ", name).strip()[:MAX_NAME_CHARS]
        if not clean:
            raise ValueError("a name is needed to join the class")
        key = secrets.token_urlsafe(12)
        identity = f"name:{normalise_name(clean)}"
        with self._session.begin() as session:
            if session.scalar(select(Learner.id).where(Learner.identity == identity)) is not None:
                raise NameTaken(f"someone called {clean!r} has joined already; use your personal key to sign in")
        return self._learner(identity, clean, _key_hash(key), create=True), key

    def rejoin(self, name: str, key: str) -> LearnerInfo | None:
        """The class-code learner ``name`` if ``key`` is their personal key, else None."""
        identity = f"name:{normalise_name(name)}"
        with self._session.begin() as session:
            learner = session.scalar(select(Learner).where(Learner.identity == identity))
            if learner is None or learner.key_hash is None:
                return None
            if not hmac.compare_digest(learner.key_hash, _key_hash(key.strip())):
                return None
            learner.last_seen = utc_now()
            return LearnerInfo(learner.id, learner.identity, learner.name)

    def _learner(self, identity: str, name: str, key_hash: str | None, *, create: bool) -> LearnerInfo:
        with self._session.begin() as session:
            learner = session.scalar(select(Learner).where(Learner.identity == identity))
            now = utc_now()
            if learner is None:
                if not create:
                    raise LookupError(identity)
                learner = Learner(
                    identity=identity, name=name[:MAX_NAME_CHARS], key_hash=key_hash, created_at=now, last_seen=now
                )
                session.add(learner)
                session.flush()
            else:
                learner.last_seen = now
            return LearnerInfo(learner.id, learner.identity, learner.name)

    def learners(self) -> list[LearnerInfo]:
        with self._session() as session:
            rows = session.scalars(select(Learner).order_by(Learner.name, Learner.id))
            return [LearnerInfo(r.id, r.identity, r.name) for r in rows]

    # --- a learner's own work -----------------------------------------------------------------------

    def save_code(self, learner_id: int, exercise: str, code: str) -> None:
        """Keep ``code`` as the learner's newest code of ``exercise`` (:class:`TooLarge` past the bound)."""
        _known(exercise)
        check_code_size(code)
        with self._session.begin() as session:
            row = session.get(ExerciseCode, (learner_id, exercise))
            if row is None:
                session.add(ExerciseCode(learner_id=learner_id, exercise=exercise, code=code, updated_at=utc_now()))
            elif row.code != code:
                row.code = code
                row.updated_at = utc_now()

    def save_hints(self, learner_id: int, exercise: str, shown: Mapping[str, int]) -> None:
        """The hint positions of ``exercise``: function -> hints seen (positions only grow)."""
        _known(exercise)
        with self._session.begin() as session:
            for function, count in clean_hints(shown).items():
                row = session.get(HintPosition, (learner_id, exercise, function))
                if row is None:
                    session.add(HintPosition(learner_id=learner_id, exercise=exercise, function=function, shown=count))
                elif count > row.shown:
                    row.shown = count

    def record_checks(self, learner_id: int, exercise: str, code: str, fingerprint: str, results: Iterable[Any]) -> int:
        """Keep a Check the server just ran on ``code``: its outcomes (``CheckResult``s) in order; returns its id.

        Older Checks of the exercise past :data:`KEPT_CHECK_RUNS` go in the same transaction.
        """
        _known(exercise)
        check_code_size(code)
        outcomes = [StoredCheck.from_result(result) for result in results]
        now = utc_now()
        with self._session.begin() as session:
            run = CheckRun(
                learner_id=learner_id,
                exercise=exercise,
                code=code,
                fingerprint=fingerprint,
                passed=sum(o.passed for o in outcomes),
                total=len(outcomes),
                ran_at=now,
            )
            session.add(run)
            session.flush()
            session.add_all(
                CheckOutcome(run_id=run.id, position=i, check=o.check, status=o.status, message=o.message)
                for i, o in enumerate(outcomes)
            )
            code_row = session.get(ExerciseCode, (learner_id, exercise))
            if code_row is None:
                session.add(ExerciseCode(learner_id=learner_id, exercise=exercise, code=code, updated_at=now))
            elif code_row.code != code:
                code_row.code, code_row.updated_at = code, now
            self._forget_old_runs(session, learner_id, exercise)
            return run.id

    def save_settings(self, learner_id: int, settings: Mapping[str, JsonValue]) -> None:
        value = json.dumps(clean_settings(settings), sort_keys=True)
        with self._session.begin() as session:
            row = session.get(RunSettings, (learner_id, SETTINGS_NAME))
            if row is None:
                session.add(RunSettings(learner_id=learner_id, name=SETTINGS_NAME, value=value, updated_at=utc_now()))
            elif row.value != value:
                row.value, row.updated_at = value, utc_now()

    def load_work(self, learner_id: int) -> Work:
        """Everything the app restores for this learner: code, hints, the latest Check, settings."""
        work = Work()
        with self._session() as session:
            for code in session.scalars(select(ExerciseCode).where(ExerciseCode.learner_id == learner_id)):
                work.exercise(code.exercise).code = code.code
            for hint in session.scalars(select(HintPosition).where(HintPosition.learner_id == learner_id)):
                work.exercise(hint.exercise).hints[hint.function] = hint.shown
            for run in self._latest_runs(session, [learner_id]):
                ex = work.exercise(run.exercise)
                ex.checks = self._outcomes(session, run.id)
                ex.checked = run.fingerprint
            row = session.get(RunSettings, (learner_id, SETTINGS_NAME))
            if row is not None:
                work.settings = clean_settings(json.loads(row.value))
        return work

    def latest_code(self, learner_id: int, exercise: str) -> str | None:
        with self._session() as session:
            row = session.get(ExerciseCode, (learner_id, exercise))
            return None if row is None else row.code

    def export(self, learner_id: int) -> dict[str, Any]:
        """Everything stored about one learner, as JSON-ready data (their "download my data")."""
        with self._session() as session:
            learner = session.get(Learner, learner_id)
            if learner is None:
                return {}
            runs = session.scalars(select(CheckRun).where(CheckRun.learner_id == learner_id).order_by(CheckRun.id))
            settings = session.get(RunSettings, (learner_id, SETTINGS_NAME))
            return {
                "learner": {
                    "identity": learner.identity,
                    "name": learner.name,
                    "created_at": _utc(learner.created_at).isoformat(),
                    "last_seen": _utc(learner.last_seen).isoformat(),
                    "has_personal_key": learner.key_hash is not None,
                },
                "code": {
                    row.exercise: {"code": row.code, "updated_at": _utc(row.updated_at).isoformat()}
                    for row in session.scalars(select(ExerciseCode).where(ExerciseCode.learner_id == learner_id))
                },
                "hints": [
                    {"exercise": h.exercise, "function": h.function, "shown": h.shown}
                    for h in session.scalars(select(HintPosition).where(HintPosition.learner_id == learner_id))
                ],
                "check_runs": [
                    {
                        "exercise": run.exercise,
                        "ran_at": _utc(run.ran_at).isoformat(),
                        "code": run.code,
                        "passed": run.passed,
                        "total": run.total,
                        "outcomes": [o.to_json() for o in self._outcomes(session, run.id)],
                    }
                    for run in runs
                ],
                "settings": {} if settings is None else json.loads(settings.value),
            }

    def delete_learner(self, learner_id: int) -> None:
        """Remove the learner and everything stored about them."""
        with self._session.begin() as session:
            run_ids = select(CheckRun.id).where(CheckRun.learner_id == learner_id).scalar_subquery()
            session.execute(delete(CheckOutcome).where(CheckOutcome.run_id.in_(run_ids)))
            for table in (CheckRun, ExerciseCode, HintPosition, RunSettings):
                session.execute(delete(table).where(table.learner_id == learner_id))
            session.execute(delete(Learner).where(Learner.id == learner_id))

    # --- the class, for the teacher -----------------------------------------------------------------

    def class_matrix(self) -> list[MatrixRow]:
        """Learners x exercises: the latest Check of each, whether any Check passed all, last activity."""
        with self._session() as session:
            learners = list(session.scalars(select(Learner).order_by(Learner.name, Learner.id)))
            ids = [learner.id for learner in learners]
            cells: dict[int, dict[str, MatrixCell]] = {i: {} for i in ids}
            activity: dict[int, datetime] = {}
            stats = session.execute(
                select(
                    CheckRun.learner_id,
                    CheckRun.exercise,
                    func.count(CheckRun.id),
                    func.max(CheckRun.ran_at),
                    func.max(case((and_(CheckRun.passed == CheckRun.total, CheckRun.total > 0), 1), else_=0)),
                ).group_by(CheckRun.learner_id, CheckRun.exercise)
            ).all()
            latest = {(run.learner_id, run.exercise): run for run in self._latest_runs(session, ids)}
            for learner_id, exercise, runs, last, solved in stats:
                run = latest[(learner_id, exercise)]
                cells[learner_id][exercise] = MatrixCell(run.passed, run.total, bool(solved), int(runs))
                activity[learner_id] = max(_utc(last), activity.get(learner_id, _utc(last)))
            for learner_id, updated in session.execute(
                select(ExerciseCode.learner_id, func.max(ExerciseCode.updated_at)).group_by(ExerciseCode.learner_id)
            ):
                activity[learner_id] = max(_utc(updated), activity.get(learner_id, _utc(updated)))
            return [MatrixRow(LearnerInfo(x.id, x.identity, x.name), cells[x.id], activity.get(x.id)) for x in learners]

    def failing_checks(self, limit: int = 10) -> list[FailingCheck]:
        """The checks failing in the most learners' latest Check, each with its most common message."""
        with self._session() as session:
            ids = list(session.scalars(select(Learner.id)))
            failing: dict[tuple[str, str], list[str]] = {}
            for run in self._latest_runs(session, ids):
                for outcome in self._outcomes(session, run.id):
                    if not outcome.passed:
                        first = outcome.message.partition("\n")[0]
                        failing.setdefault((run.exercise, outcome.check), []).append(first)
        order = {name: i for i, name in enumerate(EXERCISES)}
        found = []
        for (exercise, check), messages in failing.items():
            message, count = Counter(messages).most_common(1)[0]
            found.append(FailingCheck(exercise, check, len(messages), message, count))
        found.sort(key=lambda f: (-f.learners, order.get(f.exercise, 99), f.check))
        return found[:limit]

    # --- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _latest_runs(session: Session, learner_ids: Sequence[int]) -> list[CheckRun]:
        if not learner_ids:
            return []
        newest = (
            select(func.max(CheckRun.id))
            .where(CheckRun.learner_id.in_(learner_ids))
            .group_by(CheckRun.learner_id, CheckRun.exercise)
        )
        return list(session.scalars(select(CheckRun).where(CheckRun.id.in_(newest))))

    @staticmethod
    def _forget_old_runs(session: Session, learner_id: int, exercise: str) -> None:
        """Delete the learner's older Checks of ``exercise``: all but the newest kept and the newest solving one."""
        runs = session.execute(
            select(CheckRun.id, CheckRun.passed, CheckRun.total)
            .where(CheckRun.learner_id == learner_id, CheckRun.exercise == exercise)
            .order_by(CheckRun.id.desc())
        ).all()
        if len(runs) <= KEPT_CHECK_RUNS:
            return
        kept = {run.id for run in runs[:KEPT_CHECK_RUNS]}
        solving = next((run.id for run in runs if run.total > 0 and run.passed == run.total), None)
        if solving is not None:
            kept.add(solving)
        old = [run.id for run in runs if run.id not in kept]
        if old:
            session.execute(delete(CheckOutcome).where(CheckOutcome.run_id.in_(old)))
            session.execute(delete(CheckRun).where(CheckRun.id.in_(old)))

    @staticmethod
    def _outcomes(session: Session, run_id: int) -> list[StoredCheck]:
        rows = session.scalars(
            select(CheckOutcome).where(CheckOutcome.run_id == run_id).order_by(CheckOutcome.position)
        )
        return [StoredCheck.of(o.check, o.status, o.message) for o in rows]


def _known(exercise: str) -> None:
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}")


__all__ = [
    "KEPT_CHECK_RUNS",
    "ExerciseWork",
    "FailingCheck",
    "LearnerInfo",
    "MatrixCell",
    "MatrixRow",
    "NameTaken",
    "Store",
    "open_store",
    "upgrade",
]
