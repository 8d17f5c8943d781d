"""The in-browser exercise editor: the learner's code per exercise, Check, hints and the reference solution.

Every exercise page shows :func:`editor_panel`: a code editor (the
``streamlit-code-editor`` component: Ace with Python highlighting, line
numbers, and Ctrl+Enter / Cmd+Enter to Check) holding the learner's code for
that exercise, with a plain text box as a fallback (a toggle, and automatic
when the component cannot be imported). The code lives in session state for
the browser session, so it survives reruns and page changes; it starts as
``exercises/<module>.py`` (the stub on a deployed app, the learner's file in a
clone). Check and every "mine" run send it to the sandbox as ``sources``
(:func:`session_sources`); nothing is written to disk unless the learner
presses "Save to exercises/<module>.py", which is offered only from a writable
clone (:func:`playground.core.workspace.can_save`).

Hints come one at a time from :mod:`playground.checks.hints`; the reference solution
opens when all checks of the learner's code pass, or after an explicit request
and a confirmation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from playground.checks import CheckResult, hints
from playground.checks.feedback import group_results, summary
from playground.core import workspace

CODE_KEY = "editor_code"  # exercise -> the code in the editor
VERSION_KEY = "editor_version"  # exercise -> n: bumped to remount the editor with new code
EVENT_KEY = "editor_event"  # exercise -> id of the last editor event handled
DISK_KEY = "editor_disk"  # exercise -> fingerprint of exercises/<module>.py when last loaded or saved
UPLOAD_KEY = "editor_upload"  # exercise -> file_id of the last upload applied
CHECKED_KEY = "editor_checked"  # exercise -> fingerprint of the code last checked
HINTS_KEY = "hints_revealed"  # exercise -> function -> hints shown
SOLUTION_KEY = "solution_unlocked"  # exercise -> True once asked for and confirmed
CONFIRM_KEY = "solution_confirm"  # exercise -> True while the confirmation is shown
PLAIN_KEY = "editor_plain_text"  # the fallback toggle (one for the session)

EditorFunc = Callable[..., Any]


def _load_component() -> EditorFunc | None:
    try:
        from code_editor import code_editor  # type: ignore[import-untyped]
    except Exception:  # noqa: BLE001 - any failure to import means: use the text box
        return None
    func: EditorFunc = code_editor
    return func


CODE_EDITOR = _load_component()


def _store(key: str) -> dict[str, Any]:
    store: dict[str, Any] = st.session_state.setdefault(key, {})
    return store


def code_for(exercise: str) -> str:
    """The learner's code for ``exercise`` in this session (first time: ``exercises/<module>.py``)."""
    codes = _store(CODE_KEY)
    if exercise not in codes:
        text = workspace.read_exercise(exercise)
        codes[exercise] = text
        _store(DISK_KEY)[exercise] = workspace.fingerprint(text)
    code: str = codes[exercise]
    return code


def follow_disk(exercise: str) -> bool:
    """From a clone: take a newer ``exercises/<module>.py`` into the editor if the editor's code is untouched.

    The editor follows the file while the learner has not changed the code in the page since it was
    loaded (or saved), so editing in one's own editor and pressing Check just works. When both changed,
    nothing is replaced: the page offers a reload instead. Returns True when the code was replaced.
    """
    codes = _store(CODE_KEY)
    if exercise not in codes or not workspace.can_save():
        return False
    loaded = _store(DISK_KEY).get(exercise)
    text = workspace.read_exercise(exercise)
    current = workspace.fingerprint(text)
    if current == loaded or workspace.fingerprint(codes[exercise]) != loaded:
        return False
    replace_code(exercise, text)
    _store(DISK_KEY)[exercise] = current
    return True


def session_sources() -> dict[str, str]:
    """Module name -> code of every exercise edited in this session: what "mine" means in the sandbox."""
    for exercise in list(st.session_state.get(CODE_KEY, {})):
        follow_disk(exercise)
    return dict(st.session_state.get(CODE_KEY, {}))


def replace_code(exercise: str, code: str) -> None:
    """Put ``code`` in the editor (upload, reload, reset) and remount the editor to show it."""
    _store(CODE_KEY)[exercise] = code
    versions = _store(VERSION_KEY)
    versions[exercise] = versions.get(exercise, 0) + 1


def _widget_key(exercise: str, kind: str) -> str:
    return f"{kind}_{exercise}_{st.session_state.get(VERSION_KEY, {}).get(exercise, 0)}"


def _component_editor(exercise: str, code: str, func: EditorFunc) -> bool:
    """The Ace editor; returns True when the learner pressed Ctrl+Enter or the editor's Check button."""
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
        buttons=[
            {
                "name": "Check (Ctrl+Enter)",
                "feather": "Play",
                "primary": True,
                "hasText": True,
                "showWithIcon": True,
                "alwaysOn": True,
                "commands": ["submit"],
                "style": {"bottom": "0.44rem", "right": "0.4rem"},
            }
        ],
        key=_widget_key(exercise, "code_editor"),
    )
    if not isinstance(response, dict):
        return False
    event_id, text = str(response.get("id") or ""), response.get("text")
    seen = _store(EVENT_KEY)
    if not event_id or seen.get(exercise) == event_id or not isinstance(text, str):
        return False
    seen[exercise] = event_id
    _store(CODE_KEY)[exercise] = text
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
    _store(CODE_KEY)[exercise] = str(text)


def mark_checked(exercise: str) -> None:
    """Remember that the editor's current code of ``exercise`` is what the stored results are about."""
    _store(CHECKED_KEY)[exercise] = workspace.fingerprint(code_for(exercise))


def check_code(exercise: str) -> list[CheckResult]:
    """Check the editor's code in the sandbox (with live progress) and remember which code was checked."""
    from playground.ui import persistence
    from playground.ui.widgets import run_and_store_checks

    code_for(exercise)
    sources = session_sources()
    results = run_and_store_checks(exercise, "exercises", sources=sources)
    mark_checked(exercise)
    persistence.checks_ran(exercise, sources[exercise], results)
    return results


def show_grouped_results(results: list[CheckResult]) -> None:
    """Check results with identical failures grouped: a learner reads each message once."""
    from playground.ui.widgets import escape_markdown

    passed = sum(r.passed for r in results)
    if passed == len(results):
        st.success(f"All {len(results)} checks passed.")
    else:
        st.error(f"{summary(results)}. Fix the first failure first: later ones often follow from it.")
    for line in group_results(results):
        icon = ":material/check_circle:" if line.passed else ":material/cancel:"
        first, _, rest = line.message.partition("\n")
        st.markdown(f"{icon} **{escape_markdown(line.title)}** — {escape_markdown(first)}")
        if len(line.checks) > 1:
            st.caption("; ".join(line.checks))
        if rest:
            st.code(rest, language=None)


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
                _store(DISK_KEY)[exercise] = workspace.fingerprint(code)
                st.toast(f"Saved exercises/{exercise}.py")
        disk = workspace.read_exercise(exercise)
        if workspace.fingerprint(disk) != _store(DISK_KEY).get(exercise):
            st.info(
                f"`exercises/{exercise}.py` changed on disk since the editor loaded it, and you changed the code "
                "here too. Reloading replaces the editor's code with the file (download it first to keep it)."
            )
            if st.button(f"Reload exercises/{exercise}.py into the editor", key=f"reload_code_{exercise}"):
                replace_code(exercise, disk)
                _store(DISK_KEY)[exercise] = workspace.fingerprint(disk)
                st.rerun()
    else:
        middle.caption("Your code is kept as you work (see *Your saved work* or *Your data* in the sidebar).")
    with right.popover("Upload a .py file", icon=":material/upload:"):
        upload = st.file_uploader(
            f"Restore {exercise}.py", type=["py"], key=f"upload_code_{exercise}", max_upload_size=1
        )
        if upload is not None and _store(UPLOAD_KEY).get(exercise) != upload.file_id:
            _store(UPLOAD_KEY)[exercise] = upload.file_id
            try:
                text = workspace.decode_upload(upload.getvalue(), upload.name)
            except ValueError as err:
                st.error(str(err))
            else:
                replace_code(exercise, text)
                st.rerun()


def hints_panel(exercise: str) -> None:
    """ "Show a hint": the next hint of the first failing function, and every hint shown so far."""
    from playground.ui.widgets import escape_markdown, stored_checks

    revealed: dict[str, dict[str, int]] = st.session_state.setdefault(HINTS_KEY, {})
    results = stored_checks(exercise) or []
    focus = hints.failing_functions(exercise, results)
    upcoming = hints.next_hint(exercise, revealed, focus)
    label = "Show a hint" if not hints.shown_hints(exercise, revealed) else "Next hint"
    clicked = st.button(label, key=f"hint_{exercise}", icon=":material/lightbulb:", disabled=upcoming is None)
    if clicked and upcoming is not None:
        hints.reveal(revealed, upcoming)
    shown = hints.shown_hints(exercise, revealed)
    if shown:
        with st.container(border=True):
            for step in shown:
                st.markdown(f"**{escape_markdown(step.label)}**  \n{step.text}")
    if upcoming is None:
        st.caption("No hints left for this exercise.")


def _all_passed(results: Sequence[CheckResult] | None) -> bool:
    return bool(results) and all(result.passed for result in results or ())


def solution_panel(exercise: str) -> None:
    """The reference solution: open once all checks of the learner's code pass, or after a confirmation."""
    from playground.ui.widgets import read_source, stored_checks

    passed = _all_passed(stored_checks(exercise))
    unlocked = _store(SOLUTION_KEY)
    if passed or unlocked.get(exercise):
        with st.expander(f"Reference solution (solutions/{exercise}.py)", expanded=False):
            if passed:
                st.caption("All your checks pass: compare your code with the reference.")
            st.code(read_source("solutions", exercise), language="python", line_numbers=True)
        return
    confirming = _store(CONFIRM_KEY)
    if not confirming.get(exercise):
        if st.button("Show me the solution", key=f"solution_ask_{exercise}", icon=":material/visibility:"):
            confirming[exercise] = True
            st.rerun()
        st.caption("The reference solution opens by itself once all your checks pass.")
        return
    st.warning(
        "Seeing the solution before your checks pass takes away the part where you find the bug yourself. "
        "A hint may be enough. Show the solution anyway?"
    )
    yes, no = st.columns(2)
    if yes.button("Yes, show the solution", key=f"solution_yes_{exercise}", type="primary"):
        unlocked[exercise] = True
        confirming[exercise] = False
        st.rerun()
    if no.button("No, keep trying", key=f"solution_no_{exercise}"):
        confirming[exercise] = False
        st.rerun()


@st.fragment
def editor_panel(exercise: str) -> None:
    """The editor with Check, file tools and hints: the exercise loop of a page.

    A fragment: typing, Check and the hints rerun this panel only, not the whole page, so a
    result shows as soon as the sandbox has it (the rest of the page reads the code and the
    results from session state on its own next run).
    """
    from playground.ui import persistence
    from playground.ui.widgets import stored_checks

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
        hints_panel(exercise)
    if submitted:
        was_passing = _all_passed(stored_checks(exercise))
        check_code(exercise)
        if _all_passed(stored_checks(exercise)) != was_passing:
            st.rerun()  # the whole page: the reference solution below opens (or closes) with this result
    results = stored_checks(exercise)
    if results is not None:
        if _store(CHECKED_KEY).get(exercise) not in (None, workspace.fingerprint(code)):
            st.caption("Your code changed since this check: press Check again.")
        show_grouped_results(results)
    _file_tools(exercise, code)
    persistence.save_exercise(exercise)  # kept as the learner works: in the browser, or the class database
