"""The page's task for exercise 5: run the experiment in the sandbox and send back plain data.

``run_experiment_task`` imports the chosen implementation (``exercises`` or
``solutions``) of ``network_sizes`` inside the child process, runs its
experiment with a callback that forwards progress and honours the Stop
button, draws the implementation's own chart as PNG bytes, and returns an
:class:`~playground.tasks.experiment.ExperimentData`. When a learner's experiment
does not record the per-run extras (parameters, final greedy return, time
to solve), they are filled in from the ``train_dqn`` calls it made.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from playground.checks.spy import TrainCall, intercept_train_dqn
from playground.core.config import DQNConfig
from playground.core.facts import impl_module
from playground.core.results import (
    CONTRACT_COLUMNS,
    ExperimentProgress,
    TrainingProgress,
    TrainingResult,
)
from playground.sandbox.child import TaskContext
from playground.tasks.experiment import ExperimentData, RunCounter, plain_columns, run_reference_experiment
from playground.tasks.learner_figure import figure_png

PROGRESS_INTERVAL = 0.25  # seconds between a run's progress messages to the app (run ends always go)


def _clean_progress(progress: Any) -> ExperimentProgress | None:
    """A fresh ExperimentProgress of builtins only (a learner's may hold anything), or None."""
    if not isinstance(progress, ExperimentProgress):
        return None
    try:
        training = progress.training
        if training is not None:
            training = TrainingProgress(
                timestep=int(training.timestep),
                total_timesteps=int(training.total_timesteps),
                episode=int(training.episode),
                episode_reward=float(training.episode_reward),
                episode_length=int(training.episode_length),
                epsilon=float(training.epsilon),
                last_eval_mean=None if training.last_eval_mean is None else float(training.last_eval_mean),
            )
        return ExperimentProgress(
            size=str(progress.size),
            seed=int(progress.seed),
            training=training,
            finished=bool(progress.finished),
        )
    except (TypeError, ValueError, AttributeError):
        return None


def _fill_from_calls(df: pd.DataFrame, calls: list[TrainCall], sizes: Mapping[str, Sequence[int]]) -> pd.DataFrame:
    """Add the per-run extras the reference records, from the runs we watched, where ``df`` lacks them.

    Each watched run is recorded the way the reference records its own
    (``solutions.network_sizes._record``); its numbers go to the rows of the
    size (or sizes) with its architecture and its seed.
    """
    wanted = ("seconds", "parameters", "solved_step", "solved_seconds", "final_greedy_mean")
    if not calls or all(name in df.columns for name in wanted) or not len(df):
        return df
    from solutions.network_sizes import _record

    names_by_dims: dict[tuple[int, ...], list[str]] = {}
    for name, dims in sizes.items():
        names_by_dims.setdefault(tuple(int(w) for w in dims), []).append(str(name))
    extras: dict[str, list[float]] = {name: [np.nan] * len(df) for name in wanted}
    positions = {
        key: rows for key, rows in df.groupby([df["size"].astype(str), df["seed"].astype(int)]).indices.items()
    }
    for call in calls:
        if not isinstance(call.result, TrainingResult):
            continue
        record = _record("", call.config, call.result, call.episode_seconds)
        run_level = {
            "parameters": float(record.parameters),
            "solved_step": np.nan if record.solved_step is None else float(record.solved_step),
            "solved_seconds": record.solved_seconds,
            "final_greedy_mean": record.greedy_mean,
        }
        for name in names_by_dims.get(tuple(call.config.hidden_dims), []):
            rows = positions.get((name, int(call.config.seed)))
            if rows is None:
                continue
            for order, row in enumerate(sorted(rows, key=lambda r: df.index[r])):
                seconds = record.episode_seconds
                extras["seconds"][row] = seconds[order] if order < len(seconds) else np.nan
                for column, value in run_level.items():
                    extras[column][row] = value
    missing = {name: values for name, values in extras.items() if name not in df.columns}
    return df.assign(**missing)


def _figure_png(module: Any, df: pd.DataFrame, window: int) -> tuple[bytes | None, str]:
    """The implementation's own chart as PNG bytes, or why there is none."""
    if not len(df):
        return None, "no episode finished, so there is nothing to plot"
    return figure_png(lambda: module.plot_learning_curves(df, window), "plot_learning_curves")


def run_experiment_task(
    ctx: TaskContext,
    *,
    impl: str,
    config: dict[str, Any],
    sizes: dict[str, list[int]],
    seeds: list[int],
    window: int,
) -> ExperimentData:
    """Run ``<impl>.network_sizes.run_network_size_experiment`` and return plain data."""
    module = impl_module(impl, "network_sizes")
    base = DQNConfig.from_dict(config)
    last_sent: dict[int, float] = {}  # per run: two runs may report at once
    counter = RunCounter(sizes, seeds)  # the app counts the runs; the learner's code names size and seed

    def callback(progress: ExperimentProgress) -> bool:
        now = time.monotonic()
        clean = _clean_progress(progress)
        clean = None if clean is None else counter.count(clean)
        if clean is not None and (clean.finished or now - last_sent.get(clean.run_index, 0.0) >= PROGRESS_INTERVAL):
            last_sent[clean.run_index] = now
            ctx.emit(clean)
        return not ctx.should_stop()

    started = time.perf_counter()
    with intercept_train_dqn(module) as calls:
        if impl == "solutions":  # the same table as the reference's plain loop, on every core there is
            df = run_reference_experiment(base, sizes, tuple(seeds), callback=callback)
        else:
            df = module.run_network_size_experiment(base, sizes=sizes, seeds=tuple(seeds), callback=callback)
    wall_time = time.perf_counter() - started
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"run_network_size_experiment returned {type(df).__name__}; expected a pandas DataFrame")
    missing = [name for name in CONTRACT_COLUMNS if name not in df.columns]
    if missing:
        raise ValueError(
            f"the experiment's DataFrame has no column(s) {', '.join(missing)}: expected {CONTRACT_COLUMNS}"
        )
    df = _fill_from_calls(df.reset_index(drop=True), calls, sizes)
    png, plot_error = _figure_png(module, df, window)
    return ExperimentData(
        impl=impl,
        columns=plain_columns(df),
        figure_png=png,
        plot_error=plot_error,
        runs_total=len(sizes) * len(seeds),
        stopped=ctx.should_stop(),
        config=base.to_dict(),
        sizes={str(k): [int(w) for w in v] for k, v in sizes.items()},
        seeds=[int(s) for s in seeds],
        window=int(window),
        wall_time=wall_time,
    )
