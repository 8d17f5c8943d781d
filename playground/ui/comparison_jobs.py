"""The reference-vs-SB3 comparison as a live job: start it, draw the live curves, keep its result when it ends.

A comparison that fails late keeps the runs that finished, so an hour of
training is not lost to one failing run.
"""

from __future__ import annotations

import streamlit as st

from playground.core.config import DQNConfig
from playground.core.results import RunRecord
from playground.sb3 import comparison as cmp
from playground.tasks import speed
from playground.ui import live_jobs
from playground.ui.session import (
    COMPARISON_ERROR_KEY,
    COMPARISON_RESULT_KEY,
    COMPARISON_SCROLL_KEY,
    COMPARISON_STOPPED_KEY,
)

SLOT = "comparison"
SPEED_KIND = "comparison"


def keep_comparison(job: live_jobs.LiveJob) -> None:
    """Move a finished comparison into session state (safe to call twice)."""
    st.session_state.pop(COMPARISON_ERROR_KEY, None)
    outcome = job.outcomes[0] if job.outcomes else None
    finished = [m for m in job.step_messages(0) if isinstance(m, RunRecord)]
    if outcome is not None and isinstance(outcome.value, cmp.ComparisonResult):
        st.session_state[COMPARISON_RESULT_KEY] = outcome.value
        st.session_state[COMPARISON_STOPPED_KEY] = job.stop_reason
        if not job.stop_reason and not job.collected:
            result = outcome.value
            speed.record_total(SPEED_KIND, result.config, len(job.meta["plan"]), 1, job.elapsed)
        return
    if outcome is not None and outcome.cancelled:  # it left the queue: nothing ran
        return
    if finished:  # the task failed late: keep the runs that finished
        config = DQNConfig.from_dict(job.meta["config"])
        st.session_state[COMPARISON_RESULT_KEY] = cmp.ComparisonResult(
            config, tuple(job.meta["seeds"]), job.meta["episodes"], tuple(finished), True
        )
    st.session_state[COMPARISON_ERROR_KEY] = (
        outcome.error if outcome is not None else ""
    ) or "the comparison returned no result"


def draw_comparison(job: live_jobs.LiveJob) -> None:
    """Progress and the live learning curves of every run so far (mean of the last 20 episodes)."""
    messages = job.step_messages(0)
    progress = [m for m in messages if isinstance(m, cmp.ComparisonProgress)]
    if progress:
        st.progress(progress[-1].fraction, text=progress[-1].describe())
    else:
        st.progress(0.0, text="starting a sandbox process ...")
    frame = cmp.live_curve_frame(messages, window=20)
    if len(frame):
        st.altair_chart(cmp.live_curve_chart(frame), width="stretch")


def start_comparison(config: DQNConfig, seeds: list[int], episodes: int, implementations: list[str]) -> None:
    names = " and ".join(cmp.IMPL_TITLES[impl] for impl in implementations)
    title = f"Training {names} on {config.env_id} ({len(seeds)} seed{'s' * (len(seeds) > 1)})"
    step = live_jobs.Step(
        "playground.sb3.comparison:comparison_task",
        title,
        {
            "config": config.to_dict(),
            "seeds": seeds,
            "final_eval_episodes": episodes,
            "implementations": implementations,
        },
    )
    plan = [(seed, impl) for seed in seeds for impl in implementations]
    meta = {"config": config.to_dict(), "seeds": seeds, "episodes": episodes, "plan": plan}
    live_jobs.start(SLOT, title, [step], meta)
    st.session_state[COMPARISON_SCROLL_KEY] = True
