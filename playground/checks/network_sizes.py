"""Checks for exercise 5: the network-size experiment and its band chart.

The experiment checks run a learner's ``run_network_size_experiment`` on
LineWorld with tiny budgets and tiny networks, while
:func:`playground.checks.spy.intercept_train_dqn` stands in for ``train_dqn``
(the reference loop, so a bug in exercise 3 cannot fail exercise 5) and
records which config and network every run really trained. The plot checks
feed ``plot_learning_curves`` a made-up DataFrame whose right answer is known:
constant returns of 10, 20 and 60 (mean 30), returns that grow with the env
step while episode lengths differ between seeds, and returns that alternate
0, 10, 0, 10 (a moving average of 10 episodes makes them flat).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, cast

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import NDArray

from playground.checks import CheckFailed, check, require
from playground.checks.spy import TrainCall, intercept_train_dqn
from playground.core.config import PRESETS, DQNConfig
from playground.core.results import CONTRACT_COLUMNS, ExperimentProgress, TrainingProgress, TrainingResult
from solutions.q_network import CustomQNetwork, count_parameters
from solutions.train_dqn import train_dqn as reference_train_dqn

LESSON_SIZES: dict[str, list[int]] = {"1x64": [64], "1x256": [256], "2x64": [64, 64], "2x256": [256, 256]}
CHECK_SIZES: dict[str, list[int]] = {"1x4": [4], "1x16": [16], "2x4": [4, 4]}
CHECK_SEEDS: tuple[int, ...] = (3, 7)
LINEWORLD_DIMS = (8, 2)


def tiny_config(**changes: Any) -> DQNConfig:
    """LineWorld, 200 env steps, updates from step 50: a fraction of a second per run."""
    base = PRESETS["lineworld"].replace(
        total_timesteps=200,
        learning_starts=50,
        buffer_size=500,
        batch_size=16,
        target_update_interval=50,
        hidden_dims=(8,),
        eval_freq=0,
        reward_threshold=None,
    )
    return base.replace(**changes)


NETWORK_SIZES_DEFAULT: Mapping[str, Sequence[int]] = {}  # marker: call without ``sizes=`` (the default)


def run_experiment(
    mod: ModuleType,
    config: DQNConfig,
    sizes: Mapping[str, Sequence[int]],
    seeds: Sequence[int],
    callback: Callable[[ExperimentProgress], bool | None] | None = None,
) -> tuple[pd.DataFrame, list[TrainCall]]:
    """The learner's experiment, with the reference ``train_dqn`` recording every run."""
    with intercept_train_dqn(mod, replacement=reference_train_dqn) as calls:
        if sizes is NETWORK_SIZES_DEFAULT:
            df = mod.run_network_size_experiment(config, seeds=seeds, callback=callback)
        else:
            df = mod.run_network_size_experiment(config, sizes=sizes, seeds=seeds, callback=callback)
    if not isinstance(df, pd.DataFrame):
        raise CheckFailed(
            f"run_network_size_experiment returned {type(df).__name__}; expected a pandas DataFrame "
            "with one row per episode (pd.concat the runs' frames)"
        )
    return df, calls


_CACHE: dict[tuple[str, int], tuple[pd.DataFrame, list[TrainCall]]] = {}


def main_experiment(mod: ModuleType) -> tuple[pd.DataFrame, list[TrainCall]]:
    """The tiny 3-size x 2-seed experiment, run once per module and shared by several checks."""
    key = (mod.__name__, id(mod))
    if key not in _CACHE:
        _CACHE[key] = run_experiment(mod, tiny_config(), CHECK_SIZES, CHECK_SEEDS)
    return _CACHE[key]


def require_columns(df: pd.DataFrame) -> None:
    missing = [name for name in CONTRACT_COLUMNS if name not in df.columns]
    require(
        not missing,
        f"the DataFrame has no column {', '.join(repr(m) for m in missing)} (it has {list(df.columns)}); "
        "expected the long form: one row per episode with size, seed, episode, timestep, reward",
    )


def runs_of(df: pd.DataFrame) -> dict[tuple[str, int], pd.DataFrame]:
    """Each (size, seed) run of ``df``, in episode order."""
    runs: dict[tuple[str, int], pd.DataFrame] = {}
    for key, run in df.groupby(["size", "seed"], sort=False):
        size, seed = cast(tuple[Any, Any], key)
        runs[(str(size), int(seed))] = run.sort_values("episode")
    return runs


def call_key(call: TrainCall) -> tuple[tuple[int, ...], int]:
    return tuple(int(w) for w in call.config.hidden_dims), int(call.config.seed)


def missing_runs(seen: Sequence[tuple[tuple[int, ...], int]]) -> str:
    """What the train_dqn runs trained, when some (hidden_dims, seed) of the check's sizes and seeds never ran.

    Says which sizes never trained, else which seeds the runs of a size trained with instead of ``seeds``.
    """
    fix = "make each run's config with base_config.replace(hidden_dims=dims, seed=seed)"
    seeds_of: dict[tuple[int, ...], list[int]] = {}
    for trained_dims, seed in seen:
        seeds_of.setdefault(trained_dims, []).append(seed)
    trained = ", ".join(str(list(key)) for key in seeds_of) or "none"
    absent = [f"{name} (hidden_dims {dims})" for name, dims in CHECK_SIZES.items() if tuple(dims) not in seeds_of]
    if absent:
        return f"no run trained size {', '.join(absent)}; the runs trained hidden_dims {trained}: {fix}"
    for name, dims in CHECK_SIZES.items():
        got = seeds_of[tuple(dims)]
        if set(CHECK_SEEDS) <= set(got):
            continue
        how = f"with seed {got[0]} each time" if len(got) > 1 and len(set(got)) == 1 else f"with seeds {got}"
        return (
            f"the {len(got)} runs of size {name} (hidden_dims {dims}) trained {how}, but the experiment was "
            f"given seeds={CHECK_SEEDS}: each run must train with its own seed from `seeds` "
            "(base_config.replace(hidden_dims=dims, seed=seed), not the base config's seed)"
        )
    return f"some (size, seed) never trained: {fix}"


def expected_parameters(dims: Sequence[int]) -> int:
    return count_parameters(CustomQNetwork(*LINEWORLD_DIMS, list(dims)))


def same_curve(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and bool(np.allclose(np.asarray(a, float), np.asarray(b, float)))


# --- The experiment ---------------------------------------------------------------------------


@check(
    "network_sizes",
    "the four sizes of the lesson",
    timeout=10,
    tests="run_network_size_experiment",
    enforces=(
        'NETWORK_SIZES: dict[str, list[int]] = {"1x64": [64], "1x256": [256], "2x64": [64, 64], "2x256": [256, 256]}',
    ),
)
def lesson_sizes(mod: ModuleType) -> str:
    sizes = getattr(mod, "NETWORK_SIZES", None)
    require(isinstance(sizes, Mapping), "NETWORK_SIZES should be a dict from size name to hidden layer widths")
    assert isinstance(sizes, Mapping)
    seen = {str(name): [int(w) for w in dims] for name, dims in sizes.items()}
    require(seen == LESSON_SIZES, f"NETWORK_SIZES should be {LESSON_SIZES}, got {seen}")
    # The constant comes with the stub: this check counts only once the experiment trains these sizes by default.
    _, calls = run_experiment(mod, tiny_config(total_timesteps=100), NETWORK_SIZES_DEFAULT, (0,))
    trained = sorted({tuple(int(w) for w in call.config.hidden_dims) for call in calls})
    expected = sorted(tuple(dims) for dims in LESSON_SIZES.values())
    require(
        trained == expected,
        f"called without `sizes`, run_network_size_experiment trained hidden_dims {[list(t) for t in trained]}; "
        f"expected the four lesson sizes {[list(t) for t in expected]} (the default `sizes=NETWORK_SIZES`)",
    )
    return "1x64, 1x256, 2x64 and 2x256, trained by default"


@check(
    "network_sizes",
    "one curve per size and seed",
    timeout=90,
    tests="run_network_size_experiment",
    enforces=(
        "One row per episode with the columns ``size``",
        "``episode`` (1, 2, ... within the run)",
        "``timestep`` (the env step at which the episode ended)",
    ),
    hint=(
        "Each (size, seed) run adds one row per finished episode: size (its label), seed, episode counted "
        "1, 2, 3, ... within that run (start each run at 1), timestep the env step at which that episode "
        "ended (the running sum of result.episode_lengths), and its reward (result.episode_rewards)."
    ),
)
def one_curve_per_run(mod: ModuleType) -> str:
    df, calls = main_experiment(mod)
    require_columns(df)
    require(len(df) > 0, "the DataFrame is empty: every (size, seed) run should add one row per episode")
    names = {str(s) for s in df["size"].unique()}
    require(
        names == set(CHECK_SIZES),
        f"with sizes={CHECK_SIZES} the size column holds {sorted(names)}: it should hold the size names "
        "(the keys of `sizes`, not the widths), and use the `sizes` argument rather than NETWORK_SIZES",
    )
    seeds = {int(s) for s in df["seed"].unique()}
    require(
        seeds == set(CHECK_SEEDS),
        f"with seeds={CHECK_SEEDS} the seed column holds {sorted(seeds)}: use the `seeds` argument",
    )
    runs = runs_of(df)
    missing = [f"{size} seed {seed}" for size in CHECK_SIZES for seed in CHECK_SEEDS if (size, seed) not in runs]
    require(not missing, f"no episodes for {', '.join(missing)}: train every size on every seed")
    by_key = {call_key(call): call for call in calls}
    for (size, seed), run in runs.items():
        episodes = run["episode"].to_numpy()
        require(
            len(episodes) > 0 and int(episodes[0]) == 1 and bool(np.all(np.diff(episodes) == 1)),
            f"{size} seed {seed}: episode should count 1, 2, 3, ... within each run (the docstring's numbering), "
            f"got {episodes[:6].tolist()}..." + (": start at 1, not 0" if int(episodes[0]) == 0 else ""),
        )
        steps = run["timestep"].astype(float).tolist()
        result = by_key.get((tuple(CHECK_SIZES[size]), seed))
        # Only when this curve's returns are that run's (mixed-up labels are the next check's business).
        if (
            result is not None
            and isinstance(result.result, TrainingResult)
            and same_curve(run["reward"].tolist(), result.result.episode_rewards)
        ):
            trained = result.result
            require(
                not same_curve(steps, trained.episode_lengths) or same_curve(steps, trained.episode_end_steps),
                f"{size} seed {seed}: timestep holds each episode's length; it should be the env step at which "
                "the episode ended (the running total of result.episode_lengths)",
            )
            require(
                same_curve(steps, trained.episode_end_steps),
                f"{size} seed {seed}: timestep {steps[:4]}... differs from the env steps at which the run's "
                f"episodes ended, {trained.episode_end_steps[:4]}... (the running total of episode_lengths)",
            )
        require(
            bool(np.all(np.diff(steps) > 0)),
            f"{size} seed {seed}: timestep should grow within a run (env steps at each episode's end), "
            f"got {steps[:6]}...",
        )
    return f"{len(runs)} runs, {len(df)} episodes, columns {list(df.columns)[:5]}"


@check(
    "network_sizes",
    "each size trains its own architecture",
    timeout=90,
    tests="run_network_size_experiment",
    enforces=("make the run's config with ``base_config.replace(hidden_dims=dims, seed=seed)``. Change nothing else",),
)
def trains_each_architecture(mod: ModuleType) -> str:
    df, calls = main_experiment(mod)
    require_columns(df)
    runs = runs_of(df)
    if not calls:
        # train_dqn ran where we could not watch (another process): judge by the curves alone.
        for seed in CHECK_SEEDS:
            curves = [runs[(size, seed)]["reward"].tolist() for size in CHECK_SIZES if (size, seed) in runs]
            require(
                len(curves) < 2 or not all(same_curve(curves[0], c) for c in curves[1:]),
                f"every size gave the same curve for seed {seed}: the networks were probably all the same "
                "(replace hidden_dims in the config for each size)",
            )
        return "train_dqn ran in other processes, so the networks could not be counted; the sizes' curves differ"
    base = tiny_config()
    dims_seen = sorted({tuple(call.config.hidden_dims) for call in calls})
    require(
        dims_seen != [base.hidden_dims] or len(CHECK_SIZES) == 1,
        f"every run trained hidden_dims {list(base.hidden_dims)} (the base config's): make each run's config with "
        "base_config.replace(hidden_dims=dims, seed=seed)",
    )
    expected = {(tuple(dims), seed) for dims in CHECK_SIZES.values() for seed in CHECK_SEEDS}
    seen = [call_key(call) for call in calls]
    require(not (expected - set(seen)), missing_runs(seen))
    require(
        len(seen) == len(expected),
        f"train_dqn was called {len(seen)} times for {len(expected)} runs: train each (size, seed) once",
    )
    for call in calls:
        changed = [
            f"{name} ({getattr(base, name)!r} -> {getattr(call.config, name)!r})"
            for name in base.to_dict()
            if name not in ("hidden_dims", "seed") and getattr(call.config, name) != getattr(base, name)
        ]
        require(not changed, f"a run changed {', '.join(changed)}: only hidden_dims and seed may differ")
        network = getattr(call.result, "q_network", None)
        if network is not None:
            got, want = count_parameters(network), expected_parameters(call.config.hidden_dims)
            require(
                got == want,
                f"the run with hidden_dims {list(call.config.hidden_dims)} trained a network of {got} parameters; "
                f"that architecture has {want}",
            )
    by_curve = {call_key(call): call.result for call in calls if isinstance(call.result, TrainingResult)}
    for (size, seed), run in runs.items():
        trained = by_curve.get((tuple(CHECK_SIZES[size]), seed))
        if trained is None or same_curve(run["reward"].tolist(), trained.episode_rewards):
            continue
        match = [key for key, result in by_curve.items() if same_curve(run["reward"].tolist(), result.episode_rewards)]
        source = f" is the run with hidden_dims {list(match[0][0])} and seed {match[0][1]}" if match else " differs"
        raise CheckFailed(
            f"the curve labelled {size} seed {seed}{source}; expected the returns of the run trained with hidden_dims "
            f"{CHECK_SIZES[size]} and seed {seed}: the labels and the runs are mixed up"
        )
    counts = ", ".join(f"{name} {expected_parameters(dims)}" for name, dims in CHECK_SIZES.items())
    return f"parameter counts match ({counts}) and each curve is its run's"


@check(
    "network_sizes",
    "seeds: different curves, repeatable",
    timeout=90,
    tests="run_network_size_experiment",
    enforces=("make the run's config with ``base_config.replace(hidden_dims=dims, seed=seed)``.",),
)
def seeds_behave(mod: ModuleType) -> str:
    df, calls = main_experiment(mod)
    require_columns(df)
    runs = runs_of(df)
    for size in CHECK_SIZES:
        first, second = (runs.get((size, seed)) for seed in CHECK_SEEDS)
        if first is None or second is None:
            continue
        require(
            not same_curve(first["reward"].tolist(), second["reward"].tolist()),
            f"{size}: seeds {CHECK_SEEDS[0]} and {CHECK_SEEDS[1]} gave the very same curve: each run's config "
            "needs its own seed (base_config.replace(seed=seed))",
        )
    wrong = [call for call in calls if int(call.config.seed) not in CHECK_SEEDS]
    require(
        not wrong,
        f"a run trained with seed {wrong[0].config.seed if wrong else ''}, which is not one of seeds={CHECK_SEEDS}",
    )
    size, seed = next(iter(CHECK_SIZES)), CHECK_SEEDS[0]
    again, _ = run_experiment(mod, tiny_config(), {size: CHECK_SIZES[size]}, (seed,))
    require_columns(again)
    before = runs.get((size, seed))
    after = runs_of(again).get((size, seed))
    require(before is not None and after is not None, f"no episodes for {size} seed {seed}")
    assert before is not None
    assert after is not None
    require(
        same_curve(before["reward"].tolist(), after["reward"].tolist())
        and same_curve(before["timestep"].tolist(), after["timestep"].tolist()),
        f"running {size} with seed {seed} again gave a different curve: the run must depend only on the config "
        "(no random seeds, no state left over from earlier runs)",
    )
    return "different seeds differ, and the same seed gives the same curve"


@check(
    "network_sizes",
    "callback reports progress",
    timeout=90,
    tests="run_network_size_experiment",
    enforces=(
        "calls ``callback`` (when it is not ``None``) with an ``ExperimentProgress(size, seed, training=progress)``",
        "When a run ends, call ``callback`` once more with ``ExperimentProgress(size, seed, finished=True)``.",
    ),
)
def callback_reports(mod: ModuleType) -> str:
    seen: list[Any] = []

    def record(progress: ExperimentProgress) -> None:  # returns None, as list.append does: only False stops
        seen.append(progress)

    sizes = {"1x4": [4], "2x4": [4, 4]}
    try:
        df, _ = run_experiment(mod, tiny_config(total_timesteps=200), sizes, (5,), callback=record)
    except TypeError as err:
        if "NoneType" not in str(err):
            raise
        raise CheckFailed(
            f"with a callback that returns None the experiment raised TypeError ({err}): a callback may return "
            "None, which does not stop; test `callback(progress) is False`, not a comparison with False"
        ) from None
    require(bool(seen), "the callback was never called: call it with an ExperimentProgress at every episode end")
    wrong = [type(p).__name__ for p in seen if not isinstance(p, ExperimentProgress)]
    require(
        not wrong,
        f"the callback received {wrong[0] if wrong else ''}; expected playground.core.results.ExperimentProgress "
        "(size, seed, training=progress), or (size, seed, finished=True) when a run ends",
    )
    for progress in seen:
        require(
            progress.size in sizes and int(progress.seed) == 5,
            f"progress names size {progress.size!r} seed {progress.seed!r}; expected one of {list(sizes)}, seed 5",
        )
        require(
            progress.training is None or isinstance(progress.training, TrainingProgress),
            "ExperimentProgress.training should be the TrainingProgress that train_dqn's callback received",
        )
        require(
            progress.training is None or not getattr(progress, "finished", False),
            "an ExperimentProgress for an episode end (training set) says finished=True: finished marks the "
            "message sent when a whole run is done",
        )
    ended = sorted({str(p.size) for p in seen if getattr(p, "finished", False) and p.training is None})
    require(
        ended == sorted(sizes),
        f"runs of sizes {ended} sent a finished message, of the 2 runs (sizes {sorted(sizes)}, seed 5): when a run "
        "ends, call callback(ExperimentProgress(size, seed, finished=True)) once, so the app can count the runs",
    )
    episodes = sum(1 for p in seen if p.training is not None)
    require(
        episodes >= len(df),
        f"the callback saw {episodes} episode ends but the DataFrame has {len(df)} episodes: pass a callback to "
        "train_dqn and forward every TrainingProgress (as ExperimentProgress.training)",
    )
    return f"{len(seen)} progress messages for {len(df)} episodes"


@check(
    "network_sizes",
    "callback can stop the experiment",
    timeout=120,
    tests="run_network_size_experiment",
    enforces=("keep its episodes, start no further run, and return the DataFrame.",),
)
def callback_stops(mod: ModuleType) -> str:
    calls_to_callback = 0

    def stop_now(progress: ExperimentProgress) -> bool:
        nonlocal calls_to_callback
        calls_to_callback += 1
        return False

    budget = 2_000
    df, calls = run_experiment(mod, tiny_config(total_timesteps=budget), {"1x4": [4]}, (0, 1, 2), callback=stop_now)
    require(calls_to_callback > 0, "the callback was never called, so it could not stop anything")
    if len(df):
        require_columns(df)
    runs = runs_of(df) if len(df) else {}
    started = max(len(calls), len(runs))
    require(
        started <= 2,
        f"the callback returned False at its first call, but {started} of 3 runs were trained: "
        "start no new run once the callback has returned False",
    )
    steps = sum(int(run["timestep"].max()) for run in runs.values())
    steps = max([steps] + [int(getattr(call.result, "total_steps", 0) or 0) for call in calls])
    require(
        steps < budget,
        f"the callback returned False at the first episode end, yet a run went on to env step {steps} of {budget}: "
        "return the callback's answer from train_dqn's callback so the current run stops at once",
    )
    return f"stopped after {steps} env steps"


# --- The plot ---------------------------------------------------------------------------------


def synthetic_df() -> pd.DataFrame:
    """Three sizes x three seeds with known answers (see the module docstring)."""
    rows: list[tuple[str, int, int, int, float]] = []

    def add(size: str, seed: int, lengths: int, end: int, reward: Callable[[int, int], float]) -> None:
        for episode, step in enumerate(range(lengths, end + 1, lengths), start=1):
            rows.append((size, seed, episode, step, reward(episode, step)))

    def ramp(_episode: int, step: int) -> float:
        return step / 100

    def alternate(episode: int, _step: int) -> float:
        return 10.0 * (episode % 2)

    for seed, level in enumerate((10.0, 20.0, 60.0)):
        add("1x64", seed, 20, 2_000 - 400 * seed, lambda _e, _t, level=level: level)  # type: ignore[misc]
    for seed, length in enumerate((10, 25, 50)):
        add("2x64", seed, length, 2_000, ramp)
    for seed in range(3):
        add("2x256", seed, 10, 2_000, alternate)
    return pd.DataFrame(rows, columns=list(CONTRACT_COLUMNS))


def draw(mod: ModuleType, df: pd.DataFrame, window: int) -> Figure:
    figure = mod.plot_learning_curves(df, window)
    require(
        isinstance(figure, Figure),
        f"plot_learning_curves returned {type(figure).__name__}; expected the matplotlib Figure itself",
    )
    return figure  # type: ignore[no-any-return]


def data_lines(figure: Figure) -> list[Line2D]:
    """Plotted curves: lines with more than two points (not axhline/axvline markers)."""
    lines = [line for ax in figure.axes for line in ax.get_lines()]
    return [line for line in lines if np.asarray(line.get_xdata(), dtype=float).size > 2]


def bands(figure: Figure) -> list[PolyCollection]:
    return [c for ax in figure.axes for c in ax.collections if isinstance(c, PolyCollection)]


def line_for(figure: Figure, size: str) -> Line2D:
    named = [line for line in data_lines(figure) if size in str(line.get_label())]
    require(
        len(named) == 1,
        f"expected exactly one line labelled with the size name {size!r}, found {len(named)}: "
        "label each mean line with its size (ax.plot(..., label=size)) and add a legend",
    )
    return named[0]


def xy(line: Line2D) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.asarray(line.get_xdata(), dtype=float)
    y = np.asarray(line.get_ydata(), dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def close(figure: Figure) -> None:
    import matplotlib.pyplot as plt

    plt.close(figure)


@check(
    "network_sizes",
    "plot: one line and one band per size",
    timeout=30,
    tests="plot_learning_curves",
    enforces=("Exactly one line and one band per size.",),
)
def plot_lines_and_bands(mod: ModuleType) -> str:
    df = synthetic_df()
    figure = draw(mod, df, 1)
    try:
        lines, fills = data_lines(figure), bands(figure)
        require(
            len(lines) == 3,
            f"3 sizes should give 3 lines (the mean over seeds of each size), found {len(lines)}"
            + (": draw the mean over seeds, not every seed" if len(lines) >= 9 else ""),
        )
        require(
            len(fills) == 3,
            f"3 sizes should give 3 bands across seeds (ax.fill_between per size), found {len(fills)}",
        )
        for size in ("1x64", "2x64", "2x256"):
            line_for(figure, size)
    finally:
        close(figure)
    return "3 lines and 3 bands for 3 sizes"


@check(
    "network_sizes",
    "plot: mean over seeds on env steps",
    timeout=30,
    tests="plot_learning_curves",
    enforces=(
        "one line, the mean over its seeds",
        "read on one common grid of env steps",
    ),
)
def plot_mean_on_steps(mod: ModuleType) -> str:
    df = synthetic_df()
    figure = draw(mod, df, 1)
    try:
        line = line_for(figure, "1x64")
        raw_x = np.asarray(line.get_xdata(), dtype=float)
        raw_y = np.asarray(line.get_ydata(), dtype=float)
        after_first = raw_x >= 20  # every 1x64 seed ends its first episode at env step 20
        require(
            bool(np.all(np.isfinite(raw_y[after_first]))),
            "the 1x64 line has gaps after env step 20, where every seed has finished its first episode: a run's "
            "curve starts at its first episode's end (use the last episode that ended at or before each step)",
        )
        x, y = xy(line)
        require(len(y) > 0, "the 1x64 line has no finite points")
        ends = df.groupby(["size", "seed"])["timestep"].max()
        overlap = float(ends[ends.index.get_level_values("size") == "1x64"].min())  # where all its seeds have data
        require(
            x.max() >= 0.9 * overlap and x.max() <= 1.1 * df["timestep"].max(),
            f"the 1x64 line reaches x = {x.max():.0f}, but its seeds' runs reach env step {overlap:.0f} (all of them) "
            f"to {df['timestep'].max()}: plot against env steps (the timestep column), not episode numbers",
        )
        require(
            bool(np.allclose(y, 30.0, atol=0.5)),
            f"the three 1x64 seeds return 10, 20 and 60 every episode, so the mean line should sit at 30; it runs "
            f"from {y.min():.1f} to {y.max():.1f}"
            + (" (20 is their median, not their mean)" if np.allclose(y, 20.0, atol=0.5) else ""),
        )
        x, y = xy(line_for(figure, "2x256"))
        first = (x >= 10) & (x < 12)  # after episode 1 (return 10, all seeds) ends, before episode 2 (return 0)
        require(
            not first.any() or bool(np.all(y[first] > 5)),
            f"every 2x256 seed returns 10 in its first episode (ending at env step 10) and 0 in the second; just "
            f"after step 10 the line shows {fmt_list(y[first])}: a curve's value at step t is that of the last "
            "episode ended at or before t",
        )
        x, y = xy(line_for(figure, "2x64"))
        late = x >= 100
        error = float(np.max(np.abs(y[late] - x[late] / 100))) if late.any() else math.inf
        require(
            error <= 1.0,
            f"every 2x64 seed earns t/100 at env step t but plays episodes of different lengths (10, 25, 50 steps); "
            f"the mean line is off by up to {error:.1f}: put each run on a common grid of env steps before averaging",
        )
    finally:
        close(figure)
    return "the line is the mean over seeds, and runs line up by env step"


@check(
    "network_sizes",
    "plot: the window smooths",
    timeout=30,
    tests="plot_learning_curves",
    enforces=("smoothed with a moving average over ``window`` episodes (fewer at the start of the run).",),
)
def plot_window_smooths(mod: ModuleType) -> str:
    df = synthetic_df()
    rough_figure, smooth_figure = draw(mod, df, 1), draw(mod, df, 10)
    try:
        rough = float(np.abs(np.diff(xy(line_for(rough_figure, "2x256"))[1])).sum())
        smooth = float(np.abs(np.diff(xy(line_for(smooth_figure, "2x256"))[1])).sum())
    finally:
        close(rough_figure)
        close(smooth_figure)
    require(
        rough > 0 and smooth < 0.5 * rough,
        f"returns alternate 0, 10, 0, 10: with window=10 the curve should be nearly flat, but it moves {smooth:.0f} "
        f"up and down (window=1: {rough:.0f}): smooth each run with a moving average over `window` episodes",
    )
    return f"total variation {rough:.0f} with window 1, {smooth:.0f} with window 10"


def _two_seed_df() -> pd.DataFrame:
    """One size, two seeds with the same 30 episode ends (10, 20, ..., 300): seed 0 returns 0, seed 1 returns 100."""
    rows = [
        {"size": "A", "seed": seed, "episode": k, "timestep": 10 * k, "reward": 100.0 * seed}
        for seed in (0, 1)
        for k in range(1, 31)
    ]
    return pd.DataFrame(rows, columns=list(CONTRACT_COLUMNS))


def require_start_not_padded(mod: ModuleType) -> None:
    """Fail when runs that return 100 in every episode are plotted below 100 at their start.

    Told apart from smoothing across seeds (which leaves such runs flat): a full window over the first
    episodes, padded with zeros (``np.convolve(reward, np.ones(window) / window)[:len(run)]``), pulls the
    first points toward 0.
    """
    window = 10
    df = _two_seed_df().assign(reward=100.0)
    figure = draw(mod, df, window)
    try:
        x, y = xy(line_for(figure, "A"))
    finally:
        close(figure)
    start = (x >= 10) & (x < 10 * window)
    if not start.any() or float(np.max(np.abs(y[start] - 100.0))) <= 1.0:
        return
    padded = 100.0 * np.minimum(x[start] / 10.0, window) / window  # episode k at env step 10k averages k of 10
    first = ", ".join(f"{v:.1f}" for v in y[start][:3])
    if float(np.max(np.abs(y[start] - padded))) <= 1.0:
        cause = (
            f"the first points are pulled toward 0 (k / {window} * 100 after k episodes): each averages over a full "
            f"window of {window} episodes padded with zeros, as np.convolve(...)[:len(run)] does"
        )
    else:
        cause = "the first points are pulled away from 100: the start of each run is smoothed wrongly"
    raise CheckFailed(
        f"with window={window}, runs that return 100 in every episode start at {first}, not 100: {cause}. At the "
        "start of a run average over the episodes there are so far, fewer than window "
        "(rolling(window, min_periods=1).mean())"
    )


@check(
    "network_sizes",
    "plot: each run smoothed on its own, from its first episode",
    timeout=30,
    tests="plot_learning_curves",
    enforces=(
        "Each run (one size and seed) is smoothed with a moving average over ``window`` episodes (fewer at the "
        "start of the run).",
    ),
    hint=(
        "Smooth inside each run, never across two: group the rows by size and seed, and in each group take "
        "reward.rolling(window, min_periods=1).mean() in episode order, so the first episodes average over "
        "the ones there are. Only then put each run on the common env-step grid and average over seeds."
    ),
)
def plot_smooths_each_run(mod: ModuleType) -> str:
    df = _two_seed_df()
    figure = draw(mod, df, 10)
    try:
        x, y = xy(line_for(figure, "A"))
    finally:
        close(figure)
    early = (x >= 10) & (x < 100)
    require(
        bool(early.any()),
        "with window=10 the line has no value before env step 100, where each run has 1 to 9 episodes: at the start "
        "of a run average over the episodes there are so far (rolling(window, min_periods=1))",
    )
    inside = (x >= 10) & (x <= 300)
    worst = float(np.max(np.abs(y[inside] - 50.0))) if inside.any() else math.inf
    if worst > 1.0:
        require_start_not_padded(mod)
    require(
        worst <= 1.0,
        f"seed 0 returns 0 and seed 1 returns 100 in every episode, so each run's smoothed curve is flat and their "
        f"mean is 50 everywhere; the line is off by up to {worst:.1f}: smooth each (size, seed) run on its own "
        "(group by size and seed before the rolling mean), never across the boundary between two seeds' runs",
    )
    return "each run is smoothed on its own, with a shorter window at its start"


@check(
    "network_sizes",
    "seeds default to (0, 1, 2)",
    timeout=60,
    tests="run_network_size_experiment",
    enforces=("seeds: Sequence[int] = (0, 1, 2),",),
)
def default_seeds(mod: ModuleType) -> str:
    config = tiny_config(total_timesteps=100)
    with intercept_train_dqn(mod, replacement=reference_train_dqn) as calls:
        df = mod.run_network_size_experiment(config, sizes={"1x4": [4]})
    trained = [int(call.config.seed) for call in calls]
    require(
        not (len(trained) == 3 and len(set(trained)) < 3),
        f"without seeds the experiment made 3 runs of size '1x4' (the default seeds=(0, 1, 2) was used), but they "
        f"trained with seeds {trained}: all runs of a size used the same seed. Train each run with its own seed "
        "(the config of a run gets seed=seed, not the base config's seed)",
    )
    seeds = sorted(set(trained)) or sorted({int(s) for s in df["seed"].unique()})
    require(
        seeds == [0, 1, 2],
        f"run_network_size_experiment(config, sizes) without seeds trained seeds {seeds}; the signature's "
        "default is seeds=(0, 1, 2)",
    )
    return "seeds 0, 1 and 2 by default"


# --- The extras and the summary ---------------------------------------------------------------


@check(
    "network_sizes",
    "extra columns, when present, are right",
    timeout=90,
    tests="run_network_size_experiment",
    enforces=("extra columns may follow.",),
)
def extra_columns(mod: ModuleType) -> str:
    df, calls = main_experiment(mod)
    require_columns(df)
    extras = [name for name in ("parameters", "seconds", "solved_step", "final_greedy_mean") if name in df.columns]
    if not extras:
        return "only the five contract columns (extras are optional)"
    by_key = {call_key(call): call.result for call in calls if isinstance(call.result, TrainingResult)}
    for (size, seed), run in runs_of(df).items():
        dims = CHECK_SIZES[size]
        if "parameters" in run:
            counts = sorted({int(x) for x in run["parameters"]})
            require(
                counts == [expected_parameters(dims)],
                f"{size} seed {seed}: the parameters column holds {counts}; hidden layers {dims} on LineWorld have "
                f"{expected_parameters(dims)} trainable parameters",
            )
        trained = by_key.get((tuple(dims), seed))
        if "seconds" in run:
            seconds = run["seconds"].astype(float).to_numpy()
            longest = (float(trained.wall_time) if trained is not None else 60.0) + 10.0
            require(
                bool(np.all(seconds >= 0) and np.all(np.diff(seconds) >= 0) and seconds.max() <= longest)
                and (trained is None or seconds[0] <= float(trained.wall_time) + 0.5),
                f"{size} seed {seed}: seconds should be the time since the run started at each episode's end "
                f"(never negative, never decreasing, at most the run's {longest - 10:.1f} s), got "
                f"{fmt_list(seconds[:5])}...: subtract the start time (time.perf_counter() - started)",
            )
        if "solved_step" in run:
            # tiny_config has no evaluations (eval_freq = 0), so no run can be "solved".
            require(
                bool(run["solved_step"].isna().all()),
                f"{size} seed {seed}: solved_step is {run['solved_step'].iloc[0]} though the runs had no greedy "
                "evaluation (eval_freq = 0): it should be NaN",
            )
        if "final_greedy_mean" in run and trained is not None:
            want = greedy_mean(trained.q_network)
            got = sorted({float(x) for x in run["final_greedy_mean"]})
            require(
                len(got) == 1 and math.isclose(got[0], want, abs_tol=1e-6),
                f"{size} seed {seed}: final_greedy_mean is {got}; the trained network's greedy return on LineWorld "
                f"is {want:.2f} (greedy episodes of the final network, the same value on every row of the run)",
            )
    return f"{', '.join(extras)} match each run"


def fmt_list(values: Any) -> str:
    return "[" + ", ".join(f"{float(v):.2f}" for v in values) + "]"


def greedy_mean(network: Any) -> float:
    """The greedy return of one LineWorld episode (deterministic), played here."""
    import torch

    from playground.core.envs import LINEWORLD_ID, make_env

    env = make_env(LINEWORLD_ID)
    try:
        state, _ = env.reset(seed=0)
        total, done = 0.0, False
        while not done:
            with torch.no_grad():
                q = network(torch.as_tensor(np.asarray(state, dtype=np.float32))[None])
            state, reward, terminated, truncated, _ = env.step(int(q.argmax()))
            total += float(reward)
            done = bool(terminated or truncated)
        return total
    finally:
        env.close()


def summary_df() -> pd.DataFrame:
    """Two sizes x three seeds, many episodes each, with known answers for every summary column.

    Size "A": constant returns 1, 2 and 6 per seed; seeds 0 and 1 solved at env steps 1,000 and 3,000
    (4 and 8 seconds); final greedy returns 10, 20, 60. Size "B": returns 0, never solved, greedy 5.
    """
    rows: list[dict[str, Any]] = []
    plan = {
        "A": [(1.0, 1_000.0, 4.0, 10.0), (2.0, 3_000.0, 8.0, 20.0), (6.0, math.nan, math.nan, 60.0)],
        "B": [(0.0, math.nan, math.nan, 5.0)] * 3,
    }
    for size, per_seed in plan.items():
        for seed, (level, step, seconds, greedy) in enumerate(per_seed):
            for episode in range(1, 21):
                rows.append(
                    {
                        "size": size,
                        "seed": seed,
                        "episode": episode,
                        "timestep": 100 * episode,
                        "reward": level,
                        "seconds": 0.2 * episode,
                        "parameters": 100 if size == "A" else 300,
                        "solved_step": step,
                        "solved_seconds": seconds,
                        "final_greedy_mean": greedy,
                    }
                )
    return pd.DataFrame(rows)


SUMMARY_EXPECTED: dict[str, dict[str, float]] = {
    "parameters": {"A": 100, "B": 300},
    "runs": {"A": 3, "B": 3},
    "greedy_mean": {"A": 30.0, "B": 5.0},
    "solved": {"A": 2, "B": 0},
    "steps_to_solve": {"A": 2_000.0, "B": math.nan},
    "seconds_to_solve": {"A": 6.0, "B": math.nan},
    "auc_mean": {"A": 3.0, "B": 0.0},
    "auc_min": {"A": 1.0, "B": 0.0},
    "auc_max": {"A": 6.0, "B": 0.0},
}
SUMMARY_HINTS: dict[str, str] = {
    "parameters": "the network's parameter count (the parameters column)",
    "runs": "how many seeds (runs) the size has, not how many episodes",
    "greedy_mean": "the mean over seeds of each run's final_greedy_mean",
    "solved": "how many runs (seeds) reached the threshold (a solved_step that is not NaN), not how many episodes",
    "steps_to_solve": "the median solved_step of the runs that solved (NaN when none did)",
    "seconds_to_solve": "the median solved_seconds of the runs that solved (NaN when none did)",
    "auc_mean": "the mean over seeds of each run's average smoothed return (the area under its curve per env step)",
    "auc_min": "the smallest run's average smoothed return",
    "auc_max": "the largest run's average smoothed return",
}


def _same(a: Any, b: float) -> bool:
    try:
        value = float(a)
    except (TypeError, ValueError):
        return False
    if math.isnan(b):
        return math.isnan(value)
    return math.isclose(value, b, rel_tol=1e-6, abs_tol=1e-6)


@check(
    "network_sizes",
    "summary: one row per size, the right numbers",
    timeout=30,
    tests="summarize_experiment",
    enforces=("Optional: one row per size with the numbers behind the chart.",),
)
def summary_numbers(mod: ModuleType) -> str:
    summarize = getattr(mod, "summarize_experiment", None)
    require(callable(summarize), "summarize_experiment is missing: keep the stub's function (it is optional to fill)")
    assert summarize is not None
    try:
        table = summarize(summary_df(), 5)
    except NotImplementedError:
        return "summarize_experiment is optional and not written yet (the app uses the reference's)"
    require(
        isinstance(table, pd.DataFrame),
        f"summarize_experiment returned {type(table).__name__}; expected a DataFrame with one row per size",
    )
    require("size" in table.columns, f"the summary has no size column (it has {list(table.columns)})")
    sizes = [str(s) for s in table["size"]]
    require(sizes == ["A", "B"], f"the summary's sizes are {sizes}; expected one row per size, in order: ['A', 'B']")
    checked: list[str] = []
    for column, want in SUMMARY_EXPECTED.items():
        if column not in table.columns:
            continue
        for row, size in zip(table[column], sizes, strict=True):
            require(
                _same(row, want[size]),
                f"summary column {column!r} is {row!r} for size {size}; expected {want[size]:g}: "
                f"{SUMMARY_HINTS[column]}",
            )
        checked.append(column)
    if "greedy_std" in table.columns:
        std = float(table["greedy_std"].iloc[0])
        spread = np.array([10.0, 20.0, 60.0])
        require(
            any(math.isclose(std, float(np.std(spread, ddof=d)), rel_tol=1e-6) for d in (0, 1)),
            f"greedy_std for size A is {std:.3f}; the final greedy returns 10, 20, 60 have a standard deviation of "
            f"{np.std(spread):.3f} (or {np.std(spread, ddof=1):.3f} with ddof=1)",
        )
        checked.append("greedy_std")
    require(bool(checked), f"the summary has none of the suggested columns: {', '.join(SUMMARY_EXPECTED)}")
    plain = summary_df()[list(CONTRACT_COLUMNS)]
    bare = summarize(plain, 5)
    if "solved" in bare.columns:
        require(
            bool(pd.isna(bare["solved"]).all()),
            f"for a DataFrame without solved_step (no evaluations recorded) the solved column says "
            f"{bare['solved'].tolist()}; it should be NaN (unknown), not 0 runs solved",
        )
    long = _long_summary_df()
    if not _frames_equal(summarize(long, 20), summarize(long, 21)):  # the summary reads the window
        require(
            _frames_equal(summarize(long), summarize(long, 20)),
            "summarize_experiment(df) without a window differs from summarize_experiment(df, 20): the signature's "
            "default is window=20",
        )
    return f"{', '.join(checked)} right for both sizes"


def _long_summary_df() -> pd.DataFrame:
    """Two runs per size of 60 episodes whose returns climb, so windows of 20 and 21 smooth differently."""
    first = summary_df().iloc[0].to_dict()
    rows = [
        {
            **first,
            "size": size,
            "seed": seed,
            "episode": episode,
            "timestep": 100 * episode,
            "reward": float((episode * 7 + seed) % 13 + (size == "B") * episode),
        }
        for size in ("A", "B")
        for seed in (0, 1)
        for episode in range(1, 61)
    ]
    return pd.DataFrame(rows)


def _frames_equal(a: Any, b: Any) -> bool:
    if not isinstance(a, pd.DataFrame) or not isinstance(b, pd.DataFrame) or list(a.columns) != list(b.columns):
        return False
    try:
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)
    except AssertionError:
        return False
    return True
