"""The class database's tables, as SQLAlchemy 2 declarative models (no Streamlit here).

The schema itself is created and upgraded by Alembic (``playground/store/migrations``); these
classes must match it, and ``tests/test_store.py`` compares the two.

* ``learners``: one row per learner of the class: who (``identity``: ``oidc:<email>`` after a
  sign-in, ``name:<name>`` after joining with the class code), the name shown to the teacher, and,
  for a class-code learner, the hash of their personal key.
* ``exercise_code``: the newest code of each learner in each exercise's editor.
* ``hint_positions``: how many hints of each function a learner has seen.
* ``check_runs`` and ``check_outcomes``: the Checks of a learner's code the server ran, with the
  code it ran on and each check's status and message (the newest ``KEPT_CHECK_RUNS`` per learner and
  exercise, and the newest that passed them all: :mod:`playground.store.db`). Nothing here comes from
  the browser.
* ``run_settings``: the settings of the learner's last runs (widget values as JSON).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Learner(Base):
    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExerciseCode(Base):
    __tablename__ = "exercise_code"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    exercise: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HintPosition(Base):
    __tablename__ = "hint_positions"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    exercise: Mapped[str] = mapped_column(String(64), primary_key=True)
    function: Mapped[str] = mapped_column(String(200), primary_key=True)
    shown: Mapped[int] = mapped_column(Integer)


class CheckRun(Base):
    __tablename__ = "check_runs"
    __table_args__ = (Index("ix_check_runs_learner_exercise", "learner_id", "exercise", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    exercise: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    passed: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CheckOutcome(Base):
    __tablename__ = "check_outcomes"

    run_id: Mapped[int] = mapped_column(ForeignKey("check_runs.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    check: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)


class RunSettings(Base):
    __tablename__ = "run_settings"

    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
