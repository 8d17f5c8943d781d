"""DQN Playground: the entry point, router and home (lesson) page.

Run with ``streamlit run streamlit_app.py``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import streamlit as st
import torch

from playground import live_jobs
from playground.lesson import render_home
from playground.ui import finish_pending_tasks, running_jobs_note

ROOT = Path(__file__).resolve().parent

# (file, title, icon) of every page after the home page, in the lesson's order.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("pages/1_q_network.py", "1. Q-network", ":material/hub:"),
    ("pages/2_replay_buffer.py", "2. Replay buffer", ":material/storage:"),
    ("pages/3_training.py", "3. Training", ":material/trending_up:"),
    ("pages/4_save_load.py", "4. Save and load", ":material/save:"),
    ("pages/5_network_sizes.py", "5. Network sizes", ":material/stacked_line_chart:"),
    ("pages/6_reference_comparison.py", "Reference vs SB3", ":material/compare_arrows:"),
)


@st.cache_resource
def _configure_torch() -> int:
    """Once per server: one intra-op thread, so sessions training at once share 2 cores fairly.

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


# Wide display equations scroll sideways inside themselves instead of being cut off on a phone.
PAGE_CSS = "<style>.katex-display{overflow-x:auto;overflow-y:hidden;padding:2px 0 6px}</style>"


def main() -> None:
    st.set_page_config(page_title="DQN Playground", page_icon=":material/sports_esports:", layout="wide")
    _configure_torch()
    live_jobs.note_script_run()
    st.html(PAGE_CSS)
    pages = [st.Page(render_home, title="Lesson: Deep Q-Networks", icon=":material/school:", default=True)]
    pages += [st.Page(path, title=title, icon=icon) for path, title, icon in PAGES if (ROOT / path).exists()]
    navigation = st.navigation(pages)
    finish_pending_tasks()
    running_jobs_note()
    try:
        navigation.run()
    except Exception as err:  # noqa: BLE001 - shown in full: Streamlit Cloud hides the details of uncaught errors
        # (Streamlit's own stop and rerun signals are BaseExceptions and pass through.)
        st.error("This page stopped at an unexpected error. The details below say where; other pages still work.")
        st.exception(err)


# Streamlit runs this file as ``__main__``; ``playground.ui.ensure_router`` imports it
# under its own name to call ``main`` itself.
if __name__ == "__main__":
    main()
