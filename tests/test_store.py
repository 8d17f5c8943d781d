"""The class database (playground.store): on SQLite always, and on a PostgreSQL server this run starts."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Iterator
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from playground.checks import CheckResult
from playground.core.data_location import URL_ENV, database_paths, sqlite_file
from playground.store.config import database_url, describe
from playground.store.db import KEPT_CHECK_RUNS, MatrixCell, NameTaken, Store, alembic_config, make_engine, open_store
from playground.store.models import Base, CheckOutcome, CheckRun
from playground.store.work import MAX_CODE_CHARS, ExerciseWork, StoredCheck, TooLarge, Work, clean_settings

TABLES = {"learners", "exercise_code", "hint_positions", "check_runs", "check_outcomes", "run_settings"}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+pysqlite:///{tmp_path / 'class.sqlite3'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    engine = make_engine(url)
    with engine.begin() as connection:  # leave an empty database for the next test
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    engine.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def result(check: str, passed: bool, message: str = "") -> CheckResult:
    return CheckResult("q_network", check, passed, message or ("ok" if passed else f"{check} failed"))


def test_migrations_build_the_schema_the_models_describe(store: Store) -> None:
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrading_again_keeps_the_data_and_downgrading_removes_the_tables(store_url: str) -> None:
    first = open_store(store_url)
    learner = first.signed_in("ada@example.org", "Ada")
    first.save_code(learner.id, "q_network", "x = 1\n")
    first.close()
    again = open_store(store_url)  # the app upgrades at every start: nothing is lost
    assert again.load_work(learner.id).exercises["q_network"].code == "x = 1\n"
    with again.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert not TABLES & set(inspect(again.engine).get_table_names())
    again.close()
    open_store(store_url).close()  # and back up, for the fixture's teardown


def _replica(url: str, both_there: BarrierType, outcome: Queue[str]) -> None:
    """One app replica's start, in its own process: open (and so upgrade) the store at ``url``."""
    upgrade = command.upgrade

    def upgrade_together(config: Config, revision: str, sql: bool = False, tag: str | None = None) -> None:
        # Unserialised, both replicas get here and go on together. Serialised, the first waits here
        # in vain (the second waits for the lock) until the barrier gives up, and the second passes later.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_there.wait(timeout=2)
        upgrade(config, revision, sql, tag)

    command.upgrade = upgrade_together  # this process's own copy of the module
    try:
        open_store(url).close()
        outcome.put("started")
    except Exception as error:  # noqa: BLE001 - the test reports it
        outcome.put(repr(error))


def test_two_replicas_upgrading_a_fresh_database_at_once_both_start(store_url: str) -> None:
    """compose.yaml runs two app replicas on one PostgreSQL; each upgrades the schema as it starts."""
    processes = multiprocessing.get_context("fork")
    both_there = processes.Barrier(2)
    outcome: Queue[str] = processes.Queue()
    replicas = [processes.Process(target=_replica, args=(store_url, both_there, outcome)) for _ in range(2)]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join(timeout=60)
    assert sorted(outcome.get(timeout=5) for _ in replicas) == ["started", "started"]
    store = open_store(store_url)
    with store.engine.connect() as connection:
        versions = list(connection.scalars(text("SELECT version_num FROM alembic_version")))
    assert versions == [ScriptDirectory.from_config(alembic_config()).get_current_head()]
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    store.close()


def test_a_learners_work_comes_back(store: Store) -> None:
    learner = store.signed_in("Ada@Example.org", "Ada Lovelace")
    assert store.signed_in("ada@example.org", "Ada").id == learner.id  # the e-mail is the identity
    store.save_code(learner.id, "q_network", "class CustomQNetwork: ...\n")
    store.save_code(learner.id, "q_network", "class CustomQNetwork: pass\n")
    store.save_hints(learner.id, "q_network", {"CustomQNetwork.__init__": 2})
    store.save_hints(learner.id, "q_network", {"CustomQNetwork.__init__": 1, "CustomQNetwork.forward": 1})
    store.record_checks(learner.id, "q_network", "old\n", "f0", [result("shapes", False)])
    store.record_checks(
        learner.id, "q_network", "class CustomQNetwork: pass\n", "f1", [result("shapes", True), result("relu", False)]
    )
    store.save_settings(learner.id, {"qn_seed": 3, "qn_hidden": "64,64", "bad": [float("inf")]})

    work = store.load_work(learner.id)
    ex = work.exercises["q_network"]
    assert ex.code == "class CustomQNetwork: pass\n"
    assert ex.hints == {"CustomQNetwork.__init__": 2, "CustomQNetwork.forward": 1}  # positions only grow
    assert ex.checked == "f1"
    assert ex.checks == [StoredCheck("shapes", "passed", "ok"), StoredCheck("relu", "failed", "relu failed")]
    assert work.settings == {"qn_seed": 3, "qn_hidden": "64,64"}
    assert store.latest_code(learner.id, "q_network") == "class CustomQNetwork: pass\n"


def test_stored_code_is_size_bounded(store: Store) -> None:
    learner = store.signed_in("bob@example.org", "Bob")
    store.save_code(learner.id, "replay_buffer", "small = True\n")
    with pytest.raises(TooLarge):
        store.save_code(learner.id, "replay_buffer", "#" * (MAX_CODE_CHARS + 1))
    with pytest.raises(TooLarge):
        store.record_checks(learner.id, "replay_buffer", "#" * (MAX_CODE_CHARS + 1), "f", [])
    assert store.latest_code(learner.id, "replay_buffer") == "small = True\n"
    with pytest.raises(ValueError, match="unknown exercise"):
        store.save_code(learner.id, "../../etc/passwd", "x")
    long_message = "m" * 10_000
    store.record_checks(learner.id, "replay_buffer", "small = True\n", "f", [result("len", False, long_message)])
    [kept] = store.load_work(learner.id).exercises["replay_buffer"].checks or []
    assert len(kept.message) < 5_000


def kept_runs(store: Store, learner_id: int, exercise: str) -> list[str]:
    """The code of each kept Check of the learner's ``exercise``, oldest first."""
    with store.engine.connect() as connection:
        return list(
            connection.scalars(
                select(CheckRun.code)
                .where(CheckRun.learner_id == learner_id, CheckRun.exercise == exercise)
                .order_by(CheckRun.id)
            )
        )


def test_the_check_history_keeps_the_newest_runs_and_the_one_that_solved_it(store: Store) -> None:
    ada = store.signed_in("ada@example.org", "Ada").id
    bob = store.signed_in("bob@example.org", "Bob").id
    extra = 7
    store.record_checks(ada, "q_network", "solved\n", "s", [result("shapes", True), result("no_relu", True)])
    for i in range(KEPT_CHECK_RUNS + extra):  # Ada breaks it again and presses Check in a loop; so does Bob
        failing = [result("shapes", True), result("no_relu", False, f"relu {i}")]
        store.record_checks(ada, "q_network", f"ada {i}\n", f"a{i}", failing)
        store.record_checks(bob, "q_network", f"bob {i}\n", f"b{i}", failing)
    store.record_checks(bob, "replay_buffer", "rb\n", "rb", [result("len", False)])

    newest = [f"bob {i}\n" for i in range(extra, KEPT_CHECK_RUNS + extra)]
    assert kept_runs(store, bob, "q_network") == newest  # the latest N, in order
    assert kept_runs(store, ada, "q_network") == ["solved\n", *[c.replace("bob", "ada") for c in newest]]
    assert kept_runs(store, bob, "replay_buffer") == ["rb\n"]  # per exercise: the other is untouched
    with store.engine.connect() as connection:  # no outcome of a forgotten run is left behind
        runs = connection.scalar(select(func.count()).select_from(CheckRun))
        outcomes = connection.scalar(select(func.count(func.distinct(CheckOutcome.run_id))))
    assert runs == outcomes == 2 * KEPT_CHECK_RUNS + 2

    # The teacher page reads what is kept: latest Check, "solved" still backed by its code, learners counted once.
    rows = {row.learner.name: row for row in store.class_matrix()}
    assert rows["Ada"].cells["q_network"] == MatrixCell(1, 2, solved=True, runs=KEPT_CHECK_RUNS + 1)
    assert rows["Bob"].cells["q_network"] == MatrixCell(1, 2, solved=False, runs=KEPT_CHECK_RUNS)
    top = store.failing_checks()[0]
    assert (top.exercise, top.check, top.learners) == ("q_network", "no_relu", 2)
    last = KEPT_CHECK_RUNS + extra - 1
    assert (top.message, top.message_learners) == (f"relu {last}", 2)
    assert store.latest_code(bob, "q_network") == f"bob {last}\n"
    assert store.load_work(bob).exercises["q_network"].checked == f"b{last}"

    # A learner's export has everything kept, with each run's outcomes.
    exported = store.export(bob)["check_runs"]
    assert [run["code"] for run in exported] == [*newest, "rb\n"]
    assert exported[-2]["outcomes"][1]["message"] == f"relu {last}"


def test_class_code_learners_need_their_personal_key(store: Store) -> None:
    ada, key = store.join("  Ada   Lovelace ")
    assert ada.name == "Ada Lovelace"
    with pytest.raises(NameTaken):
        store.join("ada lovelace")
    assert store.rejoin("Ada Lovelace", "not-the-key") is None
    assert store.rejoin("Grace Hopper", key) is None
    again = store.rejoin("ADA  lovelace", key)
    assert again is not None
    assert again.id == ada.id
    with pytest.raises(ValueError, match="name is needed"):
        store.join("   ")


def three_learners(store: Store) -> tuple[int, int, int]:
    ada = store.signed_in("ada@example.org", "Ada").id
    bob = store.signed_in("bob@example.org", "Bob").id
    cy, _ = store.join("Cy")
    relu = "output has a ReLU: Q-values can't be negative\nseen: min 0.0"
    store.record_checks(ada, "q_network", "a1", "a1", [result("shapes", True), result("no_relu", False, relu)])
    store.record_checks(ada, "q_network", "a2", "a2", [result("shapes", True), result("no_relu", True)])
    store.record_checks(bob, "q_network", "b1", "b1", [result("shapes", True), result("no_relu", False, relu)])
    store.record_checks(bob, "replay_buffer", "b2", "b2", [CheckResult("replay_buffer", "len", False, "len is 0")])
    store.record_checks(cy.id, "q_network", "c0", "c0", [result("shapes", False), result("no_relu", False, "other")])
    store.record_checks(cy.id, "q_network", "c1", "c1", [result("shapes", False), result("no_relu", False, relu)])
    store.save_code(cy.id, "train_dqn", "def train_dqn(): ...\n")
    return ada, bob, cy.id


def test_the_class_matrix_and_the_checks_failing_for_most(store: Store) -> None:
    three_learners(store)
    rows = {row.learner.name: row for row in store.class_matrix()}
    assert set(rows) == {"Ada", "Bob", "Cy"}
    assert rows["Ada"].cells["q_network"].passed == 2
    assert rows["Ada"].cells["q_network"].solved
    assert rows["Ada"].cells["q_network"].runs == 2
    assert (rows["Bob"].cells["q_network"].passed, rows["Bob"].cells["q_network"].total) == (1, 2)
    assert not rows["Bob"].cells["q_network"].solved
    assert rows["Bob"].cells["replay_buffer"].passed == 0
    assert "train_dqn" not in rows["Cy"].cells  # code saved, never checked
    assert rows["Cy"].last_activity is not None
    failing = store.failing_checks()
    top = failing[0]
    assert (top.exercise, top.check, top.learners) == ("q_network", "no_relu", 2)  # Bob and Cy, not Ada (fixed)
    assert top.message == "output has a ReLU: Q-values can't be negative"  # the first line, most common
    assert top.message_learners == 2
    assert {(f.exercise, f.check) for f in failing} == {
        ("q_network", "no_relu"),
        ("q_network", "shapes"),
        ("replay_buffer", "len"),
    }


def test_a_learner_exports_and_deletes_everything_about_them(store: Store) -> None:
    ada, bob, _ = three_learners(store)
    store.save_hints(bob, "q_network", {"CustomQNetwork.forward": 1})
    store.save_settings(bob, {"tr_preset": "fast"})
    exported = store.export(bob)
    assert exported["learner"]["identity"] == "oidc:bob@example.org"
    assert [run["exercise"] for run in exported["check_runs"]] == ["q_network", "replay_buffer"]
    assert exported["check_runs"][0]["code"] == "b1"
    assert exported["hints"] == [{"exercise": "q_network", "function": "CustomQNetwork.forward", "shown": 1}]
    assert exported["settings"] == {"tr_preset": "fast"}
    store.delete_learner(bob)
    assert store.export(bob) == {}
    assert store.load_work(bob) == Work()
    assert {row.learner.name for row in store.class_matrix()} == {"Ada", "Cy"}
    assert all(f.learners <= 1 for f in store.failing_checks())  # only Cy's failures are left
    assert store.load_work(ada).exercises["q_network"].checked == "a2"


def test_the_database_url_comes_from_the_environment_then_secrets_then_sqlite(tmp_path: Path) -> None:
    secrets = {"connections": {"sql": {"url": "postgresql://u:secret@db.example.org/class"}}}
    env = {"PLAYGROUND_DATA_DIR": str(tmp_path)}
    assert database_url({}, env).database == str(tmp_path / "playground.sqlite3")
    from_secrets = database_url(secrets, env)
    assert from_secrets.drivername == "postgresql+psycopg"
    assert "secret" not in describe(from_secrets)
    from_env = database_url(secrets, {**env, "PLAYGROUND_DATABASE_URL": "sqlite+pysqlite:///:memory:"})
    assert from_env.database == ":memory:"
    assert database_url({}, {"XDG_DATA_HOME": str(tmp_path)}).database == str(
        tmp_path / "dqn-playground" / "playground.sqlite3"
    )
    # What the sandbox refuses to jobs: the data directory, and an SQLite file a URL names (never a server's).
    elsewhere = tmp_path / "elsewhere" / "class.db"
    default = [tmp_path, tmp_path / "playground.sqlite3"]
    assert database_paths({**env, URL_ENV: f"sqlite+pysqlite:///{elsewhere}?timeout=5"}) == [*default, elsewhere]
    assert database_paths({**env, URL_ENV: "postgresql://u:secret@db.example.org/class"}) == default
    assert database_paths({**env, URL_ENV: "sqlite://"}) == database_paths({**env, URL_ENV: "sqlite:///:memory:"})
    assert sqlite_file("sqlite:///relative.db") == Path("relative.db").absolute()


def test_work_from_a_browser_is_cleaned() -> None:
    raw = {
        "exercises": {
            "q_network": {
                "code": "x = 1",
                "hints": {"f": 2, "g": "three", "h": True, "i": -1},
                "checks": [{"check": "a", "status": "passed", "message": "ok"}, {"check": 1}, "junk"],
                "checked": "abc",
            },
            "replay_buffer": {"code": "#" * (MAX_CODE_CHARS + 1)},
            "not_an_exercise": {"code": "x"},
        },
        "settings": {"a": 1, "b": [1, 2], "c": {"d": 1}, "e": float("nan")},
    }
    work = Work.from_json(raw)
    assert set(work.exercises) == {"q_network", "replay_buffer"}
    assert work.exercises["q_network"] == ExerciseWork("x = 1", {"f": 2}, [StoredCheck("a", "passed", "ok")], "abc")
    assert work.exercises["replay_buffer"].code is None
    assert work.settings == {"a": 1, "b": [1, 2]}
    assert Work.from_json(work.to_json()) == work
    assert Work.from_json("nonsense") == Work()
    assert clean_settings({"x": "y" * 30_000}) == {}
    assert StoredCheck.of("c", "weird", "m").status == "error"
