"""A class (AppTest): learners sign in or join, their Checks are run by the server and kept in the database,
the teacher page shows the class (matrix, CSV, failing checks, code), and nobody else reaches any of it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from apptest_support import APP, click
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from test_editor import RELU_ON_OUTPUT, SOLUTION_Q, type_code

from playground.checks import checks_for
from playground.core.workspace import DEPLOYED_ENV
from playground.store.config import DATA_DIR_ENV, URL_ENV
from playground.store.db import Store, open_store
from playground.ui import persistence
from playground.ui.session import CHECKS_KEY, CODE_KEY, LEARNER_KEY

TEACHER = "teacher@school.example"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "id"}
SECRETS: dict[str, Any] = {
    "class": {"code": "dqn-2026", "teachers": [TEACHER], "teacher_code": "let-me-see"},
    "auth": AUTH,
}
NO_ACTIVATION = "no activation on the Q-values"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv(URL_ENV, f"sqlite+pysqlite:///{tmp_path / 'class.sqlite3'}")
    monkeypatch.setenv(DEPLOYED_ENV, "1")
    store = open_store(f"sqlite+pysqlite:///{tmp_path / 'class.sqlite3'}")
    yield store
    store.close()


def visit(user: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.secrets.update(SECRETS if secrets is None else secrets)
    at.user = user or {}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def signed_in(email: str, name: str) -> AppTest:
    return visit({"is_logged_in": True, "email": email, "name": name})


def join(name: str, code: str = "dqn-2026") -> AppTest:
    at = visit()
    [class_code] = [t for t in at.text_input if t.label == "Class code"]
    [your_name] = [t for t in at.text_input if t.label.startswith("Your name (")]
    class_code.set_value(code)
    your_name.set_value(name)
    click(at, "Join the class")
    return at


def check_q_network(at: AppTest, code: str) -> None:
    at.switch_page("pages/1_q_network.py").run()
    type_code(at, "q_network", code)
    click(at, "Check my code")
    persistence.flush()


def page_titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[MemoryMediaFileStorage]:
    """The media storages AppTest gives each run (where a download button's bytes are kept), newest last."""
    made: list[MemoryMediaFileStorage] = []

    class Recorded(MemoryMediaFileStorage):
        def __init__(self, media_endpoint: str) -> None:
            super().__init__(media_endpoint)
            made.append(self)

    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", Recorded)
    return made


def downloaded(at: AppTest, label: str, media: list[MemoryMediaFileStorage]) -> bytes:
    """The bytes the browser gets from the download button ``label`` of the last run."""
    [button] = [b for b in at.get("download_button") if b.proto.label == label]
    url: str = button.proto.url
    return media[-1].get_file(url.rsplit("/", 1)[-1]).content


def test_three_learners_and_the_teacher_page(db: Store, media: list[MemoryMediaFileStorage]) -> None:
    ada = signed_in("ada@school.example", "Ada")
    check_q_network(ada, SOLUTION_Q)
    bob = join("Bob")
    assert persistence.current_learner() is None  # the test process itself is nobody
    assert bob.session_state[LEARNER_KEY].name == "Bob"
    check_q_network(bob, RELU_ON_OUTPUT)
    cy = join("Cy")
    check_q_network(cy, RELU_ON_OUTPUT)
    click(cy, "Show a hint")
    persistence.flush()

    # What the server ran is in the database, with the code it ran on.
    rows = {row.learner.name: row for row in db.class_matrix()}
    assert set(rows) == {"Ada", "Bob", "Cy"}
    assert rows["Ada"].cells["q_network"].solved
    assert not rows["Bob"].cells["q_network"].solved
    [top, *_] = db.failing_checks()
    assert (top.exercise, top.check, top.learners) == ("q_network", NO_ACTIVATION, 2)
    assert "ReLU" in top.message

    # The teacher (signed in with a teacher e-mail) sees the page, the matrix and the CSV.
    teacher = signed_in(TEACHER, "Teacher")
    teacher.switch_page("pages/7_teacher.py").run()
    assert not teacher.exception, [e.value for e in teacher.exception]
    assert "The class" in page_titles(teacher)
    matrix = teacher.dataframe[0].value
    assert list(matrix["learner"]) == ["Ada", "Bob", "Cy"]
    total = len(checks_for("q_network"))
    assert list(matrix["q_network"]) == [f"{total}/{total} ✓", f"{total - 1}/{total}", f"{total - 1}/{total}"]
    assert list(matrix["replay_buffer"]) == ["", "", ""]
    exported = pd.read_csv(io.BytesIO(downloaded(teacher, "Download the matrix (CSV)", media)), keep_default_na=False)
    assert list(exported["learner"]) == ["Ada", "Bob", "Cy"]
    assert list(exported["solved"]) == [1, 0, 0]
    assert list(exported["q_network"]) == list(matrix["q_network"])
    failing = teacher.dataframe[1].value
    assert failing.iloc[0]["check"] == NO_ACTIVATION
    assert failing.iloc[0]["learners failing it"] == 2
    # Each learner's latest code, on request.
    teacher.selectbox(key="teacher_learner").select_index(1).run()  # Bob
    click(teacher, "Show the code")
    [shown] = [block.value for block in teacher.code]
    assert shown.strip() == RELU_ON_OUTPUT.strip()  # Bob's code, with his bug


HOSTILE_NAMES = ['=HYPERLINK("http://x.example/","a")', "+1+1", "-2+3", "@SUM(1,2)"]


def test_the_teachers_csv_holds_no_formula_whatever_learners_call_themselves(
    db: Store, media: list[MemoryMediaFileStorage]
) -> None:
    for name in HOSTILE_NAMES:
        learner, _ = db.join(name)
        db.record_checks(learner.id, "q_network", "x = 1\n", "f", [])
    db.signed_in("tab@school.example", "\t=1+1")  # a name from the identity provider is taken as given
    db.signed_in("cr@school.example", "\r=1+1")
    db.signed_in("eve@school.example", "Eve\r=1+1")  # a line break inside a cell must not start a new row
    teacher = signed_in(TEACHER, "Teacher")
    teacher.switch_page("pages/7_teacher.py").run()
    assert not teacher.exception, [e.value for e in teacher.exception]
    on_page = set(teacher.dataframe[0].value["learner"])
    assert set(HOSTILE_NAMES) <= on_page  # the page shows the names as they are

    data = downloaded(teacher, "Download the matrix (CSV)", media).decode("utf-8")
    header, *records = list(csv.reader(io.StringIO(data, newline="")))  # as a spreadsheet splits it
    rows = [dict(zip(header, record, strict=True)) for record in records]
    assert {row["learner"] for row in rows} == {"'" + name for name in [*HOSTILE_NAMES, "\t=1+1", "\r=1+1"]} | {
        "Eve\r=1+1"
    }
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for record in records for cell in record)
    assert {row["q_network"] for row in rows} == {"0/0", ""}  # other text as it was
    assert [row["solved"] for row in rows] == ["0"] * len(rows)  # numbers are not quoted
    assert "'0" not in data


def test_a_learners_work_comes_back_in_a_new_session(db: Store) -> None:
    first = signed_in("ada@school.example", "Ada")
    check_q_network(first, RELU_ON_OUTPUT)
    click(first, "Show a hint")
    persistence.flush()
    again = signed_in("ADA@school.example", "Ada")  # a new tab, another day: the same identity
    again.switch_page("pages/1_q_network.py").run()
    assert again.session_state[CODE_KEY]["q_network"] == RELU_ON_OUTPUT
    results = again.session_state[CHECKS_KEY][("q_network", "exercises")]
    assert [r.check for r in results if not r.passed] == [NO_ACTIVATION]
    assert any(b.label == "Next hint" for b in again.button)  # one hint was seen already


def test_nobody_else_reaches_the_teacher_page_or_another_learners_code(db: Store) -> None:
    ada = signed_in("ada@school.example", "Ada")
    check_q_network(ada, SOLUTION_Q)
    bob = join("Bob")
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in a learner's navigation
        bob.switch_page("pages/7_teacher.py")
    assert "Teacher: the class" not in str(bob.sidebar)
    bob.switch_page("pages/1_q_network.py").run()
    assert "CustomQNetwork" in bob.session_state[CODE_KEY]["q_network"]
    assert bob.session_state[CODE_KEY]["q_network"] != SOLUTION_Q  # the stub, not Ada's code
    assert CHECKS_KEY not in bob.session_state or ("q_network", "exercises") not in bob.session_state[CHECKS_KEY]

    # The page file itself (a deep link) refuses a learner.
    direct = AppTest.from_file(str(Path(APP).parent / "pages" / "7_teacher.py"), default_timeout=240)
    direct.secrets.update(SECRETS)
    direct.user = {"is_logged_in": True, "email": "ada@school.example", "name": "Ada"}
    direct.run()
    assert "The class" not in page_titles(direct)

    # Someone who knows the class code cannot sign in as Bob without Bob's personal key.
    impostor = visit()
    [name] = [t for t in impostor.text_input if t.key == "class_rejoin_name"]
    [key] = [t for t in impostor.text_input if t.label == "Your personal key"]
    name.set_value("Bob")
    key.set_value("guessed")
    click(impostor, "Sign in with my key")
    assert LEARNER_KEY not in impostor.session_state
    assert any("do not match" in e.value for e in impostor.error)

    # A wrong teacher code opens nothing; the right one opens the page.
    visitor = visit()
    [code] = [t for t in visitor.text_input if t.label == "Teacher code"]
    code.set_value("guess")
    click(visitor, "Open the teacher page")
    assert any("not the teacher code" in e.value for e in visitor.error)
    [code] = [t for t in visitor.text_input if t.label == "Teacher code"]
    code.set_value("let-me-see")
    click(visitor, "Open the teacher page")
    visitor.switch_page("pages/7_teacher.py").run()
    assert "The class" in page_titles(visitor)


def test_a_learner_deletes_everything_stored_about_them(db: Store) -> None:
    ada = signed_in("ada@school.example", "Ada")
    check_q_network(ada, RELU_ON_OUTPUT)
    [learner] = db.learners()
    assert db.export(learner.id)["check_runs"]
    ada.checkbox(key="pg_delete_confirm").check().run()
    click(ada, "Delete everything stored about me")
    assert db.learners() == []
    assert db.export(learner.id) == {}


def test_anonymous_work_is_never_stored_on_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.setenv(DEPLOYED_ENV, "1")
    at = visit(secrets={"unrelated": "1"})
    check_q_network(at, RELU_ON_OUTPUT)
    assert at.session_state[CHECKS_KEY][("q_network", "exercises")]
    assert LEARNER_KEY not in at.session_state
    assert not (tmp_path / "data").exists()  # no database was even created


ANONYMOUS_SERVER = """
import sys
sys.path.insert(0, "tests")
from apptest_support import open_page
open_page("pages/1_q_network.py")
print("DB", sorted(m for m in ("sqlalchemy", "alembic", "psycopg", "playground.store.db") if m in sys.modules))
"""


def test_an_anonymous_server_does_not_load_the_database_layer(tmp_path: Path) -> None:
    """SQLAlchemy and Alembic cost the server about 28 MB: only a class set-up loads them."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HOME": str(tmp_path)}  # no ~/.streamlit/secrets.toml
    env.pop(URL_ENV, None)
    result = subprocess.run(
        [sys.executable, "-c", ANONYMOUS_SERVER],
        cwd=Path(APP).parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [line] = [line for line in result.stdout.splitlines() if line.startswith("DB ")]
    assert line == "DB []"
