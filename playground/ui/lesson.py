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

import datetime as dt
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from playground.checks import EXERCISE_TITLES, EXERCISES, CheckResult
from playground.core import workspace
from playground.core.facts import LESSONS_DIR
from playground.ui import code_store
from playground.ui.check_panel import cancel_note, check_progress, follow_check, start_check
from playground.ui.page_list import PAGES, page_of
from playground.ui.session import CHECKS_KEY

LESSON_PATH = LESSONS_DIR / "dqn.md"
FRONT_MATTER_FENCE = "+++"
PROGRESS_MARKER = "<!-- PROGRESS -->"
NOT_STARTED_PREFIX = "not implemented yet"
ALL_CHECKS = "all:exercises"  # the name of the home page's Check of every exercise


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


def progress_table(stored: Mapping[str, Sequence[CheckResult] | None], *, local: bool = True) -> pd.DataFrame:
    """One row per exercise, in order: checks passed out of all, status and the first failing check.

    ``local`` (a clone the app may write to) adds each exercise's file; a deployed app has no files to name.
    """
    rows = []
    for exercise in EXERCISES:
        results = stored.get(exercise)
        first_failure = next((r.check for r in results or () if not r.passed), "")
        row = {"Exercise": EXERCISE_TITLES[exercise]}
        if local:
            row["File"] = f"exercises/{exercise}.py"
        row |= {
            "Checks passed": f"{sum(r.passed for r in results)} of {len(results)}" if results else "—",
            "Status": exercise_status(results),
            "First failing check": first_failure,
        }
        rows.append(row)
    return pd.DataFrame(rows)


def _stored_results() -> dict[str, list[CheckResult] | None]:
    store: dict[tuple[str, str], list[CheckResult]] = st.session_state.get(CHECKS_KEY, {})
    return {exercise: store.get((exercise, "exercises")) for exercise in EXERCISES}


def progress_caption(local: bool) -> str:
    """What "Check all exercises" checks, as this app runs: the editors, and from a clone also the files."""
    if local:
        return (
            "Runs the checks of all five exercises on the code in the editors of the exercise pages (the same "
            "checks as `python -m playground.check` in a terminal runs on your files `exercises/<name>.py`). "
            "Results from the Check buttons of the exercise pages show up here too."
        )
    return (
        "Runs the checks of all five exercises on your code in the editor of each exercise page. Results from "
        "the Check buttons of the exercise pages show up here too."
    )


def progress_panel() -> None:
    """The "Your progress" section: a button that runs every check, and the table."""
    st.header("Your progress")
    local = workspace.can_save()
    st.caption(progress_caption(local))
    if st.button("Check all exercises", key="check_all_exercises", icon=":material/fact_check:"):
        # An exercise whose page was not opened yet is checked as exercises/<module>.py (the editor starts there).
        sources = {exercise: code_store.code_for(exercise) for exercise in EXERCISES}
        follow_check(start_check(ALL_CHECKS, EXERCISES, "exercises", sources=sources))
    check_progress(ALL_CHECKS)
    cancel_note(ALL_CHECKS)
    stored = _stored_results()
    st.dataframe(progress_table(stored, local=local), hide_index=True, width="stretch")
    if all(results is None for results in stored.values()):
        st.info("Nothing checked yet in this session: press the button above, or Check on an exercise page.")


def next_step(stored: Mapping[str, Sequence[CheckResult] | None]) -> tuple[str, str]:
    """(what to say, page file) for the start box: the first exercise whose checks do not all pass yet."""
    for exercise in EXERCISES:
        results = stored.get(exercise)
        if not results or not all(r.passed for r in results):
            page = page_of(exercise)
            path, title = (page[0], page[1]) if page is not None else ("", EXERCISE_TITLES[exercise])
            started = any(stored.get(name) for name in EXERCISES)
            return (f"Continue with {title}" if started else f"Start with {title}"), path
    path, title, _ = PAGES[-1]
    return f"All five exercises pass: on to {title}", path


def how_to_work(local: bool) -> str:
    """How to work on the exercises, as this app runs: from a clone (files, a terminal) or deployed (the editor)."""
    if local:
        return (
            "1. Open the exercises in order (later ones use earlier ones). Each page's **editor** holds "
            "`exercises/<name>.py`: signatures, docstrings, and bodies that raise `NotImplementedError`. Write there, "
            "or in your own editor: the page follows the file while you have not changed the code in the page, and "
            "**Save to exercises/<name>.py** writes the page's code to the file.\n"
            "2. Press **Check my code** (or Ctrl+Enter in the editor). Your code runs in a separate process with a "
            "time limit; each message says what was expected, what happened and the usual cause. From a terminal, "
            "`python -m playground.check <name>` runs the same checks on the files (alone, it checks all five).\n"
            "3. Stuck? **Show a hint**: one about the check that failed, then the idea, the approach, near code.\n"
            "4. When every check passes, the page puts your code beside the reference and shows the way to the "
            "next exercise. Then run yours and the reference side by side on the page."
        )
    return (
        "1. Open the exercises in order (later ones use earlier ones). Each page has a **code editor** with the "
        "exercise's stub: signatures, docstrings, and bodies that raise `NotImplementedError`. You write your code "
        "there: nothing to install, no files, no terminal.\n"
        "2. Press **Check my code** (or Ctrl+Enter in the editor). Your code runs in a separate process with a "
        "time limit; each message says what was expected, what happened and the usual cause.\n"
        "3. Stuck? **Show a hint**: one about the check that failed, then the idea, the approach, near code.\n"
        "4. When every check passes, the page puts your code beside the reference and shows the way to the next "
        "exercise. Your code stays in this browser session: **Download my code** keeps a copy, and uploading the "
        "file restores it."
    )


def status_icon(results: Sequence[CheckResult] | None) -> str:
    """The progress strip's icon for an exercise: passed, started, or not checked."""
    if results and all(r.passed for r in results):
        return ":material/check_circle:"
    if results:
        return ":material/pending:"
    return ":material/radio_button_unchecked:"


def start_box() -> None:
    """The top of the home page: where to start (or go on), the progress strip, and how to work."""
    stored = _stored_results()
    with st.container(border=True, key="start-here"):
        text, path = next_step(stored)
        st.page_link(path, label=f"**{text}**", icon=":material/arrow_forward:")
        strip = st.columns(len(EXERCISES))
        for column, exercise in zip(strip, EXERCISES, strict=True):
            page = page_of(exercise)
            if page is not None:
                column.page_link(page[0], label=page[1], icon=status_icon(stored.get(exercise)))
        passed = sum(bool(r) and all(x.passed for x in r) for r in stored.values() if r is not None)
        st.caption(f"{passed} of {len(EXERCISES)} exercises pass in this session.")
        with st.expander("How to work on the exercises", expanded=not any(stored.values())):
            st.markdown(how_to_work(workspace.can_save()))


def render_home() -> None:
    """The home page: where to start, then the lesson with the progress panel at its marker."""
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
    start_box()
    before, after = lesson.sections()
    st.markdown(before)
    progress_panel()
    if after:
        st.markdown(after)
