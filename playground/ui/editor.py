"""The in-browser exercise editor: the learner's code per exercise, with Check, hints and file tools.

Every exercise page shows :func:`editor_panel`: a code editor (the
``streamlit-code-editor`` component: Ace with Python highlighting, line
numbers, and Ctrl+Enter / Cmd+Enter to Check) holding the learner's code for
that exercise, with a plain text box as a fallback (a toggle, and automatic
when the component cannot be imported). The code itself is kept by
:mod:`playground.ui.code_store`; nothing is written to disk unless the learner
presses "Save to exercises/<module>.py", which is offered only from a writable
clone (:func:`playground.core.workspace.can_save`).

Hints come one at a time from :mod:`playground.checks.hints`; the reference
solution is :mod:`playground.ui.source_view`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from playground.checks import EXERCISE_TITLES, EXERCISES, CheckResult, hints
from playground.checks.feedback import summary
from playground.core import workspace
from playground.ui import persistence
from playground.ui.check_panel import cancel_note, check_progress, follow_check, show_grouped_results, start_check
from playground.ui.code_store import (
    all_passed,
    checked_is_current,
    code_for,
    follow_disk,
    replace_code,
    session_sources,
    set_code,
    store,
    stored_checks,
)
from playground.ui.page_list import exercise_of, next_page
from playground.ui.session import DISK_KEY, EVENT_KEY, HINTS_KEY, PLAIN_KEY, UPLOAD_KEY, VERSION_KEY
from playground.ui.source_view import read_source
from playground.ui.widgets import escape_markdown

EditorFunc = Callable[..., Any]


def _load_component() -> EditorFunc | None:
    try:
        from code_editor import code_editor  # type: ignore[import-untyped]
    except Exception:  # noqa: BLE001 - any failure to import means: use the text box
        return None
    func: EditorFunc = code_editor
    return func


CODE_EDITOR = _load_component()


def _widget_key(exercise: str, kind: str) -> str:
    return f"{kind}_{exercise}_{st.session_state.get(VERSION_KEY, {}).get(exercise, 0)}"


def _component_editor(exercise: str, code: str, func: EditorFunc) -> bool:
    """The Ace editor; returns True when the learner pressed Ctrl+Enter in it."""
    response = func(
        code,
        lang="python",
        theme="default",
        height=[18, 36],
        response_mode=["debounce", "blur"],
        # No live autocompletion: its pop-up takes the Enter that ends a line of a comment (Ctrl+Space completes).
        options={
            "showLineNumbers": True,
            "tabSize": 4,
            "useSoftTabs": True,
            "wrap": False,
            "enableLiveAutocompletion": False,
        },
        # No button inside the editor: it covered the last visible line. Ctrl+Enter (the component's own
        # "submit") and the Check my code button right under the editor check the code.
        key=_widget_key(exercise, "code_editor"),
    )
    if not isinstance(response, dict):
        return False
    event_id, text = str(response.get("id") or ""), response.get("text")
    seen = store(EVENT_KEY)
    if not event_id or seen.get(exercise) == event_id or not isinstance(text, str):
        return False
    seen[exercise] = event_id
    set_code(exercise, text)
    return response.get("type") == "submit"


def _plain_editor(exercise: str, code: str) -> None:
    key = _widget_key(exercise, "plain_editor")
    if key not in st.session_state:
        st.session_state[key] = code
    text = st.text_area(
        f"Your code: {exercise}.py",
        key=key,
        height=480,
        help="A plain text box: the same code as the code editor. Ctrl+Enter applies it; then press Check.",
    )
    set_code(exercise, str(text))


def _file_tools(exercise: str, code: str) -> None:
    """Download, upload, and (from a writable clone) save to / reload from exercises/<module>.py."""
    left, middle, right = st.columns(3)
    left.download_button(
        "Download my code",
        data=code.encode("utf-8"),
        file_name=f"{exercise}.py",
        mime="text/x-python",
        key=f"download_code_{exercise}",
        icon=":material/download:",
    )
    if workspace.can_save():
        if middle.button("Save to exercises/" + f"{exercise}.py", key=f"save_code_{exercise}", icon=":material/save:"):
            try:
                workspace.save_exercise(exercise, code)
            except OSError as err:
                st.error(f"Could not save: {err}")
            else:
                store(DISK_KEY)[exercise] = workspace.fingerprint(code)
                st.toast(f"Saved exercises/{exercise}.py")
        disk = workspace.read_exercise(exercise)
        if workspace.fingerprint(disk) != store(DISK_KEY).get(exercise):
            st.info(
                f"`exercises/{exercise}.py` changed on disk since the editor loaded it, and you changed the code "
                "here too. Reloading replaces the editor's code with the file (download it first to keep it)."
            )
            if st.button(f"Reload exercises/{exercise}.py into the editor", key=f"reload_code_{exercise}"):
                replace_code(exercise, disk)
                store(DISK_KEY)[exercise] = workspace.fingerprint(disk)
                st.rerun()
    else:
        middle.caption("Your code is kept as you work (see *Your saved work* or *Your data* in the sidebar).")
    with right.popover("Upload a .py file", icon=":material/upload:"):
        upload = st.file_uploader(
            f"Restore {exercise}.py", type=["py"], key=f"upload_code_{exercise}", max_upload_size=1
        )
        if upload is not None and store(UPLOAD_KEY).get(exercise) != upload.file_id:
            store(UPLOAD_KEY)[exercise] = upload.file_id
            try:
                text = workspace.decode_upload(upload.getvalue(), upload.name)
            except ValueError as err:
                st.error(str(err))
            else:
                replace_code(exercise, text)
                st.rerun()


def _reveal_hint(exercise: str) -> None:
    """The hint button's callback: it runs before the panel is drawn, so the button is never a click behind."""
    revealed: dict[str, dict[str, int]] = st.session_state.setdefault(HINTS_KEY, {})
    upcoming = _upcoming_hint(exercise)
    if upcoming is not None:
        hints.reveal(revealed, upcoming)


def _upcoming_hint(exercise: str) -> hints.HintStep | None:
    """The hint the button shows next; None when none is left, or none is needed (every check passes)."""
    results = stored_checks(exercise)
    if all_passed(results):
        return None
    revealed: dict[str, dict[str, int]] = st.session_state.setdefault(HINTS_KEY, {})
    return hints.hint_after(exercise, revealed, results or [])


NO_HINTS_NEEDED = "No hints needed: all checks pass"


def hint_button(exercise: str) -> None:
    """ "Show a hint" (then "Next hint"): the next hint of the first failing function; says when none is left,
    and that none is needed once every check passes (the button is disabled then)."""
    revealed: dict[str, dict[str, int]] = st.session_state.setdefault(HINTS_KEY, {})
    upcoming = _upcoming_hint(exercise)
    if upcoming is None:
        label = NO_HINTS_NEEDED if all_passed(stored_checks(exercise)) else "No hints left"
    else:
        label = "Show a hint" if not hints.shown_hints(exercise, revealed) else "Next hint"
    st.button(
        label,
        key=f"hint_{exercise}",
        icon=":material/lightbulb:",
        disabled=upcoming is None,
        on_click=_reveal_hint,
        args=(exercise,),
        help="Hints come one at a time: about the check that failed, then the idea, the approach, near code.",
    )


def shown_hints(exercise: str) -> None:
    """Every hint shown so far for ``exercise``."""
    revealed: dict[str, dict[str, int]] = st.session_state.setdefault(HINTS_KEY, {})
    shown = hints.shown_hints(exercise, revealed)
    if shown:
        with st.container(border=True):
            for step in shown:
                st.markdown(f"**{escape_markdown(step.label)}**  \n{step.text}")


def exercise_done(exercise: str, results: list[CheckResult], code: str) -> None:
    """The end of an exercise: a success banner, the way on, and the learner's code beside the reference."""
    title = EXERCISE_TITLES.get(exercise, exercise)
    st.success(
        f"**{title}: done.** All {len(results)} checks passed. Compare your code with the reference below, then go on.",
        icon=":material/celebration:",
    )
    after = next_page(exercise)
    if after is not None:
        path, page_title, _ = after
        label = f"Next exercise: {page_title}" if exercise_of(path) in EXERCISES else f"Last step: {page_title}"
        st.page_link(path, label=label, icon=":material/arrow_forward:")
    with st.expander("Your code beside the reference", expanded=True, icon=":material/compare:"):
        mine, reference = st.columns(2)
        with mine:
            st.markdown(f"**Yours** (`{exercise}.py`)")
            st.code(code, language="python", line_numbers=True)
        with reference:
            st.markdown(f"**Reference** (`solutions/{exercise}.py`)")
            st.code(read_source("solutions", exercise), language="python", line_numbers=True)


@st.fragment
def editor_panel(exercise: str) -> None:
    """The editor with Check, hints and file tools: the exercise loop of a page.

    A fragment: typing, Check and the hints rerun this panel only, not the whole page, so a
    result shows as soon as the sandbox has it (the rest of the page reads the code and the
    results from session state on its own next run). Results come right under the buttons,
    above the hints, so a new result is where the learner is looking.
    """
    name = f"{exercise}:exercises"
    st.subheader("Your code")
    code_for(exercise)
    if follow_disk(exercise):
        st.toast(f"Loaded the new exercises/{exercise}.py from disk")
    code = code_for(exercise)
    plain = CODE_EDITOR is None or bool(st.session_state.get(PLAIN_KEY, False))
    st.caption(
        f"`{exercise}.py`: write here and press **Check my code**"
        + ("" if plain else " (or Ctrl+Enter / ⌘+Enter in the editor)")
        + ". Your code runs in a separate process with a time limit and is kept as you type, across pages and "
        "visits; **Run** with *mine* uses it too."
    )
    submitted = False
    if plain or CODE_EDITOR is None:
        _plain_editor(exercise, code)
    else:
        submitted = _component_editor(exercise, code, CODE_EDITOR)
    if CODE_EDITOR is not None:
        st.toggle(
            "Plain text box",
            key=PLAIN_KEY,
            help="Use a plain text box instead of the code editor (if the editor does not load in your browser).",
        )
    code = code_for(exercise)
    left, right = st.columns([1, 1])
    if left.button("Check my code", key=f"check_mine_{exercise}", type="primary", icon=":material/play_arrow:"):
        submitted = True
    with right:
        hint_button(exercise)
    was_passing = all_passed(stored_checks(exercise))
    if submitted:
        follow_check(start_check(name, [exercise], "exercises", sources=session_sources()))
    check_progress(name)
    if all_passed(stored_checks(exercise)) != was_passing:
        st.rerun()  # the whole page: what the result opens (or closes) further down changes with it
    cancel_note(name)
    results = stored_checks(exercise)
    if results is not None:
        if not checked_is_current(exercise):
            st.caption("Your code changed since this check: press Check again.")
        if all_passed(results):
            exercise_done(exercise, results, code)
        else:
            st.error(f"{summary(results)}. Fix the first failure first: later ones often follow from it.")
        show_grouped_results(results, summary_line=False)
    shown_hints(exercise)
    _file_tools(exercise, code)
    persistence.save_exercise(exercise)  # kept as the learner works: in the browser, or the class database
