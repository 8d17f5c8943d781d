"""Every page after the home page, in the lesson's order, and which page comes after an exercise."""

from __future__ import annotations

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


# The page of each exercise.
EXERCISE_PAGES: dict[str, str] = {
    "q_network": "pages/1_q_network.py",
    "replay_buffer": "pages/2_replay_buffer.py",
    "train_dqn": "pages/3_training.py",
    "save_load": "pages/4_save_load.py",
    "network_sizes": "pages/5_network_sizes.py",
}


def exercise_of(path: str) -> str | None:
    """The exercise whose page is the file ``path`` (None for the other pages)."""
    return next((exercise for exercise, page in EXERCISE_PAGES.items() if page == path), None)


def page_of(exercise: str) -> tuple[str, str, str] | None:
    """The page of ``exercise``: (file, title, icon)."""
    return next((page for page in PAGES if page[0] == EXERCISE_PAGES.get(exercise)), None)


def next_page(exercise: str) -> tuple[str, str, str] | None:
    """The page after ``exercise``'s: the next exercise, or the comparison page after the last one."""
    page = page_of(exercise)
    if page is None:
        return None
    index = PAGES.index(page)
    return PAGES[index + 1] if index + 1 < len(PAGES) else None
