"""The teacher page: the class's progress from the checks the server ran, never from what browsers report.

Shown only to the teachers a class names in its secrets (:func:`playground.ui.persistence.is_teacher`);
anyone else who reaches the page file (a deep link) is refused before anything is read. It shows a
matrix of learners x exercises (the latest Check's checks passed, whether any Check passed them all,
last activity) with a CSV export, the checks that fail for the most learners with their most common
message, and each learner's latest code on request.

The CSV is opened in spreadsheets, and its text comes from learners (a class-code learner picks their
own name): :func:`csv_export` makes every text cell that a spreadsheet would read as a formula plain
text (OWASP's rule for CSV injection), so a learner called ``=HYPERLINK(...)`` is a name, not a link.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from playground.core.facts import EXERCISE_TITLES, EXERCISES
from playground.store.db import FailingCheck, MatrixRow
from playground.ui import persistence

# A cell starting with one of these is a formula (or starts one) in Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: object) -> object:
    """``value``, with a single quote in front when it is text a spreadsheet would run as a formula.

    Numbers stay numbers: only ``str`` cells are changed.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_export(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV for a spreadsheet, every text cell neutralised (:func:`spreadsheet_text`).

    Lines end in CRLF (RFC 4180): the csv writer then quotes every cell that holds a ``\r`` or ``\n``.
    With ``\n`` alone, Python 3.11's writer leaves a ``\r`` unquoted, and a spreadsheet starts a new
    row there: the text after it would begin a cell unguarded.
    """
    return frame.map(spreadsheet_text).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def matrix_frame(rows: Sequence[MatrixRow]) -> pd.DataFrame:
    """One row per learner: per exercise "passed/total" of their latest Check (and ✓ once solved), last activity."""
    records = []
    for row in rows:
        record: dict[str, object] = {"learner": row.learner.name}
        solved = 0
        for exercise in EXERCISES:
            cell = row.cells.get(exercise)
            if cell is None:
                record[exercise] = ""
                continue
            record[exercise] = f"{cell.passed}/{cell.total}" + (" ✓" if cell.solved else "")
            solved += cell.solved
        record["solved"] = solved
        record["last activity (UTC)"] = (
            "" if row.last_activity is None else row.last_activity.strftime("%Y-%m-%d %H:%M")
        )
        records.append(record)
    columns = ["learner", *EXERCISES, "solved", "last activity (UTC)"]
    return pd.DataFrame.from_records(records, columns=columns)


def failing_frame(failing: Sequence[FailingCheck]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "exercise": EXERCISE_TITLES.get(f.exercise, f.exercise),
                "check": f.check,
                "learners failing it": f.learners,
                "most common message": f.message,
                "learners with that message": f.message_learners,
            }
            for f in failing
        ],
        columns=["exercise", "check", "learners failing it", "most common message", "learners with that message"],
    )


def teacher_page() -> None:
    """The page itself; refuses everyone but the class's teachers."""
    if not persistence.is_teacher():
        st.error("This page is for the class's teachers only.")
        st.stop()
    st.title("The class")
    st.caption(
        "Every number here comes from a Check the server ran in its sandbox on code it keeps: "
        "a learner's latest Check per exercise (✓: some Check of theirs passed every check)."
    )
    if st.button("Refresh", icon=":material/refresh:"):
        persistence.flush()
    store = persistence.store()
    rows = store.class_matrix()
    if not rows:
        st.info("No learner has signed in yet.")
        return
    frame = matrix_frame(rows)
    st.subheader(f"{len(rows)} learners")
    st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button(
        "Download the matrix (CSV)",
        data=csv_export(frame),
        file_name="dqn-playground-class.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    st.subheader("Checks failing for the most learners")
    failing = store.failing_checks()
    if failing:
        st.dataframe(failing_frame(failing), hide_index=True, width="stretch")
    else:
        st.caption("No check fails in any learner's latest Check.")
    st.subheader("A learner's latest code")
    names = {row.learner.id: row.learner.name for row in rows}
    left, right = st.columns(2)
    learner_id = left.selectbox("Learner", list(names), format_func=names.__getitem__, key="teacher_learner")
    exercise = right.selectbox("Exercise", EXERCISES, format_func=EXERCISE_TITLES.__getitem__, key="teacher_exercise")
    if st.button("Show the code", key="teacher_show_code") and learner_id is not None:
        code = store.latest_code(int(learner_id), str(exercise))
        if code is None:
            st.caption("No code kept for this exercise.")
        else:
            st.code(code, language="python", line_numbers=True)
