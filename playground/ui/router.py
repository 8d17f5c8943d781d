"""The app's router: every page in the lesson's order, under one ``st.navigation``.

``streamlit_app.py`` (the entry point Streamlit runs) calls :func:`main`, and
so does :func:`ensure_router` when Streamlit ran a page file on its own.
"""

from __future__ import annotations

import matplotlib
import streamlit as st
import torch

from playground.core.facts import PROJECT_ROOT
from playground.ui import live_jobs, persistence
from playground.ui.lesson import render_home
from playground.ui.server_warmup import freeze_loaded_objects, load_server_modules
from playground.ui.widgets import finish_pending_tasks, running_jobs_note

# (file, title, icon) of every page after the home page, in the lesson's order.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("pages/1_q_network.py", "1. Q-network", ":material/hub:"),
    ("pages/2_replay_buffer.py", "2. Replay buffer", ":material/storage:"),
    ("pages/3_training.py", "3. Training", ":material/trending_up:"),
    ("pages/4_save_load.py", "4. Save and load", ":material/save:"),
    ("pages/5_network_sizes.py", "5. Network sizes", ":material/stacked_line_chart:"),
    ("pages/6_reference_comparison.py", "Reference vs SB3", ":material/compare_arrows:"),
)
# Shown only to the teachers a class names in its secrets (playground.ui.persistence.is_teacher).
TEACHER_PAGES: tuple[tuple[str, str, str], ...] = (("pages/7_teacher.py", "Teacher: the class", ":material/groups:"),)


@st.cache_resource
def _configure_torch() -> int:
    """Once per server: one intra-op thread, so sessions training at once share the cores fairly.

    Also larger matplotlib text: figures are scaled to the column's width, so on a
    phone (about 360 px) the default 10-point text would be too small to read.
    """
    torch.set_num_threads(1)
    matplotlib.rcParams.update(
        {
            "font.size": 12,
            "axes.titlesize": 13,
            "axes.labelsize": 12,
            "legend.fontsize": 10.5,
            "xtick.labelsize": 11,
            "ytick.labelsize": 11,
        }
    )
    return torch.get_num_threads()


@st.cache_resource(show_spinner="Starting the playground: loading what its pages use (once per server) ...")
def _load_server_modules() -> int:
    """Once per server: everything the pages import (see :mod:`playground.ui.server_warmup`)."""
    # The teacher page (and with it the class database's SQLAlchemy and Alembic) only when a class is set up.
    teacher = TEACHER_PAGES if persistence.class_setup().active else ()
    return load_server_modules(PROJECT_ROOT / path for path, _, _ in (*PAGES, *teacher))


# Wide display equations scroll sideways inside themselves instead of being cut off on a phone.
PAGE_CSS = "<style>.katex-display{overflow-x:auto;overflow-y:hidden;padding:2px 0 6px}</style>"


def main() -> None:
    """Set up the page and run the page the URL names (the lesson by default)."""
    st.set_page_config(page_title="DQN Playground", page_icon=":material/sports_esports:", layout="wide")
    _configure_torch()
    _load_server_modules()
    freeze_loaded_objects()
    live_jobs.note_script_run()
    st.html(PAGE_CSS)
    signed_in = persistence.start()  # False: a class's sign-in form is showing instead of the pages
    pages = [st.Page(render_home, title="Lesson: Deep Q-Networks", icon=":material/school:", default=True)]
    pages += [
        st.Page(PROJECT_ROOT / path, title=title, icon=icon)
        for path, title, icon in (*PAGES, *(TEACHER_PAGES if persistence.is_teacher() else ()))
        if (PROJECT_ROOT / path).exists()
    ]
    # Also while the sign-in form shows (hidden then), so a reload of /training is on /training once signed in.
    navigation = st.navigation(pages, position="sidebar" if signed_in else "hidden")
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
