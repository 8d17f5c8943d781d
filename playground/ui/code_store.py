"""The learner's work in this browser session: the code in each exercise's editor, and its check results.

The code lives in session state for the browser session, so it survives reruns
and page changes; it starts as ``exercises/<module>.py`` (the stub on a deployed
app, the learner's file in a clone). Check and every "mine" run send it to the
sandbox as ``sources`` (:func:`session_sources`). Nothing here draws a widget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from playground.checks import CheckResult
from playground.core import workspace
from playground.core.facts import Impl
from playground.ui.session import CHECKED_KEY, CHECKS_KEY, CODE_KEY, DISK_KEY, VERSION_KEY


def store(key: str) -> dict[str, Any]:
    """The per-exercise dict under ``key`` (one of :mod:`playground.ui.session`'s editor keys)."""
    value: dict[str, Any] = st.session_state.setdefault(key, {})
    return value


def code_for(exercise: str) -> str:
    """The learner's code for ``exercise`` in this session (first time: ``exercises/<module>.py``)."""
    codes = store(CODE_KEY)
    if exercise not in codes:
        text = workspace.read_exercise(exercise)
        codes[exercise] = text
        store(DISK_KEY)[exercise] = workspace.fingerprint(text)
    code: str = codes[exercise]
    return code


def set_code(exercise: str, code: str) -> None:
    """What the learner typed (the editor already shows it)."""
    store(CODE_KEY)[exercise] = code


def replace_code(exercise: str, code: str) -> None:
    """Put ``code`` in the editor (upload, reload, reset) and remount the editor to show it."""
    store(CODE_KEY)[exercise] = code
    versions = store(VERSION_KEY)
    versions[exercise] = versions.get(exercise, 0) + 1


def follow_disk(exercise: str) -> bool:
    """From a clone: take a newer ``exercises/<module>.py`` into the editor if the editor's code is untouched.

    The editor follows the file while the learner has not changed the code in the page since it was
    loaded (or saved), so editing in one's own editor and pressing Check just works. When both changed,
    nothing is replaced: the page offers a reload instead. Returns True when the code was replaced.
    """
    codes = store(CODE_KEY)
    if exercise not in codes or not workspace.can_save():
        return False
    loaded = store(DISK_KEY).get(exercise)
    text = workspace.read_exercise(exercise)
    current = workspace.fingerprint(text)
    if current == loaded or workspace.fingerprint(codes[exercise]) != loaded:
        return False
    replace_code(exercise, text)
    store(DISK_KEY)[exercise] = current
    return True


def session_sources() -> dict[str, str]:
    """Module name -> code of every exercise edited in this session: what "mine" means in the sandbox."""
    for exercise in list(st.session_state.get(CODE_KEY, {})):
        follow_disk(exercise)
    return dict(st.session_state.get(CODE_KEY, {}))


def mark_checked(exercise: str, code: str | None = None) -> None:
    """Remember which code of ``exercise`` the stored results are about (default: the editor's code now)."""
    store(CHECKED_KEY)[exercise] = workspace.fingerprint(code_for(exercise) if code is None else code)


def checked_is_current(exercise: str) -> bool:
    """True unless the editor's code changed since the stored results were made."""
    return store(CHECKED_KEY).get(exercise) in (None, workspace.fingerprint(code_for(exercise)))


def stored_checks(exercise: str, impl: Impl = "exercises") -> list[CheckResult] | None:
    """The newest check results of ``exercise`` on ``impl`` in this session (None: never checked)."""
    results: dict[tuple[str, str], list[CheckResult]] = st.session_state.get(CHECKS_KEY, {})
    return results.get((exercise, impl))


def store_checks(exercise: str, impl: Impl, results: list[CheckResult]) -> None:
    st.session_state.setdefault(CHECKS_KEY, {})[(exercise, impl)] = results


def all_passed(results: Sequence[CheckResult] | None) -> bool:
    return bool(results) and all(result.passed for result in results or ())
