"""Exercise 5 (project): how the size of the Q-network changes learning.

The lesson's project trains the same DQN with hidden layers 1x64, 1x256, 2x64
and 2x256 and compares their learning curves. One run per size mostly
measures luck: two seeds of one network can differ more than two networks
do. So train every size on several seeds, change nothing else, and for each
size draw the mean curve over the $n$ seeds,
$\\bar r(t) = \\frac{1}{n} \\sum_{i=1}^{n} r_i(t)$, with a band across the
seeds (min to max, or mean $\\pm$ one standard deviation). A gap between two
sizes means something only when it is wider than their bands.

Put the curves on env steps $t$, not episode numbers: a good CartPole agent
plays a few long episodes and a poor one many short ones, so episode $k$ of
two runs can be far apart in experience.

Press Check (or run ``python -m playground.check network_sizes``) when done.
Stuck? Ask for a hint: the Hint button on the page, or ``--hint`` in a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure

from playground.core.config import DQNConfig
from playground.core.results import (
    ExperimentCallback,
    ExperimentProgress,
    TrainingProgress,  # noqa: F401 - what train_dqn's callback receives
)

# The reference training loop, so this exercise does not depend on exercise 3.
# Once your own loop passes its checks you may switch to:
#     from exercises.train_dqn import train_dqn
from solutions.train_dqn import train_dqn  # noqa: F401 - call it in run_network_size_experiment

__all__ = [
    "NETWORK_SIZES",
    "ExperimentProgress",
    "plot_learning_curves",
    "run_network_size_experiment",
    "summarize_experiment",
]

# The lesson's four sizes: name -> hidden layer widths.
NETWORK_SIZES: dict[str, list[int]] = {"1x64": [64], "1x256": [256], "2x64": [64, 64], "2x256": [256, 256]}


def run_network_size_experiment(
    base_config: DQNConfig,
    sizes: Mapping[str, Sequence[int]] = NETWORK_SIZES,
    seeds: Sequence[int] = (0, 1, 2),
    callback: ExperimentCallback | None = None,
) -> pd.DataFrame:
    """Train ``base_config`` once per (size, seed) and return every episode in long form.

    1. For each ``name, dims`` in ``sizes`` and each ``seed`` in ``seeds``,
       make the run's config with ``base_config.replace(hidden_dims=dims,
       seed=seed)``. Change nothing else: then a difference between sizes
       comes from the network, or from luck, which the seeds measure.
    2. ``result = train_dqn(config, callback=...)``. ``result.episode_rewards``
       holds each episode's return and ``result.episode_lengths`` its number
       of env steps; episodes follow each other, so episode $i$ ended at env
       step $\\sum_{j \\le i}$ ``episode_lengths[j]``.
    3. One row per episode with the columns ``size`` (the name, e.g.
       ``"2x64"``), ``seed``, ``episode`` (1, 2, ... within the run),
       ``timestep`` (the env step at which the episode ended) and ``reward``;
       extra columns may follow. ``pd.concat`` the runs' frames.

    Progress and stopping: give ``train_dqn`` a callback that, at every
    episode end, calls ``callback`` (when it is not ``None``) with an
    ``ExperimentProgress(size, seed, training=progress)`` and returns what
    it returned. When that is ``False``, the run stops at once
    (``train_dqn`` returns what it has): keep its episodes, start no further
    run, and return the DataFrame. ``progress`` is the ``TrainingProgress``
    that ``train_dqn``'s callback received. When a run ends, call
    ``callback`` once more with ``ExperimentProgress(size, seed, finished=True)``.
    The app counts the runs from these messages.
    """
    raise NotImplementedError(
        "run_network_size_experiment: train every (size, seed) and return one row per episode in long form"
    )


def plot_learning_curves(df: pd.DataFrame, window: int) -> Figure:
    """Per size, the mean learning curve over seeds with a band across seeds, against env steps.

    1. Each run (one size and seed) is smoothed with a moving average over
       ``window`` episodes (fewer at the start of the run).
    2. The smoothed runs are read on one common grid of env steps, so runs
       whose episodes end at different steps line up.
    3. Per size: one line, the mean over its seeds, labelled with the size
       name, and one band across its seeds (min to max, or mean $\\pm$ std:
       say which in the title or legend). Exactly one line and one band per
       size.

    Return the ``matplotlib`` Figure.
    """
    raise NotImplementedError("plot_learning_curves: one mean line and one band across seeds per size")


def summarize_experiment(df: pd.DataFrame, window: int = 20) -> pd.DataFrame:
    """Optional: one row per size with the numbers behind the chart.

    The app builds its table with the reference version, so this one is for
    practice. Suggested columns: ``size``, ``parameters``, ``runs``,
    ``greedy_mean`` / ``greedy_std`` (final greedy return over seeds),
    ``solved``, ``steps_to_solve``, ``seconds_to_solve``, and the area under
    each run's smoothed curve per env step (``auc_mean``, ``auc_std``,
    ``auc_min``, ``auc_max``): higher means it learned earlier and stayed good.
    """
    raise NotImplementedError("summarize_experiment (optional): one row per size")
