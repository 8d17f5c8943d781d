"""LineWorld-v0: dynamics, time limit, seeding, rendering and Gymnasium's own checker."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from playground.core.envs import (
    LEFT,
    LINEWORLD_ID,
    LINEWORLD_MAX_STEPS,
    RIGHT,
    LineWorld,
    env_dims,
    make_env,
)


def position(obs: np.ndarray) -> int:
    assert obs.dtype == np.float32
    assert obs.sum() == 1.0, "the observation must be one-hot"
    return int(np.argmax(obs))


def test_reset_starts_at_the_left_end() -> None:
    env = LineWorld()
    obs, info = env.reset(seed=0)
    assert obs.shape == (8,)
    assert position(obs) == 0
    assert info["position"] == 0


def test_moves_left_and_right_with_a_step_penalty() -> None:
    env = LineWorld()
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(RIGHT)
    assert position(obs) == 1
    assert info["position"] == 1
    assert reward == pytest.approx(-0.1)
    assert not terminated
    assert not truncated
    obs, reward, terminated, truncated, _ = env.step(LEFT)
    assert position(obs) == 0
    assert reward == pytest.approx(-0.1)
    assert not terminated
    assert not truncated


def test_the_left_wall_keeps_the_agent_in_cell_zero() -> None:
    env = LineWorld()
    env.reset(seed=0)
    obs, reward, terminated, _, _ = env.step(LEFT)
    assert position(obs) == 0
    assert reward == pytest.approx(-0.1)
    assert not terminated


def test_reaching_the_goal_terminates_with_the_goal_reward() -> None:
    env = LineWorld()
    env.reset(seed=0)
    rewards = []
    terminated = False
    for _ in range(7):
        obs, reward, terminated, truncated, _ = env.step(RIGHT)
        rewards.append(reward)
        assert not truncated
    assert terminated
    assert position(obs) == 7
    assert rewards[-1] == pytest.approx(1.0)
    assert rewards[:-1] == pytest.approx([-0.1] * 6)
    assert sum(rewards) == pytest.approx(env.optimal_return()) == pytest.approx(0.4)


def test_custom_rewards_and_size() -> None:
    env = LineWorld(size=3, step_reward=-1.0, goal_reward=5.0)
    env.reset(seed=0)
    assert env.step(RIGHT)[1] == pytest.approx(-1.0)
    _, reward, terminated, _, _ = env.step(RIGHT)
    assert terminated
    assert reward == pytest.approx(5.0)


@pytest.mark.parametrize("kwargs", [{"size": 1}, {"slip_prob": 1.5}, {"slip_prob": -0.1}, {"render_mode": "human"}])
def test_invalid_arguments_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        LineWorld(**kwargs)  # type: ignore[arg-type]


def test_an_invalid_action_raises() -> None:
    env = LineWorld()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions are 0"):
        env.step(2)


def _slip_trace(seed: int, steps: int = 2000, slip_prob: float = 0.3) -> list[bool]:
    """Steer towards the middle of a long corridor and record whether each move was reversed."""
    env = LineWorld(size=40, slip_prob=slip_prob)
    env.reset(seed=seed)
    env.position = 20
    slips = []
    for _ in range(steps):
        before = env.position
        action = RIGHT if before < 20 else LEFT
        env.step(action)
        intended = 1 if action == RIGHT else -1
        slips.append(env.position - before != intended)
    return slips


def test_slips_are_seeded_and_happen_at_about_slip_prob() -> None:
    first, again, other = _slip_trace(seed=3), _slip_trace(seed=3), _slip_trace(seed=4)
    assert first == again, "the same seed must give the same slips"
    assert first != other
    assert np.mean(first) == pytest.approx(0.3, abs=0.05)


def test_no_slips_without_slip_prob() -> None:
    assert not any(_slip_trace(seed=0, steps=200, slip_prob=0.0))


def test_time_limit_truncates_at_50_steps() -> None:
    env = make_env(LINEWORLD_ID)
    env.reset(seed=0)
    for step in range(1, LINEWORLD_MAX_STEPS + 1):
        _, _, terminated, truncated, _ = env.step(LEFT)
        assert not terminated
        assert truncated == (step == LINEWORLD_MAX_STEPS), f"step {step}"
    assert LINEWORLD_MAX_STEPS == 50
    env.close()


def test_registered_and_dims() -> None:
    assert LINEWORLD_ID in gym.registry
    assert env_dims(LINEWORLD_ID) == (8, 2)
    assert env_dims("CartPole-v1") == (4, 2)


def test_seeded_episodes_are_reproducible() -> None:
    def rollout(seed: int) -> list[tuple[int, float]]:
        env = make_env(LINEWORLD_ID, slip_prob=0.4)
        env.reset(seed=seed)
        env.action_space.seed(seed)
        trace = []
        for _ in range(30):
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            trace.append((position(obs), float(reward)))
            if terminated or truncated:
                env.reset()
        env.close()
        return trace

    assert rollout(11) == rollout(11)
    assert rollout(11) != rollout(12)


def test_render_rgb_array_and_ansi() -> None:
    env = make_env(LINEWORLD_ID, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert isinstance(frame, np.ndarray)
    assert frame.dtype == np.uint8
    assert frame.shape == (48, 48 * 8, 3)
    env.close()
    text_env = LineWorld(render_mode="ansi")
    text_env.reset(seed=0)
    assert text_env.render() == "A......G"


def test_passes_gymnasiums_env_checker() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker reports problems as warnings: make them fail
        env = make_env(LINEWORLD_ID, render_mode="rgb_array")
        check_env(env.unwrapped)
        env.close()
