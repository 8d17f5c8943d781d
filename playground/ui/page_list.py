"""Every page after the home page, in the lesson's order, and which page comes after an exercise."""

from __future__ import annotations

from playground.core.facts import MANIFEST

# (file, title, icon) of every page after the home page, in the lesson's order: the exercises' from the manifest.
PAGES: tuple[tuple[str, str, str], ...] = (
    *((exercise.page, exercise.nav_title, exercise.icon) for exercise in MANIFEST),
    ("pages/6_reference_comparison.py", "Reference vs SB3", ":material/compare_arrows:"),
)
HOME_TITLE = "Lesson: Deep Q-Networks"


# The page of each exercise.
EXERCISE_PAGES: dict[str, str] = {exercise.module: exercise.page for exercise in MANIFEST}


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
