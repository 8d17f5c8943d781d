"""Every page after the home page, in the lesson's order, and which page comes after an exercise."""

from __future__ import annotations

from pathlib import Path

# (file, title, icon) of every page after the home page, in the lesson's order.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("pages/1_q_network.py", "1. Q-network", ":material/hub:"),
    ("pages/2_replay_buffer.py", "2. Replay buffer", ":material/storage:"),
    ("pages/3_training.py", "3. Training", ":material/trending_up:"),
    ("pages/4_save_load.py", "4. Save and load", ":material/save:"),
    ("pages/5_network_sizes.py", "5. Network sizes", ":material/stacked_line_chart:"),
    ("pages/6_reference_comparison.py", "Reference vs SB3", ":material/compare_arrows:"),
)
HOME_TITLE = "Lesson: Deep Q-Networks"


def exercise_of(path: str) -> str:
    """The exercise a page file is about, by its name ``pages/<n>_<exercise>.py``."""
    return Path(path).stem.split("_", 1)[-1]


def page_of(exercise: str) -> tuple[str, str, str] | None:
    """The page of ``exercise``."""
    return next((page for page in PAGES if exercise_of(page[0]) == exercise), None)


def next_page(exercise: str) -> tuple[str, str, str] | None:
    """The page after ``exercise``'s: the next exercise, or the comparison page after the last one."""
    page = page_of(exercise)
    if page is None:
        return None
    index = PAGES.index(page)
    return PAGES[index + 1] if index + 1 < len(PAGES) else None
