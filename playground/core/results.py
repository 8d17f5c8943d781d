"""What a training run produces and reports: :class:`TrainingResult`, :class:`TrainingProgress`,
and the progress of the network-size experiment, :class:`ExperimentProgress`."""

from __future__ import annotations

import math
import threading
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

    A loop fills the first three: ``timestep`` (env steps done, counting the
    episode's last step), ``episode_reward`` and ``episode_length``. The app
    fills the rest around the loop (the run's length, the episode count, the
    exploration rate, the latest greedy evaluation) before its own callback
    reads them. The callback returns ``False`` to stop the run (SB3's
    ``BaseCallback._on_step`` convention); ``True`` or ``None`` go on.
    """

    timestep: int
    episode_reward: float
    episode_length: int
    total_timesteps: int = 0
    episode: int = 0
    epsilon: float = math.nan
    last_eval_mean: float | None = None


@dataclass
class TrainingResult:
    """Everything a DQN run leaves behind, for plots, checks and the next exercise.

    A ``train_dqn`` loop fills what DQN itself produces:

    * ``q_network``: the trained online network $Q_\\theta$;
    * ``episode_rewards`` / ``episode_lengths``: the undiscounted return and the
      length of every finished episode, in order;
    * ``losses`` / ``loss_steps``: the TD loss of every gradient update and the
      env step (1, 2, ...) after which it was taken.

    The app measures the rest around the loop (:mod:`playground.core.monitor`):
    ``episode_end_steps`` (the env-step count at each episode end), the
    exploration rate and the probe Q-values $Q_\\theta(s_0, \\cdot)$ sampled over
    training, the greedy evaluations during training (``eval_time`` is the part
    of ``wall_time``, in seconds, they took), ``total_steps``,
    ``gradient_updates``, ``wall_time``, ``stop_reason`` and ``config``.
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

    def __post_init__(self) -> None:
        hook: Callable[[TrainingResult], None] | None = getattr(_result_hooks, "hook", None)
        if hook is not None:  # a monitored run (playground.core.monitor) follows the loop's losses as they come
            hook(self)


_result_hooks = threading.local()  # .hook: told of every TrainingResult this thread makes, while set


def on_training_result(hook: Callable[[TrainingResult], None] | None) -> None:
    """Tell ``hook`` of every :class:`TrainingResult` this thread makes from now on (``None``: stop)."""
    _result_hooks.hook = hook


@dataclass(frozen=True)
class ExperimentProgress:
    """What the callback of ``run_network_size_experiment`` receives.

    One message at the end of every training episode of every run
    (``training`` holds that episode's :class:`TrainingProgress`) and one when
    a run ends (``finished=True``, ``training=None``). The callback returns
    ``False`` to stop the experiment.

    A learner's experiment fills ``size``, ``seed``, ``training`` and
    ``finished``; the app counts the runs around it
    (:class:`playground.tasks.experiment.RunCounter`): ``run_index`` numbers
    the runs from 0 in the order (size, seed) (-1 until counted),
    ``runs_total`` is how many there are and ``runs_done`` how many have
    finished. Runs may overlap when two run at once.
    """

    size: str
    seed: int
    training: TrainingProgress | None = None
    finished: bool = False
    run_index: int = -1
    runs_total: int = 0
    runs_done: int = 0

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


@dataclass(frozen=True)
class RunRecord(RunTiming):
    """One training run as plain data: what the pages, the benchmarks, the comparison and the size experiment read.

    Built once, by :meth:`of`, in the process that trained the run, from a
    :class:`TrainingResult`, an SB3 run or anything with the same attribute
    names (curves it lacks stay empty); after that it is only read, and it
    crosses from the sandbox to the app as it is.

    * ``label``: who trained it ("reference", "sb3", "mine", a network size...);
      ``threshold``: the greedy mean that counts as solved for this run.
    * The curves of :class:`TrainingResult`, as lists of builtins.
    * ``episode_seconds``: seconds since the start at each episode end (when timed);
      ``greedy_returns``: a final greedy evaluation of the trained network (when made);
      ``parameters``: trainable scalars of the network (when counted).
    """

    label: str
    env_id: str
    seed: int
    threshold: float | None
    episode_rewards: list[float]
    episode_lengths: list[int]
    episode_end_steps: list[int]
    eval_steps: list[int]
    eval_means: list[float]
    total_steps: int
    gradient_updates: int
    wall_time: float
    eval_time: float
    stop_reason: str
    loss_steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    epsilon_steps: list[int] = field(default_factory=list)
    epsilons: list[float] = field(default_factory=list)
    probe_state: list[float] = field(default_factory=list)
    probe_steps: list[int] = field(default_factory=list)
    probe_q_values: list[list[float]] = field(default_factory=list)
    episode_seconds: list[float] = field(default_factory=list)
    greedy_returns: list[float] = field(default_factory=list)
    parameters: int = 0

    @classmethod
    def of(
        cls,
        run: Any,
        config: DQNConfig,
        *,
        label: str,
        greedy_returns: Sequence[float] = (),
        episode_seconds: Sequence[float] = (),
        parameters: int = 0,
    ) -> RunRecord:
        """The record of ``run``, trained on ``config``: the one place where a run's curves are copied."""

        def floats(name: str) -> list[float]:
            return [float(x) for x in getattr(run, name, ())]

        def ints(name: str) -> list[int]:
            return [int(x) for x in getattr(run, name, ())]

        return cls(
            label=label,
            env_id=config.env_id,
            seed=config.seed,
            threshold=solve_threshold(config),
            episode_rewards=floats("episode_rewards"),
            episode_lengths=ints("episode_lengths"),
            episode_end_steps=ints("episode_end_steps"),
            eval_steps=ints("eval_steps"),
            eval_means=floats("eval_means"),
            total_steps=int(getattr(run, "total_steps", 0)),
            gradient_updates=int(getattr(run, "gradient_updates", 0)),
            wall_time=float(getattr(run, "wall_time", 0.0)),
            eval_time=float(getattr(run, "eval_time", 0.0)),
            stop_reason=str(getattr(run, "stop_reason", "")),
            loss_steps=ints("loss_steps"),
            losses=floats("losses"),
            epsilon_steps=ints("epsilon_steps"),
            epsilons=floats("epsilons"),
            probe_state=floats("probe_state"),
            probe_steps=ints("probe_steps"),
            probe_q_values=[[float(v) for v in row] for row in getattr(run, "probe_q_values", ())],
            episode_seconds=[float(t) for t in episode_seconds],
            greedy_returns=[float(g) for g in greedy_returns],
            parameters=int(parameters),
        )

    @property
    def greedy_mean(self) -> float:
        """Mean of the final greedy evaluation; NaN without one."""
        return sum(self.greedy_returns) / len(self.greedy_returns) if self.greedy_returns else math.nan

    @property
    def greedy_std(self) -> float:
        """Population standard deviation of the final greedy evaluation; NaN without one."""
        if not self.greedy_returns:
            return math.nan
        mean = self.greedy_mean
        return math.sqrt(sum((g - mean) ** 2 for g in self.greedy_returns) / len(self.greedy_returns))

    @property
    def solved(self) -> bool:
        """The final greedy evaluation reached the threshold."""
        return self.threshold is not None and bool(self.greedy_returns) and self.greedy_mean >= self.threshold

    @property
    def solved_step(self) -> int | None:
        """The env step of the first greedy evaluation during training that reached the threshold."""
        evaluations = zip(self.eval_steps, self.eval_means, strict=True)
        threshold = self.threshold
        return next((step for step, mean in evaluations if threshold is not None and mean >= threshold), None)

    @property
    def solved_seconds(self) -> float:
        """Seconds from the start to :attr:`solved_step`, read at the first episode that ended there or later.

        The whole run's time when it stopped right there (as it does with ``reward_threshold``);
        NaN when it never solved.
        """
        step = self.solved_step
        if step is None:
            return math.nan
        later = [t for t, end in zip(self.episode_seconds, self.episode_end_steps, strict=False) if end >= step]
        return later[0] if later else self.wall_time
