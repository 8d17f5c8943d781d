"""The teacher page: the class's progress, from the checks the server ran (teachers only)."""

from __future__ import annotations

from playground.ui.router import ensure_router
from playground.ui.teacher import teacher_page

ensure_router()
teacher_page()
