"""What a training run produces: :class:`TrainingResult` and :class:`TrainingProgress`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from torch import nn

from playground.config import DQNConfig


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
