"""Exercise 5 (reference): how the size of the Q-network changes learning.

The lesson's project trains the same DQN with hidden layers 1x64, 1x256, 2x64
and 2x256 and compares their learning curves. One run per size mostly
measures luck: two seeds of one network can differ more than two networks do.
So every size is trained on several seeds, with everything else equal, and
for each size we draw the mean curve over the $n$ seeds,
$\\bar r(t) = \\frac{1}{n} \\sum_{i=1}^{n} r_i(t)$, with a band from the worst
to the best seed. A gap between two sizes means something only when it is
wider than their bands.

Each run's curve $r_i(t)$ is its moving-average episode return as a function
of env steps $t$ (not episodes: a good CartPole agent plays a few long
episodes, a bad one many short ones, so episode $k$ of two runs can be far
apart in experience).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import NDArray

from playground.core.config import DQNConfig
from playground.core.facts import EXPERIMENT_EVAL_SEED_OFFSET
from playground.core.monitor import train_monitored
from playground.core.results import ExperimentCallback, ExperimentProgress, RunRecord, TrainingProgress, TrainingResult
from solutions.q_network import count_parameters
from solutions.train_dqn import evaluate, train_dqn

__all__ = [
    "NETWORK_SIZES",
    "ExperimentProgress",
    "plot_learning_curves",
    "run_network_size_experiment",
    "summarize_experiment",
]

NETWORK_SIZES: dict[str, list[int]] = {"1x64": [64], "1x256": [256], "2x64": [64, 64], "2x256": [256, 256]}

_FINAL_EVAL_EPISODES = 10
_CURVE_POINTS = 200


@dataclass(frozen=True)
class _Run:
    """One training run of the experiment: a size, a seed and the config that combines them."""

    size: str
    seed: int
    config: DQNConfig


_EMPTY_COLUMNS: dict[str, str] = {
    "size": "object",
    "seed": "int64",
    "episode": "int64",
    "timestep": "int64",
    "reward": "float64",
    "seconds": "float64",
    "parameters": "int64",
    "solved_step": "float64",
    "solved_seconds": "float64",
    "final_greedy_mean": "float64",
}


def _plan_runs(base_config: DQNConfig, sizes: Mapping[str, Sequence[int]], seeds: Sequence[int]) -> list[_Run]:
    """Every (size, seed) pair, in that order, on ``base_config`` with ``hidden_dims`` and ``seed`` replaced."""
    if not sizes:
        raise ValueError("sizes is empty: give at least one network size, e.g. {'2x64': [64, 64]}")
    seeds = [int(seed) for seed in seeds]
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed, e.g. (0, 1, 2)")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be different from each other, got {seeds}")
    return [
        _Run(str(name), seed, base_config.replace(hidden_dims=tuple(dims), seed=seed))
        for name, dims in sizes.items()
        for seed in seeds
    ]


def _train_run(run: _Run, report: Callable[[TrainingProgress], bool]) -> RunRecord:
    """Train one run, timing and ``report``-ing every episode (``False`` stops it), and record it."""
    started = time.perf_counter()
    seconds: list[float] = []

    def on_episode(progress: TrainingProgress) -> bool:
        seconds.append(time.perf_counter() - started)
        return report(progress)

    # The app's monitor evaluates during training (eval_freq) and stops a solved run, as on the Train page.
    result = train_monitored(train_dqn, run.config, callback=on_episode, evaluate=evaluate)
    return _record(run.size, run.config, result, seconds)


def _record(size: str, config: DQNConfig, result: TrainingResult, seconds: Sequence[float]) -> RunRecord:
    """The run's record, with a final greedy evaluation of its network and its parameter count.

    "Solved" (:attr:`RunRecord.solved_step`) is the first greedy evaluation
    during training whose mean reaches the threshold; runs without
    evaluations (``eval_freq = 0``) have none.
    """
    returns: list[float] = []
    if result.episode_rewards:
        seed = EXPERIMENT_EVAL_SEED_OFFSET + config.seed
        returns = evaluate(result.q_network, config.env_id, _FINAL_EVAL_EPISODES, seed=seed)
    parameters = count_parameters(result.q_network)
    return RunRecord.of(
        result, config, label=size, greedy_returns=returns, episode_seconds=seconds, parameters=parameters
    )


def _run_frame(record: RunRecord) -> pd.DataFrame:
    """One run in long form: a row per episode; run-level numbers repeat on every row."""
    episodes = len(record.episode_rewards)
    seconds = record.episode_seconds[:episodes] + [math.nan] * (episodes - len(record.episode_seconds))
    solved_step = math.nan if record.solved_step is None else float(record.solved_step)
    return pd.DataFrame(
        {
            "size": [record.label] * episodes,
            "seed": [record.seed] * episodes,
            "episode": np.arange(1, episodes + 1),
            "timestep": record.episode_end_steps,
            "reward": record.episode_rewards,
            "seconds": seconds,
            "parameters": [record.parameters] * episodes,
            "solved_step": [solved_step] * episodes,
            "solved_seconds": [record.solved_seconds] * episodes,
            "final_greedy_mean": [record.greedy_mean] * episodes,
        }
    )


def run_network_size_experiment(
    base_config: DQNConfig,
    sizes: Mapping[str, Sequence[int]] = NETWORK_SIZES,
    seeds: Sequence[int] = (0, 1, 2),
    callback: ExperimentCallback | None = None,
) -> pd.DataFrame:
    """Train ``base_config`` once per (size, seed) and return every episode in long form.

    Each run is ``train_dqn(base_config.replace(hidden_dims=dims, seed=seed))``:
    only the architecture and the seed change, so any difference between
    sizes comes from the network (or from luck, which the seeds measure).

    The DataFrame has one row per finished episode, with the columns
    ``size`` (the name, e.g. ``"2x64"``), ``seed``, ``episode`` (from 1),
    ``timestep`` (env steps done when the episode ended) and ``reward`` (its
    return), then per-run extras: ``seconds`` (since the run started),
    ``parameters``, ``solved_step`` / ``solved_seconds`` (first greedy
    evaluation at the threshold; NaN if none) and ``final_greedy_mean`` (10
    greedy episodes of the final network).

    ``callback`` receives an :class:`ExperimentProgress` at every episode end
    and when a run finishes; returning ``False`` stops the experiment: the
    run in progress stops at once, no new one starts, and the episodes done
    so far are returned.
    """
    runs = _plan_runs(base_config, sizes, seeds)
    frames: list[pd.DataFrame] = []
    stop = False
    for run in runs:

        def report(training: TrainingProgress | None, finished: bool = False, run: _Run = run) -> bool:
            """Tell ``callback`` about this run; ``False`` once it asked to stop."""
            nonlocal stop
            if callback is not None:
                message = ExperimentProgress(run.size, run.seed, training=training, finished=finished)
                stop = stop or callback(message) is False
            return not stop

        record = _train_run(run, report)
        frames.append(_run_frame(record))
        report(None, finished=True)
        if stop:
            break
    return _long_form(frames)


def _long_form(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The runs' frames one under the other (an empty table with every column when there are none)."""
    if not frames:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in _EMPTY_COLUMNS.items()})
    return pd.concat(frames, ignore_index=True)


def _curves_on_grid(
    df: pd.DataFrame, window: int, points: int = _CURVE_POINTS
) -> tuple[NDArray[np.float64], dict[str, NDArray[np.float64]]]:
    """Every run's smoothed return on one env-step grid: ``(grid, {size: array (seeds, points)})``.

    A run's value at step $t$ is the ``window``-episode moving average at the
    last episode that ended at or before $t$ (NaN before its first episode).
    A run that stopped early (solved, or stopped) keeps its last value up to
    the end of the grid, the longest run's last step.
    """
    window = max(1, int(window))
    df = df.assign(size=df["size"].astype(str))
    grid = np.linspace(0.0, float(df["timestep"].max()), points)
    curves: dict[str, list[NDArray[np.float64]]] = {}
    for (size, _seed), run in df.groupby(["size", "seed"], sort=False):
        run = run.sort_values("timestep")
        steps = run["timestep"].to_numpy(dtype=np.float64)
        smoothed = run["reward"].rolling(window, min_periods=1).mean().to_numpy(dtype=np.float64)
        last = np.searchsorted(steps, grid, side="right") - 1
        values = np.where(last >= 0, smoothed[np.clip(last, 0, None)], np.nan)
        curves.setdefault(str(size), []).append(values)
    return grid, {size: np.vstack(runs) for size, runs in curves.items()}


def plot_learning_curves(df: pd.DataFrame, window: int) -> Figure:
    """Per size, the mean smoothed return over seeds against env steps, with a min-max band.

    Exactly one line (labelled with the size) and one band per size. Each
    run is smoothed over ``window`` episodes and put on a common env-step
    grid (see :func:`_curves_on_grid`), so runs of different lengths line up.
    """
    figure = Figure(figsize=(8, 4.2), layout="constrained")
    ax = figure.add_subplot()
    seeds = 0
    if len(df):
        grid, curves = _curves_on_grid(df, window)
        for size, runs in curves.items():
            with warnings.catch_warnings():  # NaN before a run's first episode: expected
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(runs, axis=0)
                low, high = np.nanmin(runs, axis=0), np.nanmax(runs, axis=0)
            line = ax.plot(grid, mean, linewidth=2, label=f"{size} (mean of {len(runs)})")[0]
            ax.fill_between(grid, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
            seeds = max(seeds, len(runs))
        ax.legend(loc="best", fontsize="small", title="hidden layers")
    ax.set_xlabel("env steps")
    ax.set_ylabel(f"episode return (moving average of {window})")
    ax.set_title(f"Learning curves: mean over seeds, band = min to max across {seeds} seeds")
    ax.grid(alpha=0.3)
    return figure


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    """A column of ``df``, or NaNs when the experiment did not record it."""
    if name in df:
        return pd.to_numeric(df[name], errors="coerce")
    return pd.Series(np.nan, index=df.index)


def summarize_experiment(df: pd.DataFrame, window: int = 20) -> pd.DataFrame:
    """One row per size: what the band chart shows, in numbers.

    * ``parameters``: trainable scalars of the network; ``runs``: seeds done.
    * ``greedy_mean`` / ``greedy_std``: mean and standard deviation over seeds
      of each run's final greedy return.
    * ``solved``: runs that reached the threshold; ``steps_to_solve`` /
      ``seconds_to_solve``: their medians (NaN when none solved).
    * ``auc_mean`` / ``auc_std`` / ``auc_min`` / ``auc_max``: the area under
      each run's smoothed curve divided by the length of the step axis (the
      average height of the curve), over seeds. Higher means it learned
      earlier and stayed good.

    Columns the experiment did not record (a DataFrame with only the five
    contract columns) come out as NaN.
    """
    columns = [
        "size",
        "parameters",
        "runs",
        "greedy_mean",
        "greedy_std",
        "solved",
        "steps_to_solve",
        "seconds_to_solve",
        "auc_mean",
        "auc_std",
        "auc_min",
        "auc_max",
    ]
    if not len(df):
        return pd.DataFrame(columns=columns)
    df = df.assign(size=df["size"].astype(str))
    _, curves = _curves_on_grid(df, window)
    per_run = (
        df.assign(
            parameters=_column(df, "parameters"),
            solved_step=_column(df, "solved_step"),
            solved_seconds=_column(df, "solved_seconds"),
            final_greedy_mean=_column(df, "final_greedy_mean"),
        )
        .groupby(["size", "seed"], sort=False)[["parameters", "solved_step", "solved_seconds", "final_greedy_mean"]]
        .first()
    )
    rows = []
    for size, runs in curves.items():
        mine = per_run.loc[size]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            areas = np.nanmean(runs, axis=1)
        solved = mine["solved_step"].notna()
        recorded = "solved_step" in df
        rows.append(
            {
                "size": size,
                "parameters": mine["parameters"].iloc[0],
                "runs": len(runs),
                "greedy_mean": mine["final_greedy_mean"].mean(),
                "greedy_std": mine["final_greedy_mean"].std(ddof=0),
                "solved": int(solved.sum()) if recorded else np.nan,
                "steps_to_solve": mine.loc[solved, "solved_step"].median(),
                "seconds_to_solve": mine.loc[solved, "solved_seconds"].median(),
                "auc_mean": float(np.mean(areas)),
                "auc_std": float(np.std(areas)),
                "auc_min": float(np.min(areas)),
                "auc_max": float(np.max(areas)),
            }
        )
    return pd.DataFrame(rows, columns=columns)
