"""The app's router: every page in the lesson's order, under one ``st.navigation``.

``streamlit_app.py`` (the entry point Streamlit runs) calls :func:`main`, and
so does :func:`ensure_router` when Streamlit ran a page file on its own.
"""

from __future__ import annotations

import streamlit as st

from playground.core.facts import PROJECT_ROOT
from playground.ui.class_setup import class_setup
from playground.ui.page_list import HOME_TITLE, PAGES

# For a phone. Wide display equations and Markdown tables (the lesson's symbol table) scroll sideways inside
# themselves instead of being cut off. On a narrow screen a figure keeps at least FIGURE_MIN_PX of width and
# scrolls sideways: scaled down to the column (about 360 px), a figure's 11-point labels would shrink to 5-7 px.
FIGURE_MIN_PX = 600
PAGE_CSS = (
    "<style>"
    ".katex-display{overflow-x:auto;overflow-y:hidden;padding:2px 0 6px}"
    "[data-testid=stMarkdownContainer] table{display:block;overflow-x:auto;max-width:100%}"
    "@media (max-width:640px){"
    "[data-testid=stImage]{overflow-x:auto;max-width:100%}"
    f"[data-testid=stImage] img{{min-width:{FIGURE_MIN_PX}px;max-width:none}}"
    "}"
    "</style>"
)
# Shown only to the teachers a class names in its secrets (playground.ui.persistence.is_teacher).
TEACHER_PAGES: tuple[tuple[str, str, str], ...] = (("pages/7_teacher.py", "Teacher: the class", ":material/groups:"),)


def render_home() -> None:
    """The home page (:mod:`playground.ui.lesson`)."""
    from playground.ui.lesson import render_home as draw

    draw()


def main() -> None:
    """Set up the page and run the page the URL names (the lesson by default)."""
    st.set_page_config(page_title="DQN Playground", page_icon=":material/sports_esports:", layout="wide")
    in_class = class_setup().active
    from playground.ui import persistence

    # Who this is decides the navigation (hidden behind a class's sign-in form) and the teacher page: known
    # here from the session alone, since no widget may come before the navigation. A widget that reruns the
    # app before the browser has learnt which page this is (the browser-storage reader does, on the first run
    # of a visit) would rerun the default page: a reload of /q_network would land on the lesson.
    known = persistence.known_visitor()
    teacher = in_class and persistence.is_teacher()
    pages = [st.Page(render_home, title=HOME_TITLE, icon=":material/school:", default=True)]
    pages += [
        st.Page(PROJECT_ROOT / path, title=title, icon=icon)
        for path, title, icon in (*PAGES, *(TEACHER_PAGES if teacher else ()))
        if (PROJECT_ROOT / path).exists()
    ]
    # The navigation first: until this call the sidebar lists the raw file names of pages/, and a cold server
    # takes seconds to import torch and pandas. So this module imports only Streamlit at its top, and the
    # rest of the ui (downwards, as the layers contract allows) after the navigation is out. While a class's
    # sign-in form shows, the navigation is hidden (and still there, so a reload of /training is on /training
    # once signed in).
    navigation = st.navigation(pages, position="sidebar" if known else "hidden")
    # Kept work comes back before the page draws its widgets (anonymous: from this browser; a class: after
    # sign-in). False: a class's sign-in form is showing instead of the pages.
    signed_in = persistence.start()
    if signed_in and not known:
        st.rerun()  # signed in during this run: draw the navigation (and a teacher's page) for them
    from playground.ui import lesson, live_jobs, startup  # noqa: F401 - lesson: loaded before the freeze
    from playground.ui.job_panel import finish_pending_tasks, running_jobs_note

    # The teacher page (and with it the class database's SQLAlchemy and Alembic) only when a class is set up.
    startup.start(PROJECT_ROOT / path for path, _, _ in (*PAGES, *(TEACHER_PAGES if in_class else ())))
    live_jobs.note_script_run()
    st.html(PAGE_CSS)
    if not signed_in:
        return
    finish_pending_tasks()
    running_jobs_note()
    try:
        navigation.run()
    except Exception as err:  # noqa: BLE001 - shown in full: Streamlit Cloud hides the details of uncaught errors
        # (Streamlit's own stop and rerun signals are BaseExceptions and pass through.)
        st.error("This page stopped at an unexpected error. The details below say where; other pages still work.")
        st.exception(err)
    persistence.finish()


def ensure_router() -> None:
    """Make sure the calling page runs under :func:`main`'s ``st.navigation``: the deep-link workaround.

    Streamlit keeps a compatibility mode for apps with a ``pages/`` folder: when
    a fresh server's very first request is a deep link (``/training``), it runs
    that page file on its own, with an automatic sidebar and without our page
    config (AppTest does the same on every run of a page). Every page calls this
    first: in that mode it runs :func:`main` in its place, in the same run (so a
    button press is not lost), which renders this very page, and then ends the
    outer run. ``st.navigation`` also switches the mode off for the rest of the
    server's life.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        main()
        st.stop()
