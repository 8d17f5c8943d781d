"""The training page's runs as live jobs: start them, draw their progress, keep their reports when they end.

A Train click starts one :mod:`playground.ui.live_jobs` job whose steps are the
runs (the learner's parts, then the reference on the same settings); the job
outlives the script run, so the learner can leave the page and come back.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from playground.core.config import PRESETS, DQNConfig
from playground.sandbox.runner import TaskOutcome
from playground.tasks import speed
from playground.tasks.snapshot import TrainedNetwork
from playground.tasks.training_task import TrainingReport, TrainingUpdate, run_label
from playground.ui import live_jobs
from playground.ui import training_settings as ts
from playground.ui.job_panel import run_task_live
from playground.ui.session import (
    TRAINING_ERRORS_KEY,
    TRAINING_REPORTS_KEY,
    TRAINING_SCROLL_KEY,
    TRAINING_STOPS_KEY,
    TRAINING_TIMING_KEY,
)
from playground.ui.trained_networks import remember_network
from playground.views.training_plots import moving_average

ALL_REFERENCE = {key: "solutions" for key in ts.COMPONENT_KEYS}
WINDOW = 20
SMALL_RUN_NAME = "LineWorld (trained on the save/load page)"


SLOT = "training"


def start_training(config: DQNConfig, runs: list[dict[str, str]]) -> None:
    """Start the runs (one after another) as a job that outlives this script run."""
    labels = [run_label(run_impls) for run_impls in runs]
    steps = [
        live_jobs.Step(
            "playground.tasks.training_task:training_task",
            label,
            {"config": config.to_dict(), **run_impls},
        )
        for label, run_impls in zip(labels, runs, strict=True)
    ]
    title = f"Training {' and '.join(labels)} on {config.env_id}"
    live_jobs.start(SLOT, title, steps, {"labels": labels})
    st.session_state[TRAINING_SCROLL_KEY] = True


def keep_results(job: live_jobs.LiveJob) -> None:
    """Move a finished job's reports (or errors) into session state; safe to call twice."""
    reports: dict[str, TrainingReport] = st.session_state[TRAINING_REPORTS_KEY]
    errors: dict[str, str] = st.session_state[TRAINING_ERRORS_KEY]
    stops: dict[str, str] = st.session_state.setdefault(TRAINING_STOPS_KEY, {})
    timed: list[tuple[dict[str, Any], float, int]] = []
    for label, outcome in zip(job.meta["labels"], job.outcomes, strict=False):
        errors.pop(label, None)
        stops.pop(label, None)
        report = outcome.value
        if isinstance(report, TrainingReport):
            reports[label] = report
            if report.stopped:
                stops[label] = job.stop_reason or "stopped"
            elif not job.collected:
                timed.append((report.config, report.run.wall_time - report.run.eval_time, report.run.total_steps))
            if report.snapshot is not None:
                remember_network(
                    TrainedNetwork(
                        label=f"Training page: {label} on {report.run.env_id} (seed {report.config.get('seed', 0)})",
                        snapshot=report.snapshot,
                        env_id=report.run.env_id,
                        config=report.config,
                    )
                )
        elif not outcome.cancelled:
            errors[label] = ts.describe_failure(outcome.error, outcome.output)
    if timed and len(timed) == len(job.outcomes) and not job.stop_reason:
        # Measured once the results are on the page (the end of this script run): click to result.
        st.session_state[TRAINING_TIMING_KEY] = (job.started, timed)


def record_speed() -> None:
    """Fold the click-to-result time of the runs just shown into this server's speed (see playground.tasks.speed)."""
    pending = st.session_state.pop(TRAINING_TIMING_KEY, None)
    if pending is None:
        return
    started, timed = pending
    total = time.monotonic() - started
    overhead = max(0.0, total - sum(train for _, train, _ in timed)) / len(timed)
    for config, train, steps in timed:
        speed.record(ts.SPEED_KIND, DQNConfig.from_dict(config), train, train + overhead, steps)


def draw_progress(job: live_jobs.LiveJob) -> None:
    """The live view of a running job: a line per run, a progress bar and the reward curve."""
    labels: list[str] = job.meta["labels"]
    for index, label in enumerate(labels[: job.step_index]):
        outcome = job.outcomes[index] if index < len(job.outcomes) else None
        if outcome is not None:
            state = "done" if outcome.ok else "failed (the error is shown when all runs are done)"
            st.caption(f"{label}: {state}")
    label = labels[min(job.step_index, len(labels) - 1)]
    updates = [m for m in job.step_messages(job.step_index) if isinstance(m, TrainingUpdate)]
    st.progress(*ts.progress_line(label, updates[-1] if updates else None, job.elapsed))
    rewards = [r for update in updates for r in update.new_rewards]
    steps = [s for update in updates for s in update.new_end_steps]
    if rewards:
        # Against env steps, like the results' curves (an episode is drawn at the step it ended).
        frame = pd.DataFrame({"return": rewards, f"mean of {WINDOW}": moving_average(rewards, WINDOW)})
        if len(steps) == len(rewards):
            frame.index = pd.Index(steps, name="env step")
        else:  # a loop whose callback gave no steps
            frame.index = pd.RangeIndex(1, len(rewards) + 1, name="episode")
        st.line_chart(frame, x_label=str(frame.index.name), y_label="return", height=240)


def train_small_network() -> None:
    """Train the LineWorld preset with the reference parts, here (the save/load page), and offer the network."""
    config = PRESETS["lineworld"]
    bar = st.progress(0.0, text="starting ...")

    def on_progress(message: Any) -> None:
        if isinstance(message, TrainingUpdate):
            bar.progress(
                message.fraction, text=f"{message.phase}: env step {message.timestep:,} of {config.total_timesteps:,}"
            )

    def on_finish(outcome: TaskOutcome) -> None:
        report = outcome.value
        if isinstance(report, TrainingReport) and report.snapshot is not None:
            remember_network(TrainedNetwork(SMALL_RUN_NAME, report.snapshot, report.run.env_id, report.config))

    run_task_live(
        "playground.tasks.training_task:training_task",
        label="Training a small LineWorld network (reference code)",
        timeout=300.0,
        on_progress=on_progress,
        on_finish=on_finish,
        config=config.to_dict(),
        loop="solutions",
        network="solutions",
        buffer="solutions",
    )
