"""What a training run produces and reports: :class:`TrainingResult`, :class:`TrainingProgress`,
and the progress of the network-size experiment, :class:`ExperimentProgress`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from playground.core.config import DQNConfig
from playground.core.facts import solve_threshold

# The columns of the network-size experiment's long-form table (the contract of exercise 5).
CONTRACT_COLUMNS: tuple[str, ...] = ("size", "seed", "episode", "timestep", "reward")


class RunTiming:
    """Speed of a run whose class has ``total_steps``, ``wall_time`` and ``eval_time``."""

    total_steps: int
    wall_time: float
    eval_time: float

    @property
    def train_time(self) -> float:
        """Seconds spent outside greedy evaluations."""
        return max(self.wall_time - self.eval_time, 0.0)

    @property
    def steps_per_second(self) -> float:
        """Env steps per second of training, in-training evaluations left out."""
        return self.total_steps / self.train_time if self.train_time > 0 else math.nan


@dataclass(frozen=True)
class TrainingProgress:
    """What the training callback sees at the end of every episode.

    The callback returns ``True`` to go on and ``False`` to stop the run
    (SB3's ``BaseCallback._on_step`` convention).
    """

    timestep: int
    total_timesteps: int
    episode: int
    episode_reward: float
    episode_length: int
    epsilon: float
    last_eval_mean: float | None = None


@dataclass
class TrainingResult:
    """Everything a DQN run leaves behind, for plots, checks and the next exercise.

    * ``q_network``: the trained online network $Q_\\theta$.
    * ``episode_rewards`` / ``episode_lengths``: the undiscounted return and
      the length of every finished episode, in order; ``episode_end_steps``
      is the env-step count at which each one ended.
    * ``loss_steps`` / ``losses``: the TD loss of gradient updates and the env
      step at which each was taken.
    * ``epsilon_steps`` / ``epsilons``: the exploration rate at those env steps.
    * ``probe_state`` / ``probe_steps`` / ``probe_q_values``: $Q_\\theta(s_0,
      \\cdot)$ of one fixed state, recorded over training.
    * ``eval_steps`` / ``eval_means``: greedy evaluations made during training;
      ``eval_time`` is the part of ``wall_time`` (seconds) they took.
    """

    q_network: nn.Module
    episode_rewards: list[float] = field(default_factory=list)
    episode_lengths: list[int] = field(default_factory=list)
    episode_end_steps: list[int] = field(default_factory=list)
    loss_steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    epsilon_steps: list[int] = field(default_factory=list)
    epsilons: list[float] = field(default_factory=list)
    probe_state: list[float] = field(default_factory=list)
    probe_steps: list[int] = field(default_factory=list)
    probe_q_values: list[list[float]] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_means: list[float] = field(default_factory=list)
    total_steps: int = 0
    gradient_updates: int = 0
    wall_time: float = 0.0
    eval_time: float = 0.0
    stop_reason: str = ""
    config: DQNConfig | None = None


@dataclass(frozen=True)
class ExperimentProgress:
    """What the callback of ``run_network_size_experiment`` receives.

    One message at the end of every training episode of every run
    (``training`` holds that episode's :class:`TrainingProgress`) and one when
    a run ends (``finished=True``, ``training=None``). ``run_index`` counts the
    runs of the experiment from 0 in the order (size, seed); runs may overlap
    when two run at once. The callback returns ``False`` to stop the experiment.
    """

    size: str
    seed: int
    run_index: int
    runs_total: int
    runs_done: int
    training: TrainingProgress | None = None
    finished: bool = False

    @property
    def run_fraction(self) -> float:
        """How far this run is, from 0 to 1 (1 once finished)."""
        if self.finished:
            return 1.0
        if self.training is None or self.training.total_timesteps <= 0:
            return 0.0
        return min(1.0, self.training.timestep / self.training.total_timesteps)


ExperimentCallback = Callable[[ExperimentProgress], bool | None]
"""The experiment's callback: return ``False`` to stop (``None`` or ``True`` go on)."""


def time_to_solve(config: DQNConfig, result: Any, episode_seconds: Sequence[float]) -> tuple[float, float]:
    """(env step, seconds) of a run's first greedy evaluation that reached the threshold; NaNs if none.

    ``result`` is the run's ``TrainingResult``; ``episode_seconds`` the time
    since the start of the run at each episode end. The seconds are read at
    the first episode that ended at or after that step (the whole run when
    it stopped right there, as it does with ``reward_threshold``).
    """
    threshold = solve_threshold(config)
    evaluations = zip(result.eval_steps, result.eval_means, strict=True)
    step = next((s for s, mean in evaluations if threshold is not None and mean >= threshold), None)
    if step is None:
        return math.nan, math.nan
    later = [t for t, end in zip(episode_seconds, result.episode_end_steps, strict=False) if end >= step]
    return float(step), float(later[0] if later else result.wall_time)
