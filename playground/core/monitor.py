"""What the app measures around a ``train_dqn`` loop: :func:`train_monitored`.

A learner's loop fills only what DQN itself produces (the trained network, each
episode's return and length, each TD loss with its env step). Everything else a
page, a benchmark or the size experiment reads of a run is measured here,
around the loop, in the style of Stable-Baselines3's callbacks and env wrappers:

* the env the loop makes with :func:`playground.core.envs.make_env` is wrapped
  (:class:`MonitoredEnv`): it counts env steps, notes the step at which each
  episode ends, and every ``T // LOG_POINTS`` steps (sampled, not per step)
  records the Q-values of the first state under the online network;
* every ``eval_freq`` steps it plays a greedy evaluation, and stops the run once
  the mean reaches ``reward_threshold``; a TD loss (read, sampled, from the loop's
  result as it fills it) or a probe Q-value that is no longer finite stops it as
  "diverged"; the app's own stop request stops it too. To stop, the
  wrapper ends the episode (``truncated``) and the loop's callback answers ``False``;
* the callback the loop calls at every episode end gets the rest of
  :class:`~playground.core.results.TrainingProgress` filled in (run length,
  episode count, epsilon, the latest evaluation) before the app's callback sees it;
* epsilon is a function of the step (:func:`~playground.core.config.linear_epsilon`),
  so its curve is computed, not recorded; timing is measured around the call.

``tests/test_monitor.py`` holds each of these to the reference's behaviour, and
``benchmarks/bench_train.py`` measures what the measuring costs per env step.
"""

from __future__ import annotations

import inspect
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from playground.core.config import DQNConfig, linear_epsilon
from playground.core.envs import watching_envs
from playground.core.facts import EVAL_SEED_OFFSET
from playground.core.results import TrainingProgress, TrainingResult, on_training_result

LOG_POINTS = 500  # how many points the epsilon and probe-Q curves keep over a run (plus the last step)
Evaluate = Callable[[nn.Module, str, int, int], Sequence[float]]
TrainLoop = Callable[..., Any]


_active = threading.local()  # .depth: how many monitored runs this thread is inside


class MonitorError(RuntimeError):
    """The loop did not give the app what it measures through (no env from make_env, no TrainingResult)."""


@dataclass
class RunWatch:
    """What the app saw of one run while its loop trained."""

    config: DQNConfig
    evaluate: Evaluate | None = None
    should_stop: Callable[[], bool] | None = None
    eval_seed_offset: int = EVAL_SEED_OFFSET
    log_every: int = 1
    steps: int = 0
    episodes: int = 0
    episode_end_steps: list[int] = field(default_factory=list)
    probe_state: list[float] = field(default_factory=list)
    probe_steps: list[int] = field(default_factory=list)
    probe_q_values: list[list[float]] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_means: list[float] = field(default_factory=list)
    eval_time: float = 0.0
    stop_reason: str = ""
    networks: list[nn.Module] = field(default_factory=list)
    env_made: bool = False
    result: TrainingResult | None = None  # the loop's result, from the moment it is made
    losses_seen: int = 0

    def __post_init__(self) -> None:
        self.log_every = max(1, self.config.total_timesteps // LOG_POINTS)

    @property
    def online(self) -> nn.Module | None:
        """The online network: the first one the loop built."""
        return self.networks[0] if self.networks else None

    def probe(self, step: int, network: nn.Module | None = None) -> None:
        """Record $Q(s_0, \\cdot)$ at ``step``; a value that is not finite stops the run as diverged."""
        network = network if network is not None else self.online
        if network is None or not self.probe_state:
            return
        with torch.no_grad():
            values = network(torch.tensor([self.probe_state], dtype=torch.float32)).reshape(-1)
        row = [float(v) for v in values]
        if self.probe_steps and self.probe_steps[-1] == step:
            self.probe_q_values[-1] = row
        else:
            self.probe_steps.append(step)
            self.probe_q_values.append(row)
        if not all(math.isfinite(v) for v in row) and not self.stop_reason:
            self.stop_reason = f"diverged: Q-values of the probe state are not finite at env step {step}"

    def check_losses(self, step: int) -> None:
        """Stop as diverged when a TD loss recorded since the last look is NaN or infinite."""
        if self.result is None or self.stop_reason:
            return
        losses = self.result.losses
        fresh = losses[self.losses_seen :]
        self.losses_seen = len(losses)
        if fresh and not math.isfinite(math.fsum(float(x) for x in fresh)):
            bad = next(float(x) for x in fresh if not math.isfinite(float(x)))
            self.stop_reason = f"diverged: the TD loss became {bad} by env step {step}"

    def evaluate_now(self, step: int) -> None:
        """A greedy evaluation of the online network; stop once its mean reaches ``reward_threshold``."""
        network = self.online
        if self.evaluate is None or network is None:
            return
        started = time.perf_counter()
        was_training = network.training
        try:
            returns = self.evaluate(
                network, self.config.env_id, self.config.eval_episodes, self.config.seed + self.eval_seed_offset + step
            )
        finally:
            network.train(was_training)
        self.eval_time += time.perf_counter() - started
        mean = float(np.mean([float(r) for r in returns]))
        self.eval_steps.append(step)
        self.eval_means.append(mean)
        threshold = self.config.reward_threshold
        if threshold is not None and mean >= threshold and not self.stop_reason:
            self.stop_reason = f"solved: greedy mean {mean:.1f} >= {threshold:g} at env step {step}"


class MonitoredEnv(gym.Wrapper[Any, Any, Any, Any]):
    """The training env as the loop sees it, measured by :class:`RunWatch` (one Python call per step)."""

    def __init__(self, env: gym.Env[Any, Any], watch: RunWatch) -> None:
        super().__init__(env)
        self.watch = watch

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(**kwargs)
        if not self.watch.probe_state:
            self.watch.probe_state = [float(x) for x in np.asarray(observation, dtype=np.float32).reshape(-1)]
            self.watch.probe(0)
        return observation, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        watch = self.watch
        watch.steps += 1
        n = watch.steps
        if n % watch.log_every == 0:  # sampled: T // LOG_POINTS steps apart
            watch.check_losses(n)
            watch.probe(n)
            if not watch.stop_reason and watch.should_stop is not None and watch.should_stop():
                watch.stop_reason = f"stopped at env step {n}"
        eval_freq = watch.config.eval_freq
        if eval_freq > 0 and n % eval_freq == 0 and not watch.stop_reason:
            watch.evaluate_now(n)
        if watch.stop_reason and not (terminated or truncated):
            truncated = True  # end the episode, so the loop calls its callback, which answers False
        if terminated or truncated:
            watch.episode_end_steps.append(n)
        return observation, reward, bool(terminated), bool(truncated), info


def _recording(cls: type[nn.Module], found: list[nn.Module]) -> type[nn.Module]:
    """``cls`` as a subclass that notes every instance built (the first is the online network)."""

    def init(self: nn.Module, *args: Any, **kwargs: Any) -> None:
        cls.__init__(self, *args, **kwargs)
        found.append(self)

    namespace = {"__init__": init, "__qualname__": cls.__qualname__, "__module__": cls.__module__}
    return type(cls.__name__, (cls,), namespace)


def _default(train_dqn: TrainLoop, name: str) -> Any:
    try:
        parameter = inspect.signature(train_dqn).parameters.get(name)
    except (TypeError, ValueError):
        return None
    return None if parameter is None or parameter.default is inspect.Parameter.empty else parameter.default


def train_monitored(
    train_dqn: TrainLoop,
    config: DQNConfig,
    *,
    q_network_cls: type[nn.Module] | None = None,
    buffer_cls: type[Any] | None = None,
    callback: Callable[[TrainingProgress], bool | None] | None = None,
    evaluate: Evaluate | None = None,
    should_stop: Callable[[], bool] | None = None,
    eval_seed_offset: int = EVAL_SEED_OFFSET,
) -> TrainingResult:
    """Run ``train_dqn(config, ...)`` and return its result with everything the app measures filled in.

    ``evaluate`` plays the greedy evaluations every ``config.eval_freq`` steps
    (none without it); ``should_stop`` (the Stop button) is polled every
    ``T // LOG_POINTS`` steps. The loop's own fields (network, returns, lengths, losses) are kept
    as it filled them.
    """
    if getattr(_active, "depth", 0):  # already measured by a monitor further out: it fills the result
        given = {"q_network_cls": q_network_cls, "buffer_cls": buffer_cls, "callback": callback}
        return cast(TrainingResult, train_dqn(config, **{k: v for k, v in given.items() if v is not None}))
    watch = RunWatch(config, evaluate, should_stop, eval_seed_offset)
    network_cls = q_network_cls or _default(train_dqn, "q_network_cls")
    kwargs: dict[str, Any] = {}
    if isinstance(network_cls, type) and issubclass(network_cls, nn.Module):
        kwargs["q_network_cls"] = _recording(network_cls, watch.networks)
    if buffer_cls is not None:
        kwargs["buffer_cls"] = buffer_cls

    def on_episode(progress: TrainingProgress) -> bool | None:
        if not isinstance(progress, TrainingProgress):
            raise TypeError(
                f"the callback takes a TrainingProgress(timestep=..., episode_reward=..., episode_length=...), "
                f"got {type(progress).__name__}"
            )
        watch.episodes += 1
        answer: bool | None = None
        if callback is not None:
            full = replace(
                progress,
                total_timesteps=config.total_timesteps,
                episode=watch.episodes,
                epsilon=linear_epsilon(config, max(0, watch.steps - 1)),
                last_eval_mean=watch.eval_means[-1] if watch.eval_means else None,
            )
            answer = callback(full)
        if watch.stop_reason:
            return False
        if answer is False:
            watch.stop_reason = f"stopped by the callback at env step {watch.steps}"
        return answer

    def wrap(env: gym.Env[Any, Any]) -> gym.Env[Any, Any]:
        if watch.env_made:
            return env  # only the first env the loop makes is its training env
        watch.env_made = True
        return MonitoredEnv(env, watch)

    started = time.perf_counter()

    def adopt(made: TrainingResult) -> None:
        if watch.result is None:
            watch.result = made

    _active.depth = getattr(_active, "depth", 0) + 1
    on_training_result(adopt)
    try:
        with watching_envs(wrap):
            result = train_dqn(config, callback=on_episode, **kwargs)
    finally:
        on_training_result(None)
        _active.depth -= 1
    wall_time = time.perf_counter() - started
    if not isinstance(result, TrainingResult):
        raise MonitorError(f"train_dqn returned {type(result).__name__}, not a TrainingResult")
    if not watch.env_made:
        raise MonitorError("train_dqn made no environment with make_env(config.env_id): the app cannot follow it")
    fill_measured(result, watch, wall_time)
    return result


def fill_measured(result: TrainingResult, watch: RunWatch, wall_time: float) -> None:
    """Write what ``watch`` measured into ``result`` (the fields a learner's loop does not fill)."""
    config = watch.config
    steps = watch.steps
    result.config = config
    result.total_steps = steps
    result.episode_end_steps = list(watch.episode_end_steps)
    result.gradient_updates = len(result.losses)
    result.wall_time = wall_time
    result.eval_steps, result.eval_means = list(watch.eval_steps), list(watch.eval_means)
    result.eval_time = watch.eval_time
    sampled = [*range(0, steps, watch.log_every), steps] if steps else [0]
    result.epsilon_steps = sampled
    result.epsilons = [linear_epsilon(config, t) for t in sampled]
    if isinstance(result.q_network, nn.Module):
        watch.probe(steps, result.q_network)
    result.probe_state = list(watch.probe_state)
    result.probe_steps = list(watch.probe_steps)
    result.probe_q_values = [list(row) for row in watch.probe_q_values]
    watch.result = result
    watch.check_losses(steps)
    if watch.stop_reason:
        result.stop_reason = watch.stop_reason
    elif steps >= config.total_timesteps:
        result.stop_reason = f"finished: all {config.total_timesteps} env steps"
    else:
        result.stop_reason = f"ended after {steps} of {config.total_timesteps} env steps"
