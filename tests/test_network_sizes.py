"""Exercise 5: the network-size experiment, its checks (against buggy versions), the task and the page."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from apptest_support import settle_runs
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from streamlit.testing.v1 import AppTest

import solutions.network_sizes as reference
from playground.checks import CheckFailed, checks_for
from playground.checks import network_sizes as ns_checks
from playground.checks.spy import TrainCall, intercept_train_dqn
from playground.core.config import PRESETS, DQNConfig
from playground.core.results import ExperimentProgress, TrainingProgress
from playground.sandbox.pool import one_torch_thread
from playground.sandbox.runner import run_task
from playground.tasks.experiment import (
    WORKERS_ENV,
    ExperimentData,
    RunCounter,
    choose_workers,
    read_summary,
    run_reference_experiment,
    sandbox_workers,
)
from solutions.train_dqn import train_dqn as reference_train_dqn

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
PAGE = "pages/5_network_sizes.py"
SMALL = PRESETS["lineworld"].replace(total_timesteps=400, learning_starts=50, eval_freq=100, eval_episodes=1)
TWO_SIZES: dict[str, list[int]] = {"1x8": [8], "2x8": [8, 8]}
CONTRACT = ["size", "seed", "episode", "timestep", "reward"]


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread, as in the sandbox: two threads on a busy 2-core machine crawl."""
    with one_torch_thread():
        yield


# --------------------------------------------------------------------------- the reference


def test_reference_experiment_has_the_contract_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, "1")
    seen: list[ExperimentProgress] = []
    df = reference.run_network_size_experiment(SMALL, TWO_SIZES, (0, 1), callback=seen.append)
    assert list(df.columns[:5]) == CONTRACT
    runs = df.groupby(["size", "seed"]).size()
    assert set(runs.index) == {(s, seed) for s in TWO_SIZES for seed in (0, 1)}
    for (_size, _seed), run in df.groupby(["size", "seed"]):
        assert run["episode"].tolist() == list(range(1, len(run) + 1))
        assert bool(np.all(np.diff(run["timestep"].to_numpy()) > 0))
        assert run["timestep"].max() <= SMALL.total_timesteps
    assert set(df.groupby("size")["parameters"].first()) == {8 * 8 + 8 + 8 * 2 + 2, 8 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2}
    assert df["final_greedy_mean"].notna().all()
    assert sum(p.finished for p in seen) == 4
    assert sum(p.training is not None for p in seen) == len(df)
    counter = RunCounter(TWO_SIZES, (0, 1))  # the app counts the runs from size, seed and finished
    counted = [counter.count(p) for p in seen]
    assert [p.run_index for p in counted if p.finished] == [0, 1, 2, 3]
    assert counted[-1].runs_done == counted[-1].runs_total == 4
    assert all(p.run_index == -1 for p in seen)  # the experiment itself does not count

    summary = reference.summarize_experiment(df, window=5)
    assert summary["size"].tolist() == list(TWO_SIZES)
    assert (summary["runs"] == 2).all()
    assert (summary["auc_min"] <= summary["auc_mean"]).all()
    assert (summary["auc_mean"] <= summary["auc_max"]).all()
    text = read_summary(summary)
    assert "learned fastest" in text

    figure = reference.plot_learning_curves(df, 5)
    lines = [line for line in figure.axes[0].get_lines() if np.asarray(line.get_xdata()).size > 2]
    fills = [c for c in figure.axes[0].collections if isinstance(c, PolyCollection)]
    assert len(lines) == len(fills) == 2
    assert "min to max" in figure.axes[0].get_title()


def test_the_run_counter_numbers_runs_in_plan_order_and_counts_finished_ones() -> None:
    counter = RunCounter(["a", "b"], [3, 4])
    second = counter.count(ExperimentProgress("a", 4, training=TrainingProgress(1, 0.0, 1)))
    assert (second.run_index, second.runs_total, second.runs_done) == (1, 4, 0)
    assert counter.count(ExperimentProgress("b", 3, finished=True)).runs_done == 1
    assert counter.count(ExperimentProgress("a", 4, finished=True)).runs_done == 2
    stray = counter.count(ExperimentProgress("c", 9))  # a pair outside the plan: counted after it
    assert (stray.run_index, stray.runs_total) == (4, 5)


def test_bad_arguments_are_clear_value_errors() -> None:
    with pytest.raises(ValueError, match="sizes is empty"):
        reference.run_network_size_experiment(SMALL, {}, (0,))
    with pytest.raises(ValueError, match="seeds is empty"):
        reference.run_network_size_experiment(SMALL, TWO_SIZES, ())
    with pytest.raises(ValueError, match="different"):
        reference.run_network_size_experiment(SMALL, TWO_SIZES, (1, 1))
    with pytest.raises(ValueError, match="hidden_dims"):
        reference.run_network_size_experiment(SMALL, {"bad": [0]}, (0,))


def test_summary_of_a_contract_only_frame_has_nans() -> None:
    df = pd.DataFrame(
        {"size": ["a"] * 3 + ["b"] * 3, "seed": [0] * 6, "episode": [1, 2, 3] * 2, "timestep": [5, 10, 15] * 2}
    ).assign(reward=[1.0, 2.0, 3.0, 0.0, 0.0, 0.0])
    summary = reference.summarize_experiment(df, window=1)
    assert summary["parameters"].isna().all()
    assert float(summary["auc_mean"].iloc[0]) > float(summary["auc_mean"].iloc[1])
    assert "one seed" in read_summary(summary)


def test_workers_choice() -> None:
    tiny = SMALL.replace(total_timesteps=300)
    assert choose_workers(PRESETS["fast"], 12) in (1, 2)
    assert choose_workers(tiny, 8) == 1  # not worth a helper process
    assert choose_workers(PRESETS["fast"], 1) == 1


def test_a_page_experiment_is_estimated_with_the_one_process_its_job_gets() -> None:
    """The sandbox gives each job one process (PLAYGROUND_WORKERS=1), so the page must not promise two."""
    assert sandbox_workers(12) == 1
    assert sandbox_workers(0) == 1
    assert choose_workers(PRESETS["fast"], 12) >= sandbox_workers(12)


def test_parallel_matches_serial_and_stops_promptly(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's two-process path gives the very same table as the reference's plain loop; a stop reaches both."""
    config = SMALL.replace(eval_freq=0)
    serial = reference.run_network_size_experiment(config, TWO_SIZES, (0, 1))
    parallel = run_reference_experiment(config, TWO_SIZES, (0, 1), workers=2)
    pd.testing.assert_frame_equal(serial[CONTRACT], parallel[CONTRACT])
    assert (serial["parameters"] == parallel["parameters"]).all()

    calls = 0

    def stop_soon(progress: ExperimentProgress) -> bool:
        nonlocal calls
        calls += 1
        return calls < 5

    started = time.monotonic()
    long = config.replace(total_timesteps=200_000, learning_starts=100_000)  # minutes if not stopped
    for run in (reference.run_network_size_experiment, partial(run_reference_experiment, workers=2)):
        calls = 0
        started = time.monotonic()
        stopped = run(long, TWO_SIZES, (0, 1), callback=stop_soon)
        assert time.monotonic() - started < 60
        assert stopped.groupby(["size", "seed"]).ngroups <= 2
        assert stopped["timestep"].max() < 5_000


def test_a_failing_run_in_the_helper_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from playground.sandbox.pool import HelperFailed, run_jobs

    monkeypatch.setenv(WORKERS_ENV, "2")
    with pytest.raises((HelperFailed, ValueError)):
        run_jobs(_fails_on_odd, [0, 1, 2, 3], workers=2)


def test_a_helper_that_dies_is_replaced_by_this_process() -> None:
    from playground.sandbox.pool import run_jobs

    assert run_jobs(_dies_in_the_helper, [0, 1, 2, 3], workers=2) == [0, 1, 2, 3]


def _dies_in_the_helper(job: int, report: Callable[[Any], bool]) -> int:
    import os

    from playground.sandbox.worker import WORKER_FD_ENV

    if WORKER_FD_ENV in os.environ:
        os._exit(3)  # as if killed for lack of memory
    time.sleep(0.2)
    return job


def _fails_on_odd(job: int, report: Callable[[Any], bool]) -> int:
    if job % 2:
        raise ValueError(f"job {job} is odd")
    time.sleep(0.2)
    return job


def test_intercept_restores_and_records() -> None:
    module = ModuleType("learner")
    module.train_dqn = reference_train_dqn  # type: ignore[attr-defined]
    config = SMALL.replace(total_timesteps=120, eval_freq=0)
    with intercept_train_dqn(module) as calls:
        module.train_dqn(config)
    assert module.train_dqn is reference_train_dqn
    [call] = calls
    assert isinstance(call, TrainCall)
    assert call.config == config
    assert len(call.episode_seconds) == len(call.result.episode_rewards)


# --------------------------------------------------------------------------- the checks


def run_check(name: str, module: ModuleType) -> str:
    ns_checks._CACHE.clear()
    [spec] = [spec for spec in checks_for("network_sizes") if spec.name == name]
    return spec.func(module)


def fails(name: str, module: ModuleType, *words: str) -> str:
    with pytest.raises(CheckFailed) as info:
        run_check(name, module)
    message = str(info.value)
    for word in words:
        assert word in message, message
    return message


def test_every_check_passes_on_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, "1")
    for spec in checks_for("network_sizes"):
        ns_checks._CACHE.clear()
        assert spec.func(reference)


def experiment_module(bug: str = "", plot: Callable[[pd.DataFrame, int], Figure] | None = None) -> ModuleType:
    """A learner's module written differently from ours (a plain loop), with one bug switched on."""
    module = ModuleType(f"learner_{bug or 'correct'}")
    module.train_dqn = reference_train_dqn  # type: ignore[attr-defined]
    module.NETWORK_SIZES = (  # type: ignore[attr-defined]
        {"1x64": [64], "1x256": [256], "2x64": [64, 64], "2x256": [256]}
        if bug == "wrong_sizes"
        else dict(reference.NETWORK_SIZES)
    )

    def run(
        base_config: DQNConfig,
        sizes: Mapping[str, Sequence[int]] = reference.NETWORK_SIZES,
        seeds: Sequence[int] = (0, 1, 2),
        callback: Callable[[ExperimentProgress], bool | None] | None = None,
    ) -> pd.DataFrame:
        if bug == "ignores_sizes":
            sizes = reference.NETWORK_SIZES
        if bug == "default_seeds" and tuple(seeds) == (0, 1, 2):
            seeds = (0, 1)
        plan = [(name, list(dims), seed) for name, dims in sizes.items() for seed in seeds]
        names = [name for name, _, _ in plan]
        if bug == "swapped_labels":
            names = names[len(seeds) :] + names[: len(seeds)]
        rows: list[dict[str, Any]] = []
        stop = False
        for index, (name, dims, seed) in enumerate(plan):
            if stop and bug != "ignores_stop":
                break
            changes: dict[str, Any] = {"hidden_dims": dims, "seed": seed}
            if bug == "same_dims":
                del changes["hidden_dims"]
            if bug == "same_seed":
                del changes["seed"]
            if bug == "random_seed":
                changes["seed"] = int(np.random.default_rng().integers(1000, 10**6))
            if bug == "scales_learning_rate":  # a bigger network, a smaller step: a second change per size
                changes["learning_rate"] = base_config.learning_rate / len(dims)
            config = base_config.replace(**changes)

            def forward(progress: TrainingProgress, index: int = index, name: str = name, seed: int = seed) -> bool:
                nonlocal stop
                if callback is None or bug == "no_callback":
                    return True
                finished = bug == "episodes_finished"
                answer = callback(ExperimentProgress(name, seed, training=progress, finished=finished))
                if (answer <= False) if bug == "compares_callback" else (answer is False):  # type: ignore[operator]
                    stop = True
                return bug == "stop_between_runs" or answer is not False

            result = module.train_dqn(config, callback=forward)
            if callback is not None and bug not in ("no_callback", "no_run_end"):
                callback(ExperimentProgress(name, seed, finished=True))
            lengths = [int(n) for n in result.episode_lengths]
            steps = lengths if bug == "episode_lengths" else np.cumsum(lengths).tolist()
            first = 0 if bug == "episodes_from_zero" else 1
            for episode, (step, reward) in enumerate(zip(steps, result.episode_rewards, strict=True), start=first):
                row = {"seed": seed, "size": names[index], "episode": episode, "timestep": step, "reward": reward}
                if bug == "wrong_parameters":
                    row["parameters"] = 64 * 8
                if bug == "absolute_seconds":
                    row["seconds"] = time.perf_counter() + episode - first
                rows.append(row)
        return pd.DataFrame(rows)

    module.run_network_size_experiment = run  # type: ignore[attr-defined]
    module.plot_learning_curves = plot or reference.plot_learning_curves  # type: ignore[attr-defined]
    summary = summarize_by_hand(bug)
    if bug == "summary_default_window":  # the signature says window=10
        module.summarize_experiment = lambda df, window=10: summary(df, window)  # type: ignore[attr-defined]
    else:
        module.summarize_experiment = summary  # type: ignore[attr-defined]
    return module


def summarize_by_hand(bug: str = "") -> Callable[[pd.DataFrame, int], pd.DataFrame]:
    """A learner's summary written differently (loops and dicts, ddof=1, interpolated AUC), with bugs."""

    def summarize(df: pd.DataFrame, window: int = 20) -> pd.DataFrame:
        if bug == "summary_not_written":
            raise NotImplementedError("optional")
        rows = []
        for size in dict.fromkeys(df["size"].astype(str)):
            group = df[df["size"].astype(str) == size]
            per_seed = {seed: run.sort_values("timestep") for seed, run in group.groupby("seed")}
            areas = []
            for run in per_seed.values():
                smooth = run["reward"].rolling(window, min_periods=1).mean().to_numpy(dtype=float)
                areas.append(float(np.mean(smooth)))
            row: dict[str, Any] = {"size": size, "runs": len(per_seed), "auc_mean": float(np.mean(areas))}
            if "solved_step" in group:
                solved = [run["solved_step"].iloc[0] for run in per_seed.values()]
                if bug == "solved_episodes":
                    row["solved"] = int(group["solved_step"].notna().sum())
                else:
                    row["solved"] = sum(1 for step in solved if not pd.isna(step))
                done = [step for step in solved if not pd.isna(step)]
                row["steps_to_solve"] = float(np.median(done)) if done else float("nan")
            if "final_greedy_mean" in group:
                finals = [run["final_greedy_mean"].iloc[0] for run in per_seed.values()]
                row["greedy_mean"] = float(np.mean(finals))
                row["greedy_std"] = float(np.std(finals, ddof=1))
            if bug == "runs_as_episodes":
                row["runs"] = len(group)
            rows.append(row)
        return pd.DataFrame(rows)

    return summarize


def test_a_differently_written_correct_module_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    module = experiment_module(plot=plot_with_std_band)
    for spec in checks_for("network_sizes"):
        ns_checks._CACHE.clear()
        assert spec.func(module)


@pytest.mark.parametrize(
    ("bug", "check", "words"),
    [
        ("wrong_sizes", "the four sizes of the lesson", ("NETWORK_SIZES",)),
        ("ignores_sizes", "one curve per size and seed", ("`sizes` argument",)),
        ("episode_lengths", "one curve per size and seed", ("episode's length",)),
        ("episodes_from_zero", "one curve per size and seed", ("start at 1, not 0",)),
        (
            "scales_learning_rate",
            "each size trains its own architecture",
            ("learning_rate", "only hidden_dims and seed"),
        ),
        ("same_dims", "each size trains its own architecture", ("base config", "hidden_dims")),
        ("swapped_labels", "each size trains its own architecture", ("mixed up",)),
        ("same_seed", "seeds: different curves, repeatable", ("same curve", "seed")),
        ("same_seed", "seeds default to (0, 1, 2)", ("all runs of a size used the same seed",)),
        ("random_seed", "seeds: different curves, repeatable", ("seed",)),
        ("no_callback", "callback reports progress", ("never called",)),
        ("stop_between_runs", "callback can stop the experiment", ("went on",)),
        ("ignores_stop", "callback can stop the experiment", ("no new run",)),
        ("wrong_parameters", "extra columns, when present, are right", ("parameters column",)),
        ("default_seeds", "seeds default to (0, 1, 2)", ("default is seeds=(0, 1, 2)",)),
        ("episodes_finished", "callback reports progress", ("finished=True",)),
        ("no_run_end", "callback reports progress", ("finished=True", "count the runs")),
        ("absolute_seconds", "extra columns, when present, are right", ("time.perf_counter() - started",)),
        ("solved_episodes", "summary: one row per size, the right numbers", ("'solved'", "not how many episodes")),
        ("runs_as_episodes", "summary: one row per size, the right numbers", ("'runs'", "not how many episodes")),
        ("compares_callback", "callback reports progress", ("may return None", "is False")),
        ("summary_default_window", "summary: one row per size, the right numbers", ("default is window=20",)),
    ],
)
def test_each_experiment_bug_fails_a_check_by_name(bug: str, check: str, words: tuple[str, ...]) -> None:
    fails(check, experiment_module(bug), *words)


def test_the_summary_check_passes_a_summary_written_differently_or_not_yet() -> None:
    assert "greedy_std" in run_check("summary: one row per size, the right numbers", experiment_module())
    assert "optional" in run_check(
        "summary: one row per size, the right numbers", experiment_module("summary_not_written")
    )
    assert "solved" in run_check("summary: one row per size, the right numbers", reference)


def test_random_seeds_also_break_the_architecture_check() -> None:
    fails(
        "each size trains its own architecture",
        experiment_module("random_seed"),
        "trained with seeds [",
        "seeds=(3, 7)",
    )


def test_runs_that_all_keep_the_base_seed_are_told_which_seed_they_trained_with() -> None:
    """The first failing check of this bug used to list every missing (hidden_dims, seed) pair, unexplained."""
    message = fails(
        "each size trains its own architecture",
        experiment_module("same_seed"),
        "the 2 runs of size 1x4 (hidden_dims [4]) trained with seed 0 each time",
        "given seeds=(3, 7)",
        "base_config.replace(hidden_dims=dims, seed=seed)",
    )
    assert "no train_dqn run with" not in message


def test_a_size_that_never_trained_is_named_as_a_size() -> None:
    message = fails("each size trains its own architecture", experiment_module("ignores_sizes"), "no run trained size")
    assert "seed 0 each time" not in message


# --- plots written differently, and buggy ones


def _grid_curves(df: pd.DataFrame, window: int, x_column: str = "timestep") -> dict[str, np.ndarray[Any, Any]]:
    grid = np.linspace(0, df[x_column].max(), 150)
    curves: dict[str, list[np.ndarray[Any, Any]]] = {}
    for (size, _seed), run in df.groupby(["size", "seed"], sort=False):
        smooth = run["reward"].rolling(window, min_periods=1).mean().to_numpy()
        curves.setdefault(str(size), []).append(np.interp(grid, run[x_column].to_numpy(dtype=float), smooth))
    return {size: np.vstack(runs) for size, runs in curves.items()} | {"__grid__": grid[None, :]}


def plot_with_std_band(df: pd.DataFrame, window: int) -> Figure:
    """Correct, but interpolated (np.interp) with a mean ± std band and pyplot-free."""
    curves = _grid_curves(df, window)
    grid = curves.pop("__grid__")[0]
    figure = Figure()
    ax = figure.add_subplot()
    for size, runs in curves.items():
        mean, std = runs.mean(axis=0), runs.std(axis=0)
        ax.plot(grid, mean, label=size)
        ax.fill_between(grid, mean - std, mean + std, alpha=0.2)
    ax.axhline(0.0, color="grey")
    ax.set_title("mean ± std over seeds")
    ax.legend()
    return figure


def plot_every_seed(df: pd.DataFrame, window: int) -> Figure:
    figure = Figure()
    ax = figure.add_subplot()
    for (size, seed), run in df.groupby(["size", "seed"]):
        ax.plot(run["timestep"], run["reward"].rolling(window, min_periods=1).mean(), label=f"{size} {seed}")
    return figure


def plot_by_episode(df: pd.DataFrame, window: int) -> Figure:
    figure = Figure()
    ax = figure.add_subplot()
    for size, group in df.groupby("size"):
        table = group.pivot_table(index="episode", columns="seed", values="reward")
        smooth = table.rolling(window, min_periods=1).mean()
        ax.plot(smooth.index, smooth.mean(axis=1), label=str(size))
        ax.fill_between(smooth.index, smooth.min(axis=1), smooth.max(axis=1), alpha=0.2)
    return figure


def plot_median(df: pd.DataFrame, window: int) -> Figure:
    curves = _grid_curves(df, window)
    grid = curves.pop("__grid__")[0]
    figure = Figure()
    ax = figure.add_subplot()
    for size, runs in curves.items():
        ax.plot(grid, np.median(runs, axis=0), label=size)
        ax.fill_between(grid, runs.min(axis=0), runs.max(axis=0), alpha=0.2)
    return figure


def plot_without_band(df: pd.DataFrame, window: int) -> Figure:
    curves = _grid_curves(df, window)
    grid = curves.pop("__grid__")[0]
    figure = Figure()
    ax = figure.add_subplot()
    for size, runs in curves.items():
        ax.plot(grid, runs.mean(axis=0), label=size)
    return figure


def plot_from_second_episode(df: pd.DataFrame, window: int) -> Figure:
    """Steps on a grid, but each run's curve starts only once its second episode has ended."""
    grid = np.linspace(0, df["timestep"].max(), 200)
    figure = Figure()
    ax = figure.add_subplot()
    for size, group in df.groupby("size", sort=False):
        runs = []
        for _seed, run in group.groupby("seed"):
            smooth = run["reward"].rolling(window, min_periods=1).mean().to_numpy(dtype=float)
            last = np.searchsorted(run["timestep"].to_numpy(dtype=float), grid, side="right") - 1
            runs.append(np.where(last >= 1, smooth[np.clip(last, 0, None)], np.nan))
        table = np.vstack(runs)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns before the second episode
            mean, low, high = np.nanmean(table, axis=0), np.nanmin(table, axis=0), np.nanmax(table, axis=0)
        ax.plot(grid, mean, label=str(size))
        ax.fill_between(grid, low, high, alpha=0.2)
    return figure


def plot_ignoring_window(df: pd.DataFrame, window: int) -> Figure:
    return plot_with_std_band(df, 1)


def plot_returning_axes(df: pd.DataFrame, window: int) -> Any:
    return plot_with_std_band(df, window).axes[0]


def _plot_runs(df: pd.DataFrame, smooth: Callable[[pd.DataFrame], pd.Series], grid_end: float) -> Figure:
    grid = np.linspace(0, grid_end, 150)
    figure = Figure()
    ax = figure.add_subplot()
    for size, group in df.groupby("size", sort=False):
        smoothed = group.assign(smooth=smooth(group))
        runs = [
            np.interp(grid, run["timestep"].to_numpy(dtype=float), run["smooth"].to_numpy(dtype=float))
            for _, run in smoothed.groupby("seed")
        ]
        table = np.vstack(runs)
        ax.plot(grid, table.mean(axis=0), label=str(size))
        ax.fill_between(grid, table.min(axis=0), table.max(axis=0), alpha=0.2)
    ax.legend()
    return figure


def plot_across_seeds(df: pd.DataFrame, window: int) -> Figure:
    """Bug: one rolling mean over the size's rows, so a seed's first episodes average with the last seed's."""
    return _plot_runs(df, lambda group: group["reward"].rolling(window, min_periods=1).mean(), df["timestep"].max())


def plot_full_windows_only(df: pd.DataFrame, window: int) -> Figure:
    """Bug: no shorter window at the start (NaN until a run has `window` episodes)."""
    return _plot_runs(
        df, lambda g: g.groupby("seed")["reward"].transform(lambda r: r.rolling(window).mean()), df["timestep"].max()
    )


def plot_zero_padded(df: pd.DataFrame, window: int) -> Figure:
    """Bug (learner study 4): each run on its own, but a full window padded with zeros at the start."""
    figure = Figure()
    ax = figure.add_subplot(1, 1, 1)
    for name, size_df in df.groupby("size", sort=False):
        runs = []
        for _seed, run in size_df.groupby("seed", sort=False):
            run = run.sort_values("episode")
            smooth = np.convolve(run["reward"].to_numpy(), np.ones(window) / window)[: len(run)]
            runs.append((run["timestep"].to_numpy(dtype=float), smooth))
        grid = np.linspace(min(t[0] for t, _ in runs), max(t[-1] for t, _ in runs), 200)
        curves = np.array([np.interp(grid, t, y) for t, y in runs])
        (line,) = ax.plot(grid, curves.mean(axis=0), label=str(name))
        ax.fill_between(grid, curves.min(axis=0), curves.max(axis=0), color=line.get_color(), alpha=0.2)
    ax.legend()
    return figure


def plot_on_the_overlap(df: pd.DataFrame, window: int) -> Figure:
    """Correct: the common grid ends where the shortest run of all ends (every seed has data there)."""
    shortest = float(df.groupby(["size", "seed"])["timestep"].max().min())
    return _plot_runs(
        df, lambda g: g.groupby("seed")["reward"].transform(lambda r: r.rolling(window, min_periods=1).mean()), shortest
    )


def test_a_plot_on_the_grid_where_all_seeds_overlap_passes() -> None:
    module = experiment_module(plot=plot_on_the_overlap)
    for name in ("plot: mean over seeds on env steps", "plot: each run smoothed on its own, from its first episode"):
        assert run_check(name, module)


@pytest.mark.parametrize(
    ("plot", "check", "words"),
    [
        (plot_every_seed, "plot: one line and one band per size", ("not every seed",)),
        (plot_without_band, "plot: one line and one band per size", ("bands",)),
        (plot_by_episode, "plot: mean over seeds on env steps", ("env step",)),
        (plot_median, "plot: mean over seeds on env steps", ("median",)),
        (plot_ignoring_window, "plot: the window smooths", ("window",)),
        (plot_from_second_episode, "plot: mean over seeds on env steps", ("gaps after env step 20",)),
        (plot_returning_axes, "plot: one line and one band per size", ("Figure",)),
        (plot_across_seeds, "plot: each run smoothed on its own, from its first episode", ("across the boundary",)),
        (plot_full_windows_only, "plot: each run smoothed on its own, from its first episode", ("min_periods=1",)),
        (
            plot_zero_padded,
            "plot: each run smoothed on its own, from its first episode",
            ("padded with zeros", "pulled toward 0", "min_periods=1"),
        ),
    ],
)
def test_each_plot_bug_fails_a_check_by_name(
    plot: Callable[[pd.DataFrame, int], Figure], check: str, words: tuple[str, ...]
) -> None:
    fails(check, experiment_module(plot=plot), *words)


# --------------------------------------------------------------------------- task and page


def test_task_returns_plain_data_and_the_stub_fails_cleanly() -> None:
    kwargs: dict[str, Any] = {"config": SMALL.to_dict(), "sizes": TWO_SIZES, "seeds": [0], "window": 5}
    outcome = run_task("playground.tasks.experiment_task:run_experiment_task", timeout=120, impl="solutions", **kwargs)
    assert outcome.ok, outcome.error
    data = outcome.value
    assert isinstance(data, ExperimentData)
    assert data.runs_done == 2
    assert data.figure_png is not None
    assert data.figure_png.startswith(b"\x89PNG")
    assert list(data.frame().columns[:5]) == CONTRACT

    stub = run_task("playground.tasks.experiment_task:run_experiment_task", timeout=120, impl="exercises", **kwargs)
    assert not stub.ok
    assert "not implemented yet" in stub.error


def test_page_runs_a_short_experiment() -> None:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    at.multiselect(key="ns_sizes").set_value(["1x64", "2x64"]).run()
    at.number_input(key="ns_seeds").set_value(1).run()
    at.number_input(key="ns_budget_Quick: LineWorld-v0").set_value(500).run()
    at.button(key="ns_run").click().run()
    settle_runs(at)
    assert not at.exception, [e.value for e in at.exception]
    results = at.session_state["ns_results"]
    data = results["solutions"]
    assert isinstance(data, ExperimentData)
    assert data.runs_done == 2
    assert any("learned fastest" in block.value for block in at.markdown)
    assert len(at.dataframe) >= 1
    at.run()  # a rerun keeps the results
    assert "solutions" in at.session_state["ns_results"]


def test_task_fills_in_what_a_learners_frame_lacks() -> None:
    from playground.tasks.experiment_task import _fill_from_calls

    module = experiment_module()
    with intercept_train_dqn(module) as calls:
        df = module.run_network_size_experiment(SMALL, TWO_SIZES, (0,))
    assert list(df.columns) == ["seed", "size", "episode", "timestep", "reward"]
    filled = _fill_from_calls(df, calls, TWO_SIZES)
    assert filled["parameters"].notna().all()
    assert set(filled.groupby("size")["parameters"].first()) == {90, 162}
    assert filled["final_greedy_mean"].notna().all()
    summary = reference.summarize_experiment(filled, window=5)
    assert summary["parameters"].tolist() == [90, 162]


def test_stopping_the_task_keeps_the_partial_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the sandbox a job is one process (the admission queue spreads jobs over the cores), so the
    experiment runs its runs one after another there, whatever ``PLAYGROUND_WORKERS`` says."""
    monkeypatch.setenv(WORKERS_ENV, "2")
    long = SMALL.replace(total_timesteps=200_000, learning_starts=150_000, eval_freq=0)
    from playground.sandbox.runner import start_task

    handle = start_task(
        "playground.tasks.experiment_task:run_experiment_task",
        timeout=120,
        impl="solutions",
        config=long.to_dict(),
        sizes=TWO_SIZES,
        seeds=[0],
        window=5,
    )
    started, runs = time.monotonic(), set()
    for message in handle.progress():
        if isinstance(message, ExperimentProgress):
            runs.add(message.run_index)
        if (len(runs) == 1 or time.monotonic() - started > 45) and not handle.outcome:
            handle.stop(grace=20)
    outcome = handle.outcome
    assert outcome is not None
    assert outcome.ok, outcome.error
    assert outcome.stopped
    data = outcome.value
    assert isinstance(data, ExperimentData)
    assert data.stopped
    assert runs == {0}
    assert data.runs_done == 1
    assert max(data.columns["timestep"]) < long.total_timesteps
