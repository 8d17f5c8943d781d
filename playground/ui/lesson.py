"""The home page: the lesson (``lessons/dqn.md``) and the learner's progress.

The lesson is a Markdown file in the blog format: TOML front matter between two
``+++`` lines (``title``, ``author``, ``date``), then the text, with ``$...$``
and ``$$...$$`` LaTeX that ``st.markdown`` renders. Parsing (:func:`parse_lesson`)
and the progress table (:func:`progress_table`) are plain functions, testable
without Streamlit; :func:`render_home` draws the page.

The progress panel runs every exercise's checks only when the learner presses
its button (never on a rerun), in the sandbox child process, and keeps the
results in the same session-state slot the exercise pages use, so a Check on
an exercise page shows up here and the other way round.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from playground.checks import EXERCISE_TITLES, EXERCISES, CheckResult, checks_for
from playground.core.facts import LESSONS_DIR
from playground.sandbox import executor
from playground.ui import editor
from playground.ui.session import CHECKS_KEY

LESSON_PATH = LESSONS_DIR / "dqn.md"
FRONT_MATTER_FENCE = "+++"
PROGRESS_MARKER = "<!-- PROGRESS -->"
NOT_STARTED_PREFIX = "not implemented yet"


class LessonFormatError(ValueError):
    """The lesson file does not follow the ``+++ front matter +++ body`` format."""


@dataclass(frozen=True)
class Lesson:
    """A parsed lesson: its front matter fields and its Markdown body."""

    title: str
    author: str
    date: dt.date | None
    body: str

    def sections(self) -> tuple[str, str]:
        """The body before and after the progress marker (all of it before, if there is none)."""
        before, _, after = self.body.partition(PROGRESS_MARKER)
        return before.strip(), after.strip()


def parse_lesson(text: str, source: str = "the lesson") -> Lesson:
    """Split ``text`` into TOML front matter and Markdown, and check the front matter.

    Raises :class:`LessonFormatError` naming ``source`` and what is wrong.
    """
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise LessonFormatError(f"{source} must start with a '{FRONT_MATTER_FENCE}' line opening its TOML front matter")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FRONT_MATTER_FENCE)
    except StopIteration:
        message = f"{source}: the front matter is never closed by a second '{FRONT_MATTER_FENCE}' line"
        raise LessonFormatError(message) from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as err:
        raise LessonFormatError(f"{source}: the front matter is not valid TOML ({err})") from err
    title, author, date = meta.get("title"), meta.get("author", ""), meta.get("date")
    if not isinstance(title, str) or not title.strip():
        raise LessonFormatError(f"{source}: the front matter needs a non-empty string 'title'")
    if not isinstance(author, str):
        raise LessonFormatError(f"{source}: 'author' must be a string, got {author!r}")
    if isinstance(date, dt.datetime):
        date = date.date()
    if date is not None and not isinstance(date, dt.date):
        raise LessonFormatError(f"{source}: 'date' must be a TOML date such as 2026-01-31, got {date!r}")
    body = "\n".join(lines[end + 1 :]).strip()
    if not body:
        raise LessonFormatError(f"{source}: there is no text after the front matter")
    return Lesson(title=title.strip(), author=author.strip(), date=date, body=body)


def load_lesson(path: Path = LESSON_PATH) -> Lesson:
    """Read and parse a lesson file (``LessonFormatError`` if unreadable or malformed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise LessonFormatError(f"could not read {path.name}: {err}") from err
    return parse_lesson(text, source=path.name)


def exercise_status(results: Sequence[CheckResult] | None) -> str:
    """One word or phrase for an exercise's check results."""
    if results is None:
        return "not checked yet"
    if not results:
        return "no checks yet"
    failed = [r for r in results if not r.passed]
    if not failed:
        return "all passed"
    if len(failed) == len(results) and all(r.message.startswith(NOT_STARTED_PREFIX) for r in results):
        return "not started"
    return f"{len(failed)} failing"


def progress_table(stored: Mapping[str, Sequence[CheckResult] | None]) -> pd.DataFrame:
    """One row per exercise, in order: checks passed out of all, status and the first failing check."""
    rows = []
    for exercise in EXERCISES:
        results = stored.get(exercise)
        first_failure = next((r.check for r in results or () if not r.passed), "")
        rows.append(
            {
                "Exercise": EXERCISE_TITLES[exercise],
                "File": f"exercises/{exercise}.py",
                "Checks passed": f"{sum(r.passed for r in results)} of {len(results)}" if results else "—",
                "Status": exercise_status(results),
                "First failing check": first_failure,
            }
        )
    return pd.DataFrame(rows)


def _stored_results() -> dict[str, list[CheckResult] | None]:
    store: dict[tuple[str, str], list[CheckResult]] = st.session_state.get(CHECKS_KEY, {})
    return {exercise: store.get((exercise, "exercises")) for exercise in EXERCISES}


def run_all_checks() -> None:
    """Run every exercise's checks on the code in this session's editors, in the sandbox, and store the results.

    An exercise whose page was not opened yet is checked as ``exercises/<module>.py`` (which the editor
    starts from).
    """
    sources = {exercise: editor.code_for(exercise) for exercise in EXERCISES}
    total = 0
    for exercise in EXERCISES:
        with contextlib.suppress(Exception):  # a broken check module is reported below, per exercise
            total += len(checks_for(exercise))
    store: dict[tuple[str, str], list[CheckResult]] = st.session_state.setdefault(CHECKS_KEY, {})
    done = 0
    with st.status("Checking every exercise ...", expanded=True) as status:
        bar = st.progress(0.0)

        def on_result(result: CheckResult) -> None:
            nonlocal done
            done += 1
            bar.progress(min(done / max(total, 1), 1.0), text=f"{result.exercise}: {result.check}")

        for exercise in EXERCISES:
            try:
                results = executor.run_checks(exercise, "exercises", on_result=on_result, sources=sources)
            except Exception as err:  # noqa: BLE001 - one broken exercise must not hide the others
                results = [CheckResult(exercise, "run the checks", False, f"the checks could not run: {err}")]
            store[(exercise, "exercises")] = results
            editor.mark_checked(exercise)
        passed = sum(r.passed for exercise in EXERCISES for r in store[(exercise, "exercises")])
        status.update(label=f"{passed} of {done} checks passed", state="complete", expanded=False)


def progress_panel() -> None:
    """The "Your progress" section: a button that runs every check, and the table."""
    st.header("Your progress")
    st.caption(
        "Runs the checks of all five exercises on the code in your editors (the same checks as "
        "`python -m playground.check`). Results from the Check buttons of the exercise pages show up here too."
    )
    if st.button("Check all exercises", key="check_all_exercises", icon=":material/fact_check:"):
        run_all_checks()
    stored = _stored_results()
    st.dataframe(progress_table(stored), hide_index=True, width="stretch")
    if all(results is None for results in stored.values()):
        st.info("Nothing checked yet in this session: press the button above, or Check on an exercise page.")


def render_home() -> None:
    """The home page: the lesson with the progress panel at its marker."""
    try:
        lesson = load_lesson()
    except LessonFormatError as err:
        st.title("DQN Playground")
        st.error(f"The lesson could not be loaded: {err}")
        progress_panel()
        return
    st.title(lesson.title)
    byline = lesson.author + (f" · {lesson.date:%d %B %Y}" if lesson.date else "")
    if byline:
        st.caption(byline)
    before, after = lesson.sections()
    st.markdown(before)
    progress_panel()
    if after:
        st.markdown(after)
