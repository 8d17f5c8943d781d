"""The home page: lesson parsing, the progress table, and an AppTest run of the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from apptest_support import settle_checks
from streamlit.testing.v1 import AppTest

from playground.checks import EXERCISES, CheckResult
from playground.core.workspace import DEPLOYED_ENV
from playground.sandbox import runner
from playground.ui.lesson import (
    LESSON_PATH,
    PROGRESS_MARKER,
    LessonFormatError,
    exercise_status,
    how_to_work,
    load_lesson,
    next_step,
    parse_lesson,
    progress_table,
)
from playground.ui.page_list import PAGES
from playground.ui.session import CHECKS_KEY

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
GOOD = '+++\ntitle = "A title"\nauthor = "Someone"\ndate = 2026-01-31\n+++\n\nBody with $x$.\n'


def test_parse_lesson_reads_front_matter_and_body() -> None:
    lesson = parse_lesson(GOOD)
    assert lesson.title == "A title"
    assert lesson.author == "Someone"
    assert lesson.date == dt.date(2026, 1, 31)
    assert lesson.body == "Body with $x$."
    assert lesson.sections() == ("Body with $x$.", "")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter\n", "must start with"),
        ('+++\ntitle = "x"\nbody without a closing fence\n', "never closed"),
        ("+++\ntitle = \n+++\nbody\n", "not valid TOML"),
        ('+++\nauthor = "x"\n+++\nbody\n', "title"),
        ('+++\ntitle = "x"\nauthor = 3\n+++\nbody\n', "author"),
        ('+++\ntitle = "x"\ndate = "yesterday"\n+++\nbody\n', "date"),
        ('+++\ntitle = "x"\n+++\n\n', "no text"),
    ],
)
def test_malformed_lessons_raise_a_clear_error(text: str, problem: str) -> None:
    with pytest.raises(LessonFormatError, match=problem) as info:
        parse_lesson(text, source="broken.md")
    assert "broken.md" in str(info.value)


def test_the_real_lesson_covers_the_math_and_the_code_names() -> None:
    lesson = load_lesson()
    assert lesson.author == "DQN Playground"
    assert isinstance(lesson.date, dt.date)
    assert lesson.body.count(PROGRESS_MARKER) == 1
    for needle in (
        "G_t",
        "Q^\\pi",
        "\\max_{a'} Q^*(s', a')",
        "y = r + \\gamma\\,(1 - d)\\,\\max_{a'} Q_{\\theta^-}(s', a')",
        "\\mathcal{D}",
        "\\tau",
        "truncated",
        "$$",
        "`target_update_interval`",
        "`exploration_fraction`",
        "`max_grad_norm`",
        "`CustomQNetwork`",
        "`ReplayBufferWithIndices`",
    ):
        assert needle in lesson.body, needle
    assert LESSON_PATH.name == "dqn.md"
    assert "How to work" not in lesson.body, "the app writes it, as it runs (deployed or from a clone)"


def test_where_to_start_follows_the_progress() -> None:
    nothing: dict[str, list[CheckResult] | None] = {}
    assert next_step(nothing) == ("Start with 1. Q-network", "pages/1_q_network.py")
    first_done = {"q_network": [_result("q_network", True)]}
    assert next_step(first_done) == ("Continue with 2. Replay buffer", "pages/2_replay_buffer.py")
    failing = {"q_network": [_result("q_network", False)]}
    assert next_step(failing) == ("Continue with 1. Q-network", "pages/1_q_network.py")
    all_done = {exercise: [_result(exercise, True)] for exercise in EXERCISES}
    text, path = next_step(all_done)
    assert path == "pages/6_reference_comparison.py"
    assert text.startswith("All five exercises pass")


def test_how_to_work_matches_how_the_app_runs() -> None:
    deployed, local = how_to_work(local=False), how_to_work(local=True)
    for text in (deployed, local):
        assert "**Check my code**" in text
        assert "**Show a hint**" in text
    assert "no files, no terminal" in deployed
    assert "python -m playground.check" not in deployed
    assert "exercises/" not in deployed
    assert "Download my code" in deployed
    assert "python -m playground.check" in local
    assert "**Save to exercises/<name>.py**" in local


def test_the_home_page_opens_with_where_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEPLOYED_ENV, "1")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    links = [e.proto.label for e in at.get("page_link")]
    assert links[0] == "**Start with 1. Q-network**"
    assert links[1:6] == [title for _, title, _ in PAGES[:5]], "the progress strip: one link per exercise"
    [how] = [e for e in at.expander if e.label == "How to work on the exercises"]
    text = "\n".join(block.value for block in how.markdown)
    assert "no files, no terminal" in text
    at.session_state[CHECKS_KEY] = {("q_network", "exercises"): [_result("q_network", True)]}
    at.run()
    assert at.get("page_link")[0].proto.label == "**Continue with 2. Replay buffer**"
    assert at.get("page_link")[1].proto.icon == ":material/check_circle:"


@pytest.mark.parametrize("deployed", [True, False], ids=["deployed", "local"])
def test_the_progress_panel_talks_about_the_editor_and_from_a_clone_also_the_terminal(
    monkeypatch: pytest.MonkeyPatch, deployed: bool
) -> None:
    monkeypatch.setenv(DEPLOYED_ENV, "1" if deployed else "0")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    [caption] = [c.value for c in at.caption if "Runs the checks of all five exercises" in c.value]
    columns = list(at.dataframe[0].value.columns)
    assert "editor" in caption
    if deployed:
        assert "python -m playground.check" not in caption
        assert "exercises/" not in caption
        assert "File" not in columns, "a deployed app has no files to name"
    else:
        assert "python -m playground.check" in caption
        assert "File" in columns
        assert at.dataframe[0].value["File"].tolist() == [f"exercises/{exercise}.py" for exercise in EXERCISES]


def _result(exercise: str, passed: bool, message: str = "msg", name: str = "c") -> CheckResult:
    return CheckResult(exercise, name, passed, message)


def test_exercise_status_words() -> None:
    assert exercise_status(None) == "not checked yet"
    assert exercise_status([]) == "no checks yet"
    assert "all passed" in exercise_status([_result("q_network", True)])
    stub = [_result("q_network", False, "not implemented yet: do it")] * 2
    assert "not started" in exercise_status(stub)
    assert "1 failing" in exercise_status([_result("q_network", True), _result("q_network", False)])


def test_progress_table_has_one_row_per_exercise() -> None:
    table = progress_table(
        {"replay_buffer": [_result("replay_buffer", True), _result("replay_buffer", False, name="x")]}
    )
    assert len(table) == len(EXERCISES)
    row = table.set_index("File").loc["exercises/replay_buffer.py"]
    assert (row["Checks passed"], row["First failing check"]) == ("1 of 2", "x")
    assert table["Status"].tolist().count("not checked yet") == len(EXERCISES) - 1
    deployed = progress_table({}, local=False)
    assert "File" not in deployed.columns
    assert list(deployed["Exercise"]) == list(table["Exercise"])


def _fake_run_checks(calls: list[str]) -> Callable[..., list[CheckResult]]:
    def fake(exercise: str, impl: str = "exercises", **kwargs: Any) -> list[CheckResult]:
        calls.append(exercise)
        results = [_result(exercise, exercise == "q_network", "not implemented yet: later", name="first")]
        on_result = kwargs.get("on_result")
        if on_result is not None:
            for result in results:
                on_result(result)
        return results

    return fake


def test_home_page_renders_the_lesson_and_the_progress_button_works(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(runner, "run_checks", _fake_run_checks(calls))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == load_lesson().title
    text = "\n".join(str(block.value) for block in at.markdown)
    assert "$$" in text
    assert "Q_{\\theta^-}" in text
    assert calls == [], "checks must not run on a plain page load"
    assert at.dataframe[0].value["Status"].tolist() == ["not checked yet"] * len(EXERCISES)

    at.button(key="check_all_exercises").click().run()
    settle_checks(at)
    assert not at.exception
    assert calls == list(EXERCISES)
    assert not [e for e in at.expander if "checks passed" in e.label], "no status box with a tick on failures"
    statuses = at.dataframe[0].value["Status"].tolist()
    assert "all passed" in statuses[0]
    assert all("not started" in status for status in statuses[1:])
    stored = at.session_state[CHECKS_KEY]
    assert set(stored) == {(exercise, "exercises") for exercise in EXERCISES}

    at.run()  # a rerun without pressing the button keeps the results and runs nothing
    assert calls == list(EXERCISES)
    assert "all passed" in at.dataframe[0].value["Status"].tolist()[0]


def test_home_page_shows_results_stored_by_an_exercise_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEPLOYED_ENV, "0")  # from a clone: the table names the files
    monkeypatch.setattr(runner, "run_checks", _fake_run_checks([]))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[CHECKS_KEY] = {("save_load", "exercises"): [_result("save_load", True)]}
    at.run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("File")
    assert "all passed" in str(table.loc["exercises/save_load.py", "Status"])


def test_an_exercise_whose_checks_cannot_run_does_not_break_the_panel(monkeypatch: pytest.MonkeyPatch) -> None:
    fine = _fake_run_checks([])

    def flaky(exercise: str, impl: str = "exercises", **kwargs: Any) -> list[CheckResult]:
        if exercise == "train_dqn":
            raise RuntimeError("check module is broken")
        return fine(exercise, impl, **kwargs)

    monkeypatch.setattr(runner, "run_checks", flaky)
    monkeypatch.setenv(DEPLOYED_ENV, "0")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.button(key="check_all_exercises").click().run()
    settle_checks(at)
    assert not at.exception
    table = at.dataframe[0].value.set_index("File")
    assert "1 failing" in str(table.loc["exercises/train_dqn.py", "Status"])
    assert "all passed" in str(table.loc["exercises/q_network.py", "Status"])


def test_every_exercise_has_its_page_and_the_last_leads_to_the_comparison() -> None:
    from playground.core.facts import PROJECT_ROOT
    from playground.ui.page_list import exercise_of, next_page, page_of

    for exercise in EXERCISES:
        page = page_of(exercise)
        assert page is not None, exercise
        assert (PROJECT_ROOT / page[0]).exists()
        assert exercise_of(page[0]) == exercise
    assert next_page("q_network") == PAGES[1]
    assert next_page(EXERCISES[-1]) == PAGES[-1]
    assert exercise_of(PAGES[-1][0]) is None
