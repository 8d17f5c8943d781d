"""Keeping a learner's work between visits: in their own browser, or in the class database.

What is kept, per exercise: the code in the editor, the hint positions, the results of the last Check
of the learner's code (and which code they are about); and the settings of the last runs (the widget
values :func:`playground.ui.widgets.remember_widgets` keeps). It is saved as the learner works, with
no Save button, and put back into session state at the start of a visit.

**Anonymous (the default, nothing to configure).** The work lives in the browser's local storage, one
entry per exercise and one for the settings, under :data:`STORAGE_PREFIX`, written by a tiny
``st.components.v2`` component (Streamlit's own, no third-party package): it survives a reload, a new
tab, a server restart and Community Cloud's sleep, and nothing of it is kept on the server. The first
run of a visit cannot know what the browser holds; the component reads it and reruns the app, which
then restores it. Nothing is written before that, so a visit never overwrites saved work with stubs.

**A class** (``[class]`` or ``[auth]`` in the app's secrets; see README, "Deploying for a class"):
learners sign in with ``st.login`` or join with the class code and a name, and their work and every
Check the server runs on their code go to the database (:mod:`playground.store`), written by one
background thread so that neither a Check nor a keystroke waits for it. Teachers named in the secrets
see the class on the teacher page (:mod:`playground.ui.teacher`).

The router and the pages call five things: :func:`known_visitor` before the navigation, :func:`start` right
after it in every run, :func:`save_exercise` at the end of an editor's run, :func:`checks_ran` after a Check
of the learner's code, and :func:`finish` at the end of every run.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import streamlit as st

from playground.checks import CheckResult
from playground.core import workspace
from playground.core.facts import EXERCISES
from playground.store.work import MAX_CODE_CHARS, ExerciseWork, StoredCheck, TooLarge, Work, clean_settings
from playground.ui.class_setup import ClassSetup, app_secrets, class_setup
from playground.ui.code_store import replace_code
from playground.ui.session import (
    CHECKED_KEY,
    CHECKS_KEY,
    CODE_KEY,
    CREDENTIAL_KEY,
    DISK_KEY,
    FORGET_KEY,
    HINTS_KEY,
    KEPT_KEY,
    LEARNER_KEY,
    NEW_KEY_KEY,
    RESTORED_KEY,
    TEACHER_KEY,
    WRITTEN_KEY,
)

if TYPE_CHECKING:  # the database layer (SQLAlchemy, Alembic: about 28 MB) is imported only for a class
    from playground.store.db import LearnerInfo, Store

STORAGE_PREFIX = "dqn-playground/v1/"  # the browser's local-storage keys: <prefix><exercise>, <prefix>settings
SETTINGS_PART = "settings"
CREDENTIAL_PART = "class-key"  # a class-code learner's name and personal key, so a reload signs them in again


_JS = """
export default function(component) {
  const { data, setStateValue } = component;
  const prefix = data.prefix;
  try {
    for (const [part, text] of Object.entries(data.writes || {})) {
      if (text === null) { window.localStorage.removeItem(prefix + part); }
      else { window.localStorage.setItem(prefix + part, text); }
    }
    if (data.read) {
      const found = {};
      for (let i = 0; i < window.localStorage.length; i++) {
        const key = window.localStorage.key(i);
        if (key && key.startsWith(prefix)) { found[key.slice(prefix.length)] = window.localStorage.getItem(key); }
      }
      setStateValue("stored", found);
    }
  } catch (err) {
    if (data.read) { setStateValue("stored", {}); }  // storage blocked: work stays in this session only
  }
}
"""
_HIDE_CSS = "<style>[class*='st-key-pg-store']{display:none}</style>"


@functools.cache
def _component() -> Callable[..., Any]:
    mount: Callable[..., Any] = st.components.v2.component("dqn_playground_local_store", js=_JS)
    return mount


# --- configuration ----------------------------------------------------------------------------------


@st.cache_resource(show_spinner="Opening the class database ...")
def _open_store(url: str) -> Store:
    from playground.store.db import open_store

    return open_store(url)


def store() -> Store:
    """The class database (opened, and its schema upgraded, once per server and URL)."""
    from playground.store.config import database_url

    return _open_store(database_url(app_secrets()).render_as_string(hide_password=False))


# --- background writes (class mode) -------------------------------------------------------------------

_LOG = logging.getLogger(__name__)
_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playground-store")
_pending: list[Future[None]] = []
_pending_lock = threading.Lock()
atexit.register(_writer.shutdown, wait=True)


def _in_background(task: Callable[[], object]) -> None:
    def run() -> None:
        try:
            task()
        except TooLarge:
            pass  # oversized code is not kept; what was kept before stays
        except Exception:  # noqa: BLE001 - a database that is down must not break the learner's page
            _LOG.exception("could not save a learner's work to the class database")

    future = _writer.submit(run)
    with _pending_lock:
        _pending[:] = [f for f in _pending if not f.done()] + [future]


def flush(timeout: float = 30.0) -> None:
    """Wait until every database write started so far is done (tests; the teacher page's Refresh)."""
    with _pending_lock:
        waiting = list(_pending)
    for future in waiting:
        future.result(timeout=timeout)


# --- session state <-> Work ------------------------------------------------------------------------


def _exercise_work(exercise: str) -> ExerciseWork:
    """What this session holds of ``exercise`` (code only when it differs from the exercise file)."""
    code = st.session_state.get(CODE_KEY, {}).get(exercise)
    if code is not None and (code == workspace.read_exercise(exercise) or len(code) > MAX_CODE_CHARS):
        code = None  # the untouched starting file: nothing to keep (and oversized code is not kept)
    results = st.session_state.get(CHECKS_KEY, {}).get((exercise, "exercises"))
    return ExerciseWork(
        code=code,
        hints=dict(st.session_state.get(HINTS_KEY, {}).get(exercise, {})),
        checks=None if results is None else [StoredCheck.from_result(r) for r in results],
        checked=st.session_state.get(CHECKED_KEY, {}).get(exercise),
    )


def _settings() -> dict[str, Any]:
    return clean_settings(st.session_state.get(KEPT_KEY, {}))


def session_work() -> Work:
    """Everything this session would keep, as :class:`Work`."""
    work = Work(settings=_settings())
    for exercise in EXERCISES:
        ex = _exercise_work(exercise)
        if not ex.is_empty():
            work.exercises[exercise] = ex
    return work


def _check_result(exercise: str, stored: StoredCheck) -> CheckResult:
    values: dict[str, Any] = {
        "exercise": exercise,
        "check": stored.check,
        "passed": stored.passed,
        "message": stored.message,
    }
    if "status" in {f.name for f in dataclasses.fields(CheckResult)}:
        values["status"] = stored.status
    return CheckResult(**values)


def restore(work: Work) -> None:
    """Put kept work into session state: editors, hints, the last Checks, the widgets' settings."""
    state = st.session_state
    for exercise, ex in work.exercises.items():
        if ex.code is not None:
            replace_code(exercise, ex.code)
            state.setdefault(DISK_KEY, {})[exercise] = workspace.disk_fingerprint(exercise)
        if ex.hints:
            state.setdefault(HINTS_KEY, {})[exercise] = dict(ex.hints)
        if ex.checks is not None:
            state.setdefault(CHECKS_KEY, {})[(exercise, "exercises")] = [_check_result(exercise, c) for c in ex.checks]
            if ex.checked:
                state.setdefault(CHECKED_KEY, {})[exercise] = ex.checked
    kept: dict[str, Any] = state.setdefault(KEPT_KEY, {})
    for key, value in work.settings.items():
        kept.setdefault(key, value)
    for part, data in _parts(work).items():
        state.setdefault(WRITTEN_KEY, {})[part] = data


def _parts(work: Work) -> dict[str, str]:
    parts = {name: json.dumps(ex.to_json(), sort_keys=True) for name, ex in work.exercises.items()}
    parts[SETTINGS_PART] = json.dumps(work.settings, sort_keys=True)
    return parts


def _work_from_parts(parts: Mapping[str, object]) -> Work:
    data: dict[str, Any] = {"exercises": {}, "settings": {}}
    for part, text in parts.items():
        if not isinstance(text, str):
            continue
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if part == SETTINGS_PART:
            data["settings"] = value
        elif part in EXERCISES:
            data["exercises"][part] = value
    return Work.from_json(data)


# --- the learner: anonymous, or signed in ----------------------------------------------------------------


def current_learner() -> LearnerInfo | None:
    """The signed-in learner of this session (class mode), or None."""
    learner = st.session_state.get(LEARNER_KEY)
    return learner if learner is not None and hasattr(learner, "identity") else None


def _user_email() -> str | None:
    with contextlib.suppress(Exception):
        if st.user.is_logged_in:
            email = st.user.get("email")
            return str(email) if email else None
    return None


def is_teacher(setup: ClassSetup | None = None) -> bool:
    """Whether this session may see the teacher page: a signed-in teacher e-mail, or the teacher code."""
    setup = setup or class_setup()
    if not setup.active:
        return False
    if setup.teacher_code and st.session_state.get(TEACHER_KEY) is True:
        return True
    email = _user_email()
    return email is not None and email.strip().casefold() in setup.teacher_emails


def _credential_hash(setup: ClassSetup) -> str:
    return hashlib.sha256(("class:" + setup.class_code).encode()).hexdigest()[:12]


# --- what the pages call ----------------------------------------------------------------------------------


def known_visitor() -> bool:
    """Whether this session sees the pages without signing in first: always without a class; with a class, once
    signed in (or let in as a teacher). Reads the session only, so the router can ask before its navigation."""
    setup = class_setup()
    return not setup.active or current_learner() is not None or is_teacher(setup)


def start() -> bool:
    """Right after the navigation, in every run: sign-in (class mode) and putting kept work back. False: stop
    this run.

    In class mode, a visitor who is neither signed in nor a teacher sees the sign-in form instead of
    the app, and the run should stop there.
    """
    st.html(_HIDE_CSS)
    setup = class_setup()
    if not setup.active:
        _browser_restore()
        _data_panel_anonymous()
        return True
    _write_credential()
    if current_learner() is None and not is_teacher(setup) and not _sign_in(setup):
        return False
    learner = current_learner()
    if learner is not None and not st.session_state.get(RESTORED_KEY):
        restore(store().load_work(learner.id))
        st.session_state[RESTORED_KEY] = True
    _data_panel_class(setup)
    return True


def _browser_restore() -> None:
    """Anonymous: read the browser's kept work once per session (the component reruns the app with it)."""
    if st.session_state.get(RESTORED_KEY):
        return
    with st.container(key="pg-store-read"):
        result = _component()(
            key="pg_store_read", data={"prefix": STORAGE_PREFIX, "read": True}, on_stored_change=lambda: None
        )
    stored = getattr(result, "stored", None)
    if isinstance(stored, Mapping):
        restore(_work_from_parts(stored))
        st.session_state[RESTORED_KEY] = True


def _write_browser(parts: Mapping[str, str | None], key: str) -> None:
    with st.container(key=f"pg-store-{key}"):
        _component()(key=f"pg_store_{key}", data={"prefix": STORAGE_PREFIX, "writes": dict(parts)})


def save_exercise(exercise: str) -> None:
    """At the end of an editor's run: keep ``exercise``'s code and hint positions if they changed."""
    if not st.session_state.get(RESTORED_KEY):
        return  # what the browser holds is not known yet: never overwrite it
    written: dict[str, str] = st.session_state.setdefault(WRITTEN_KEY, {})
    ex = _exercise_work(exercise)
    text = json.dumps(ex.to_json(), sort_keys=True)
    learner = current_learner()
    if learner is None:
        if not class_setup().active:
            _write_browser({exercise: None if ex.is_empty() else text}, exercise)
            written[exercise] = text
        return
    if written.get(exercise) == text:
        return
    before = ExerciseWork.from_json(json.loads(written.get(exercise, "null")))
    written[exercise] = text
    if ex.code is not None and ex.code != before.code:
        code = ex.code
        _in_background(lambda: store().save_code(learner.id, exercise, code))
    if ex.hints and ex.hints != before.hints:
        hints = dict(ex.hints)
        _in_background(lambda: store().save_hints(learner.id, exercise, hints))


def checks_ran(exercise: str, code: str, results: Iterable[CheckResult]) -> None:
    """After the server ran a Check of the learner's ``code``: keep it (class mode; the browser keeps its copy
    through :func:`save_exercise`)."""
    learner = current_learner()
    if learner is None:
        return
    kept = list(results)
    fingerprint = workspace.fingerprint(code)
    _in_background(lambda: store().record_checks(learner.id, exercise, code, fingerprint, kept))


def finish() -> None:
    """At the end of every run: keep the settings of the runs, and every exercise the run may have changed."""
    if not st.session_state.get(RESTORED_KEY):
        return
    written: dict[str, str] = st.session_state.setdefault(WRITTEN_KEY, {})
    settings = _settings()
    text = json.dumps(settings, sort_keys=True)
    learner = current_learner()
    if learner is None:
        if class_setup().active:
            return
        forget = st.session_state.pop(FORGET_KEY, None)
        parts: dict[str, str | None] = {SETTINGS_PART: text if settings else None}
        for exercise in EXERCISES:
            ex = _exercise_work(exercise)
            parts[exercise] = None if ex.is_empty() else json.dumps(ex.to_json(), sort_keys=True)
        if forget:
            parts = dict.fromkeys(parts)
        _write_browser(parts, "all")
        written.update({k: v for k, v in parts.items() if v is not None})
        return
    if written.get(SETTINGS_PART) != text:
        written[SETTINGS_PART] = text
        _in_background(lambda: store().save_settings(learner.id, settings))
    for exercise in EXERCISES:
        save_exercise(exercise)


# --- sign-in (class mode) --------------------------------------------------------------------------------


def _sign_in(setup: ClassSetup) -> bool:
    """Sign the visitor in if their browser or identity provider already says who they are; else show the form."""
    email = _user_email()
    if email is not None:
        name = str(st.user.get("name") or email)
        st.session_state[LEARNER_KEY] = store().signed_in(email, name)
        return True
    if setup.class_code and _rejoin_from_browser(setup):
        return True
    _sign_in_form(setup)
    return False


def _rejoin_from_browser(setup: ClassSetup) -> bool:
    with st.container(key="pg-store-class"):
        result = _component()(
            key="pg_store_class", data={"prefix": STORAGE_PREFIX, "read": True}, on_stored_change=lambda: None
        )
    stored = getattr(result, "stored", None)
    if not isinstance(stored, Mapping):
        return False
    with contextlib.suppress(ValueError, TypeError, KeyError):
        saved = json.loads(str(stored.get(CREDENTIAL_PART)))
        if saved.get("class") == _credential_hash(setup):
            learner = store().rejoin(str(saved["name"]), str(saved["key"]))
            if learner is not None:
                st.session_state[LEARNER_KEY] = learner
                return True
    return False


def _remember_credential(setup: ClassSetup, name: str, key: str | None) -> None:
    """Have this browser remember (or, with ``key=None``, forget) the learner's name and personal key.

    Written by :func:`_write_credential` on every run from now on, so a rerun right after cannot lose it.
    """
    text = None if key is None else json.dumps({"class": _credential_hash(setup), "name": name, "key": key})
    st.session_state[CREDENTIAL_KEY] = text


def _write_credential() -> None:
    if CREDENTIAL_KEY in st.session_state:
        _write_browser({CREDENTIAL_PART: st.session_state[CREDENTIAL_KEY]}, "credential")


def _sign_in_form(setup: ClassSetup) -> None:
    st.title("DQN Playground")
    st.markdown(
        "This playground belongs to a class: sign in so that your code, hints and check results are kept "
        "for you (and your teacher sees your progress)."
    )
    if setup.sign_in:
        st.button("Sign in with your account", type="primary", icon=":material/login:", on_click=st.login)
    if setup.class_code:
        join, again = st.tabs(["Join with the class code", "I joined before"])
        with join, st.form("class_join"):
            code = st.text_input("Class code", type="password")
            name = st.text_input("Your name (as your teacher knows you)", max_chars=80)
            if st.form_submit_button("Join the class", type="primary"):
                _join(setup, code, name)
        with again, st.form("class_rejoin"):
            name = st.text_input("Your name", max_chars=80, key="class_rejoin_name")
            key = st.text_input("Your personal key", type="password")
            if st.form_submit_button("Sign in with my key"):
                learner = store().rejoin(name, key)
                if learner is None:
                    st.error("That name and personal key do not match a learner of this class.")
                else:
                    st.session_state[LEARNER_KEY] = learner
                    _remember_credential(setup, name, key)
                    st.rerun()
    if setup.teacher_code:
        with st.expander("Teacher"), st.form("teacher_code"):
            code = st.text_input("Teacher code", type="password")
            if st.form_submit_button("Open the teacher page"):
                if hmac.compare_digest(code.encode(), setup.teacher_code.encode()):
                    st.session_state[TEACHER_KEY] = True
                    st.rerun()
                st.error("That is not the teacher code.")


def _join(setup: ClassSetup, code: str, name: str) -> None:
    if not hmac.compare_digest(code.strip().encode(), setup.class_code.encode()):
        st.error("That is not this class's code: ask your teacher for it.")
        return
    from playground.store.db import NameTaken

    try:
        learner, key = store().join(name)
    except NameTaken as err:
        st.error(f"{err}. If that is you, use the tab *I joined before*; else add a letter to your name.")
        return
    except ValueError as err:
        st.error(str(err))
        return
    st.session_state[LEARNER_KEY] = learner
    st.session_state[NEW_KEY_KEY] = key
    _remember_credential(setup, learner.name, key)
    st.rerun()


# --- "Your data" in the sidebar ----------------------------------------------------------------------------


def _data_panel_anonymous() -> None:
    with st.sidebar.popover("Your saved work", icon=":material/save:"):
        st.caption(
            "Your code, hints, check results and run settings are kept in this browser (its local storage) as "
            "you work; nothing of them is kept on the server."
        )
        work = session_work()
        st.download_button(
            "Download everything kept",
            data=lambda: json.dumps(work.to_json(), indent=1),
            file_name="dqn-playground-work.json",
            mime="application/json",
            key="pg_export_browser",
        )
        if st.button("Forget my saved work", key="pg_forget_browser"):
            _reset_session_work()
            st.session_state[FORGET_KEY] = True
            st.rerun()


def _reset_session_work() -> None:
    """Back to a fresh visit's state: the editors hold the exercise files, no hints, no Check results."""
    for key in (HINTS_KEY, CHECKED_KEY, KEPT_KEY, WRITTEN_KEY):
        st.session_state.pop(key, None)
    checks: dict[tuple[str, str], Any] = st.session_state.get(CHECKS_KEY, {})
    for exercise in EXERCISES:
        checks.pop((exercise, "exercises"), None)
        replace_code(exercise, workspace.read_exercise(exercise))


def _data_panel_class(setup: ClassSetup) -> None:
    learner = current_learner()
    sidebar = st.sidebar
    if learner is None:
        sidebar.caption(":material/school: Signed in with the teacher code.")
        return
    sidebar.caption(f":material/person: Signed in as **{learner.name}**")
    new_key = st.session_state.get(NEW_KEY_KEY)
    if new_key:
        sidebar.info(
            f"Your personal key is `{new_key}`. Write it down: with your name, it signs you in on another "
            "device. This browser remembers it."
        )
        if sidebar.button("I wrote it down", key="pg_key_seen"):
            st.session_state.pop(NEW_KEY_KEY, None)
            st.rerun()
    with sidebar.popover("Your data", icon=":material/folder_shared:"):
        st.caption("Kept in the class database: your code, hints, every Check the server ran, your run settings.")
        database = store()

        def export() -> str:
            flush()
            return json.dumps(database.export(learner.id), indent=1)

        st.download_button(
            "Download everything stored about me",
            data=export,
            file_name="dqn-playground-my-data.json",
            mime="application/json",
            key="pg_export_class",
        )
        confirm = st.checkbox("Yes, delete all of it", key="pg_delete_confirm")
        if st.button("Delete everything stored about me", key="pg_delete_class", disabled=not confirm):
            flush()
            store().delete_learner(learner.id)
            _reset_session_work()
            for key in (LEARNER_KEY, RESTORED_KEY, NEW_KEY_KEY):
                st.session_state.pop(key, None)
            if setup.class_code:
                _remember_credential(setup, "", None)
            if _user_email() is not None:
                st.logout()  # else the next run would sign them in, and so store them, again
            st.rerun()
        if setup.sign_in and _user_email() is not None:
            st.button("Sign out", key="pg_sign_out", on_click=st.logout)
