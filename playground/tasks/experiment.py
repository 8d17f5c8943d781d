"""The network-size experiment (exercise 5) as the app runs it: cost model, settings, readings.

* :func:`choose_workers`: whether a second process pays, from the cost model
  of :mod:`playground.tasks.speed`; :func:`sandbox_workers`: what a page's job gets;
* :data:`EXPERIMENT_SETTINGS`: the page's choices of environment and budget;
* :func:`read_summary` and :func:`display_summary`: a summary in plain words
  and as a table.
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeGuard

import pandas as pd

from playground.core.config import PRESETS, DQNConfig
from playground.core.results import ExperimentCallback, ExperimentProgress, TrainingProgress
from playground.sandbox.hardening import JOB_SETTINGS
from playground.sandbox.pool import run_jobs
from playground.tasks import speed

WORKERS_ENV = "PLAYGROUND_WORKERS"
# Below this estimated serial time, starting a helper process (about 3 s to import torch) does not pay.
PARALLEL_MIN_SECONDS = 10.0


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def choose_workers(config: DQNConfig, runs: int) -> int:
    """How many processes should train (1: this one only, 2: this one and a helper).

    ``PLAYGROUND_WORKERS`` in the environment overrides the choice (benchmarks
    and tests use it). Otherwise two when there are two cores, two runs or
    more, and enough work to repay starting the helper.
    """
    forced = os.environ.get(WORKERS_ENV, "").strip()
    if forced:
        try:
            count = int(forced)
        except ValueError:
            raise ValueError(f"{WORKERS_ENV} must be 1 or 2, got {forced!r}") from None
        if count not in (1, 2):
            raise ValueError(f"{WORKERS_ENV} must be 1 or 2, got {forced!r}")
        return min(count, max(runs, 1))
    if runs < 2 or available_cores() < 2:
        return 1
    return 2 if runs * speed.model_seconds(config) >= PARALLEL_MIN_SECONDS else 1


def sandbox_workers(runs: int) -> int:
    """The processes an experiment started from a page trains on: what its sandbox job is given.

    Each job gets one (``PLAYGROUND_WORKERS`` in the job's environment): the
    admission queue spreads the class's jobs over the cores instead, and the
    sandbox lets no job start processes. The page's time estimate uses this.
    """
    return min(int(JOB_SETTINGS.get(WORKERS_ENV, "1")), max(runs, 1))


# ---------------------------------------------------------------------------------------------
# The reference experiment on two cores


def _weights(hidden_dims: Sequence[int]) -> int:
    """Hidden-to-hidden weights plus hidden units: a rough cost of one update of this network."""
    return sum(a * b for a, b in itertools.pairwise(hidden_dims)) + sum(hidden_dims)


def run_reference_experiment(
    base_config: DQNConfig,
    sizes: Mapping[str, Sequence[int]],
    seeds: Sequence[int],
    callback: ExperimentCallback | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """The reference ``run_network_size_experiment``, with its runs spread over ``workers`` processes.

    The runs, each run's training and its rows are the reference's own
    (:mod:`solutions.network_sizes`); only the order in which they run
    changes, so the table is the same as the plain loop's for the same seeds.
    ``workers`` defaults to :func:`choose_workers`. The page and
    ``benchmarks/bench_sizes.py`` use it.
    """
    from solutions import network_sizes as reference

    runs = reference._plan_runs(base_config, sizes, seeds)
    records: dict[int, Any] = {}

    def progress(index: int, training: TrainingProgress | None, finished: bool) -> bool | None:
        if callback is None:
            return None
        run = runs[index]
        message = ExperimentProgress(run.size, run.seed, training, finished, index, len(runs), len(records))
        return callback(message)

    def on_result(index: int, record: Any) -> bool | None:
        if record is None:
            return None
        records[index] = record
        return progress(index, None, finished=True)

    run_jobs(
        reference._train_run,
        runs,
        workers=choose_workers(base_config, len(runs)) if workers is None else workers,
        on_message=lambda index, training: progress(index, training, finished=False),
        on_result=on_result,
        costs=[_weights(run.config.hidden_dims) for run in runs],  # two processes start with the biggest nets
    )
    return reference._long_form([reference._run_frame(records[index]) for index in sorted(records)])


# ---------------------------------------------------------------------------------------------
# Reading a summary in plain words


def _finite(value: Any) -> TypeGuard[float]:
    """A finite real number (NumPy scalars included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))


def read_summary(summary: pd.DataFrame) -> str:
    """A few plain sentences on a summary table from ``summarize_experiment``.

    Which size learned fastest (the largest area under its mean curve: it rose
    earliest and stayed high), how it did against the threshold, and whether
    its lead over the runner-up is larger than the spread across seeds (the
    per-seed areas of the two do not overlap) or within it.
    """
    rows = [row for _, row in summary.iterrows() if _finite(row.get("auc_mean"))]
    if not rows:
        return "No run has finished an episode yet, so there is nothing to compare."
    rows.sort(key=lambda row: float(row["auc_mean"]), reverse=True)
    best = rows[0]
    seeds = int(best.get("runs", 0) or 0)
    if len(rows) == 1:
        sentences = [
            f"**{best['size']}** (the only size that ran): average smoothed return {float(best['auc_mean']):.3g} "
            "over the run."
        ]
    else:
        sentences = [
            f"**{best['size']}** learned fastest: the largest area under its mean curve "
            f"(average smoothed return {float(best['auc_mean']):.3g} over the run)."
        ]
    if _finite(best.get("steps_to_solve")):
        solved = int(best.get("solved", 0) or 0)
        when = f"a median of {float(best['steps_to_solve']):,.0f} env steps"
        if _finite(best.get("seconds_to_solve")):
            when += f" ({float(best['seconds_to_solve']):.1f} s)"
        sentences.append(f"It reached the threshold in {solved} of {seeds} seeds, after {when}.")
    unsolved = [str(row["size"]) for row in rows if "solved" in row and _finite(row["solved"]) and row["solved"] == 0]
    if unsolved and "steps_to_solve" in summary:
        sentences.append(f"Never solved on any seed: {', '.join(unsolved)}.")
    if len(rows) == 1:
        sentences.append("Only one size ran: pick at least two to compare them.")
        return " ".join(sentences)
    runner = rows[1]
    if seeds < 2:
        sentences.append(
            f"With one seed per size there is no spread to compare with, so the lead over {runner['size']} "
            "may be luck: run two seeds or more."
        )
        return " ".join(sentences)
    best_low, runner_high = float(best["auc_min"]), float(runner["auc_max"])
    if best_low > runner_high:
        sentences.append(
            f"The lead over the runner-up {runner['size']} is larger than the spread across seeds: "
            f"every seed of {best['size']} (worst {best_low:.3g}) beat every seed of {runner['size']} "
            f"(best {runner_high:.3g})."
        )
    else:
        sentences.append(
            f"But the lead over the runner-up {runner['size']} is within the spread across seeds: their "
            f"seeds overlap ({best['size']} {best_low:.3g} to {float(best['auc_max']):.3g}, {runner['size']} "
            f"{float(runner['auc_min']):.3g} to {runner_high:.3g}), so this ranking could change with other "
            "seeds. More seeds would tell."
        )
    return " ".join(sentences)


# ---------------------------------------------------------------------------------------------
# What the page's task sends back


@dataclass(frozen=True)
class ExperimentData:
    """One experiment as plain data (it crosses from the sandbox to the app).

    ``columns`` is the DataFrame as ``{column: values}``; ``figure_png`` the
    chart drawn by the implementation's own ``plot_learning_curves`` (or
    ``None``, with ``plot_error`` saying why).
    """

    impl: str
    columns: dict[str, list[Any]]
    figure_png: bytes | None
    plot_error: str
    runs_total: int
    stopped: bool
    config: dict[str, Any]
    sizes: dict[str, list[int]]
    seeds: list[int]
    window: int
    wall_time: float

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns)

    @property
    def runs_done(self) -> int:
        if not self.columns.get("size"):
            return 0
        return int(self.frame().groupby(["size", "seed"]).ngroups)


def plain_columns(df: pd.DataFrame) -> dict[str, list[Any]]:
    """``df`` as lists of builtins (str, int, float, bool, None), safe to send to the app."""
    columns: dict[str, list[Any]] = {}
    for name in df.columns:
        values = df[name].tolist()
        if not all(v is None or isinstance(v, (str, int, float, bool)) for v in values):
            values = [v if v is None or isinstance(v, (str, int, float, bool)) else str(v) for v in values]
        columns[str(name)] = values
    return columns


# ---------------------------------------------------------------------------------------------
# The page's two settings


@dataclass(frozen=True)
class ExperimentSetting:
    """A base config for the experiment page, with the budget range its form offers."""

    label: str
    config: DQNConfig
    min_steps: int
    max_steps: int
    step: int
    window: int
    note: str


def _experiment_settings() -> dict[str, ExperimentSetting]:
    lineworld = PRESETS["lineworld"].replace(eval_freq=250, eval_episodes=1)
    quick = ExperimentSetting(
        "Quick: LineWorld-v0",
        lineworld,
        min_steps=500,
        max_steps=20_000,
        step=500,
        window=10,
        note="LineWorld preset; a greedy episode every 250 steps records when each run first walks straight "
        "to the goal (return 0.4). Runs use their whole budget.",
    )
    steady = PRESETS["steady"]
    cartpole = ExperimentSetting(
        "CartPole-v1 (steady preset)",
        steady,
        min_steps=5_000,
        max_steps=100_000,
        step=5_000,
        window=20,
        note="The steady preset (the fast preset's schedule lets the smallest network diverge): a greedy "
        f"evaluation of {steady.eval_episodes} episodes every {steady.eval_freq:,} steps, and a run stops once its "
        f"mean reaches {steady.reward_threshold:g} (the chart then holds its last value).",
    )
    return {setting.label: setting for setting in (quick, cartpole)}


EXPERIMENT_SETTINGS: dict[str, ExperimentSetting] = _experiment_settings()


def _plus_minus(mean: Any, spread: Any, digits: int) -> str:
    if not _finite(mean):
        return "-"
    return f"{float(mean):.{digits}f} ± {float(spread):.{digits}f}" if _finite(spread) else f"{float(mean):.{digits}f}"


def _number(value: Any, pattern: str) -> str:
    return pattern.format(float(value)) if _finite(value) else "-"


def display_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as short strings for a table on the page (mean ± std in one cell, "-" for unknown)."""
    rows = []
    for _, row in summary.iterrows():
        solved = row.get("solved")
        rows.append(
            {
                "size": str(row["size"]),
                "parameters": _number(row.get("parameters"), "{:,.0f}"),
                "solved": f"{int(solved)} of {int(row['runs'])}" if _finite(solved) else "-",
                "steps to solve": _number(row.get("steps_to_solve"), "{:,.0f}"),
                "s to solve": _number(row.get("seconds_to_solve"), "{:.1f}"),
                "final greedy": _plus_minus(row.get("greedy_mean"), row.get("greedy_std"), 1),
                "area under curve": _plus_minus(row.get("auc_mean"), row.get("auc_std"), 3),
            }
        )
    return pd.DataFrame(rows)


def plural(count: int, noun: str) -> str:
    """``plural(1, "run")`` -> "1 run", ``plural(3, "run")`` -> "3 runs"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


class RunCounter:
    """The app's count of an experiment's runs, around the learner's code.

    A learner's ``run_network_size_experiment`` sends ``ExperimentProgress``
    with the run's size and seed, the episode's ``training`` progress and
    ``finished`` at a run's end; :meth:`count` fills in ``run_index`` (the
    run's place in the order (size, seed) of ``sizes`` and ``seeds``),
    ``runs_total`` and ``runs_done`` (the runs that sent ``finished``).
    """

    def __init__(self, sizes: Iterable[str], seeds: Iterable[int]) -> None:
        seeds = list(seeds)
        self._index: dict[tuple[str, int], int] = {}
        for size in sizes:
            for seed in seeds:
                self._index.setdefault((str(size), int(seed)), len(self._index))
        self._planned = len(self._index)
        self._finished: set[int] = set()

    def count(self, progress: ExperimentProgress) -> ExperimentProgress:
        """``progress`` with its run counted (a pair outside the plan gets the next index)."""
        index = self._index.setdefault((str(progress.size), int(progress.seed)), len(self._index))
        if progress.finished:
            self._finished.add(index)
        total = max(self._planned, len(self._index))
        return replace(progress, run_index=index, runs_total=total, runs_done=len(self._finished))


def experiment_progress(messages: Sequence[ExperimentProgress], runs_total: int) -> tuple[float, str]:
    """(fraction, text) of an experiment's progress bar from all its messages so far.

    Two runs may train at once: the text names every run in progress with its
    own percentage, instead of jumping between them message by message.
    """
    if not messages:
        return 0.0, "starting a sandbox process ..."
    fractions: dict[int, float] = {}
    latest: dict[int, ExperimentProgress] = {}
    for message in messages:
        fractions[message.run_index] = max(fractions.get(message.run_index, 0.0), message.run_fraction)
        latest[message.run_index] = message
    total = max(runs_total, messages[-1].runs_total, 1)
    done = sum(1 for f in fractions.values() if f >= 1.0)
    parts = []
    for index in sorted(latest):
        message = latest[index]
        if fractions[index] >= 1.0:
            continue
        reward = ""
        if message.training is not None:
            reward = f", last return {message.training.episode_reward:.2f}"
        parts.append(f"{message.size} seed {message.seed}: {fractions[index]:.0%}{reward}")
    text = f"{done} of {plural(total, 'run')} done"
    if parts:
        text += " · training " + "; ".join(parts)
    return min(1.0, sum(fractions.values()) / total), text
