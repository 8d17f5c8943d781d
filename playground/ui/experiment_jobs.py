"""The size experiment (exercise 5) as a live job: start it, draw its progress, keep its data when it ends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from playground.core.config import DQNConfig
from playground.core.facts import Impl
from playground.core.results import ExperimentProgress
from playground.tasks import speed
from playground.tasks.experiment import ExperimentData, experiment_progress, plural
from playground.ui import live_jobs
from playground.ui.session import SIZES_ERRORS_KEY, SIZES_RESULTS_KEY, SIZES_SCROLL_KEY, SIZES_STOPPED_KEY

SLOT = "network_sizes"
SPEED_KIND = "network_sizes"
IMPL_TITLES: dict[str, str] = {"exercises": "Mine (exercises/)", "solutions": "Reference (solutions/)"}


def start_experiment(
    impl: Impl, config: DQNConfig, sizes: Mapping[str, Sequence[int]], seed_count: int, window: int, workers: int
) -> None:
    """Start the experiment as a job that outlives this script run (see playground.ui.live_jobs)."""
    title = f"{IMPL_TITLES[impl]}: {plural(len(sizes), 'size')} x {plural(seed_count, 'seed')} on {config.env_id}"
    step = live_jobs.Step(
        "playground.tasks.experiment_task:run_experiment_task",
        title,
        {
            "impl": impl,
            "config": config.to_dict(),
            "sizes": {name: list(dims) for name, dims in sizes.items()},
            "seeds": list(range(seed_count)),
            "window": window,
        },
    )
    runs = len(sizes) * seed_count
    live_jobs.start(SLOT, title, [step], {"impl": impl, "runs": runs, "workers": workers})
    st.session_state[SIZES_SCROLL_KEY] = True


def keep_experiment(job: live_jobs.LiveJob) -> None:
    """Move a finished experiment into session state (safe to call twice)."""
    impl = job.meta["impl"]
    errors: dict[str, str] = st.session_state.setdefault(SIZES_ERRORS_KEY, {})
    errors.pop(impl, None)
    outcome = job.outcomes[0] if job.outcomes else None
    if outcome is not None and isinstance(outcome.value, ExperimentData):
        st.session_state.setdefault(SIZES_RESULTS_KEY, {})[impl] = outcome.value
        st.session_state[SIZES_STOPPED_KEY] = job.stop_reason
        if not job.stop_reason and not job.collected:
            data = outcome.value
            speed.record_total(
                SPEED_KIND, DQNConfig.from_dict(data.config), data.runs_total, job.meta["workers"], job.elapsed
            )
    elif outcome is None or not outcome.cancelled:
        errors[impl] = (outcome.error if outcome is not None else "") or "the experiment returned no result"


def draw_experiment(job: live_jobs.LiveJob) -> None:
    """The live view: runs done of runs planned, and the last run's return."""
    messages = [m for m in job.step_messages(0) if isinstance(m, ExperimentProgress)]
    fraction, text = experiment_progress(messages, job.meta["runs"])
    st.progress(fraction, text=text)
