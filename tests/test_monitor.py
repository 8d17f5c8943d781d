"""What the app measures around a training loop (playground.core.monitor), on the reference loop."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import pytest
import torch

import solutions.train_dqn as ref
from playground.checks.train_dqn import BLOW_UP_AT, BLOW_UP_ENV_ID
from playground.core.config import PRESETS
from playground.core.monitor import MonitorError, train_monitored
from playground.core.results import TrainingProgress, TrainingResult
from solutions.q_network import CustomQNetwork

LINEWORLD = PRESETS["lineworld"].replace(total_timesteps=600, learning_starts=100)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def test_a_run_whose_rewards_blow_up_stops_as_diverged() -> None:
    config = LINEWORLD.replace(env_id=BLOW_UP_ENV_ID, total_timesteps=400, learning_starts=20, batch_size=8)
    result = train_monitored(ref.train_dqn, config, evaluate=ref.evaluate)
    assert result.stop_reason.startswith("diverged"), result.stop_reason
    assert BLOW_UP_AT <= result.total_steps < config.total_timesteps
    assert not math.isfinite(result.losses[-1]) or not all(math.isfinite(v) for v in result.probe_q_values[-1])


def test_the_app_stop_request_ends_the_run_within_a_sample() -> None:
    polls: list[int] = []

    def stop_soon() -> bool:
        polls.append(1)
        return len(polls) >= 3

    config = LINEWORLD.replace(total_timesteps=5_000)
    result = train_monitored(ref.train_dqn, config, should_stop=stop_soon)
    every = config.total_timesteps // 500
    assert result.stop_reason.startswith("stopped at env step")
    assert result.total_steps == 3 * every
    assert result.episode_end_steps[-1] == result.total_steps  # the stop ended the episode (truncated)


def test_progress_is_completed_for_the_apps_callback() -> None:
    seen: list[TrainingProgress] = []

    def four_episodes(progress: TrainingProgress) -> bool:
        seen.append(progress)
        return len(seen) < 4

    result = train_monitored(ref.train_dqn, LINEWORLD, callback=four_episodes)
    assert [p.episode for p in seen] == [1, 2, 3, 4]
    assert all(p.total_timesteps == LINEWORLD.total_timesteps and 0 <= p.epsilon <= 1 for p in seen)
    assert [p.timestep for p in seen] == result.episode_end_steps
    assert result.stop_reason.startswith("stopped by the callback")


def test_a_loop_that_makes_its_env_elsewhere_is_named() -> None:
    def train_dqn(config: Any, **kwargs: Any) -> TrainingResult:
        env = gym.make("CartPole-v1")
        env.close()
        return TrainingResult(q_network=CustomQNetwork(4, 2, [8]))

    with pytest.raises(MonitorError, match="make_env"):
        train_monitored(train_dqn, LINEWORLD)


def test_nested_monitors_measure_once() -> None:
    def outer(config: Any, **kwargs: Any) -> TrainingResult:
        return train_monitored(ref.train_dqn, config, **kwargs)

    result = train_monitored(outer, LINEWORLD)
    assert result.total_steps == LINEWORLD.total_timesteps
    assert result.episode_end_steps


def test_the_online_network_keeps_its_class_name() -> None:
    result = train_monitored(ref.train_dqn, LINEWORLD.replace(total_timesteps=200))
    assert type(result.q_network).__name__ == "CustomQNetwork"
    assert isinstance(result.q_network, CustomQNetwork)
    assert result.probe_steps[0] == 0
    assert result.probe_steps[-1] == 200
