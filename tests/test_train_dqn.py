"""The reference training loop: it learns, it follows SB3's schedule, it is deterministic.

``run`` trains it as the app does (:func:`playground.core.monitor.train_monitored`), which
measures what the loop itself no longer records (timing, curves, evaluations, stop reasons).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

import solutions.train_dqn as ref
from playground.checks.train_dqn import TRUNCATING_ENV_ID, RecordingBuffer
from playground.core.config import PRESETS, DQNConfig, linear_epsilon
from playground.core.envs import LINEWORLD_ID
from playground.core.monitor import train_monitored
from playground.core.results import TrainingProgress, TrainingResult
from solutions.q_network import CustomQNetwork

LINEWORLD = PRESETS["lineworld"]


def run(config: DQNConfig, **kwargs: Any) -> TrainingResult:
    return train_monitored(ref.train_dqn, config, evaluate=ref.evaluate, **kwargs)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_learns_lineworld(seed: int) -> None:
    result = run(LINEWORLD.replace(seed=seed))
    assert ref.evaluate(result.q_network, LINEWORLD_ID, 3, seed) == pytest.approx([0.4] * 3)
    assert result.stop_reason.startswith("finished")


def test_result_fields_are_consistent() -> None:
    config = LINEWORLD.replace(total_timesteps=700, learning_starts=100, seed=4)
    result = run(config)
    n = len(result.episode_rewards)
    assert n > 0
    assert len(result.episode_lengths) == n
    assert len(result.episode_end_steps) == n
    assert result.episode_end_steps == np.cumsum(result.episode_lengths).tolist()
    assert result.total_steps == 700
    assert len(result.losses) == len(result.loss_steps) == result.gradient_updates == 600
    assert min(result.loss_steps) == 101
    assert result.epsilons == [linear_epsilon(config, t) for t in result.epsilon_steps]
    assert result.probe_steps[0] == 0
    assert result.probe_steps[-1] == 700
    assert all(len(row) == 2 for row in result.probe_q_values)
    assert result.probe_state == [1.0] + [0.0] * 7
    assert result.wall_time > 0
    assert result.eval_time == 0


LOOP_FIELDS = {"q_network", "episode_rewards", "episode_lengths", "losses", "loss_steps"}


def test_the_loop_fills_five_fields_and_the_app_measures_the_rest() -> None:
    """The learner's contract: 5 of the 19 fields of TrainingResult (it was all 19); the monitor fills the others."""
    import dataclasses

    config = LINEWORLD.replace(total_timesteps=300, learning_starts=100, seed=3)
    plain = ref.train_dqn(config)
    empty = TrainingResult(q_network=plain.q_network)
    filled = {f.name for f in dataclasses.fields(TrainingResult) if getattr(plain, f.name) != getattr(empty, f.name)}
    assert filled == LOOP_FIELDS - {"q_network"}
    assert len(dataclasses.fields(TrainingResult)) == 19
    measured = run(config)
    assert measured.episode_rewards == plain.episode_rewards
    assert measured.losses == plain.losses
    others = (
        {f.name for f in dataclasses.fields(TrainingResult)} - LOOP_FIELDS - {"eval_steps", "eval_means", "eval_time"}
    )
    assert all(getattr(measured, name) != getattr(empty, name) for name in others), others


@pytest.mark.parametrize(
    ("train_freq", "gradient_steps", "learning_starts", "expected"),
    [(1, 1, 100, 500), (4, 2, 99, 2 * (150 - 24)), (3, -1, 99, 3 * (200 - 33)), (256, 128, 0, 256)],
)
def test_update_count_follows_sb3(train_freq: int, gradient_steps: int, learning_starts: int, expected: int) -> None:
    config = LINEWORLD.replace(
        total_timesteps=600,
        train_freq=train_freq,
        gradient_steps=gradient_steps,
        learning_starts=learning_starts,
        batch_size=8,
    )
    assert len(ref.train_dqn(config).losses) == expected


def test_target_updates_every_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    original = ref.update_target

    def counting(target: torch.nn.Module, online: torch.nn.Module, tau: float) -> None:
        calls.append(tau)
        original(target, online, tau)

    monkeypatch.setattr(ref, "update_target", counting)
    ref.train_dqn(LINEWORLD.replace(total_timesteps=1000, target_update_interval=64, tau=0.5))
    assert calls == [0.5] * (1000 // 64)


def test_polyak_and_hard_updates() -> None:
    online, target = CustomQNetwork(3, 2, [4]), CustomQNetwork(3, 2, [4])
    before = [p.clone() for p in target.parameters()]
    ref.update_target(target, online, 0.25)
    for new, old, theta in zip(target.parameters(), before, online.parameters(), strict=True):
        assert torch.allclose(new, 0.75 * old + 0.25 * theta)
    ref.update_target(target, online, 1.0)
    for new, theta in zip(target.parameters(), online.parameters(), strict=True):
        assert torch.equal(new, theta)


def test_only_terminated_is_stored_as_done() -> None:
    RecordingBuffer.reset_log()
    ref.train_dqn(LINEWORLD.replace(total_timesteps=600, seed=1, exploration_final_eps=1.0), buffer_cls=RecordingBuffer)
    # LineWorld: time-outs at 50 steps truncate, the goal terminates; only the goal is done.
    assert any(RecordingBuffer.done_flags)
    RecordingBuffer.reset_log()
    config = LINEWORLD.replace(env_id=TRUNCATING_ENV_ID, total_timesteps=300, learning_starts=50)
    result = ref.train_dqn(config, buffer_cls=RecordingBuffer)
    assert not any(RecordingBuffer.done_flags)
    assert result.episode_lengths == [5] * 60


def test_truncation_bootstraps_to_the_infinite_horizon_value() -> None:
    config = LINEWORLD.replace(
        env_id=TRUNCATING_ENV_ID,
        total_timesteps=2000,
        learning_rate=1e-2,
        learning_starts=100,
        gamma=0.9,
        target_update_interval=25,
        hidden_dims=(8,),
        loss="mse",
    )
    result = ref.train_dqn(config)
    with torch.no_grad():
        value = result.q_network(torch.ones(1, 1)).mean().item()
    assert value == pytest.approx(10.0, rel=0.1)


def test_same_seed_same_run_and_different_seeds_differ() -> None:
    config = LINEWORLD.replace(total_timesteps=800, seed=7)
    first, second = run(config), run(config)
    assert first.episode_rewards == second.episode_rewards
    assert first.losses == second.losses
    assert first.probe_q_values == second.probe_q_values
    other = run(config.replace(seed=8))
    assert other.losses != first.losses


def test_callback_stops_the_run() -> None:
    seen: list[TrainingProgress] = []

    def stop_at_two(progress: TrainingProgress) -> bool:
        seen.append(progress)
        return len(seen) < 2

    result = run(LINEWORLD, callback=stop_at_two)
    assert len(result.episode_rewards) == 2
    assert result.stop_reason.startswith("stopped by the callback")
    assert [p.episode for p in seen] == [1, 2]
    assert result.total_steps == seen[-1].timestep


def test_evaluation_threshold_stops_and_keeps_that_network() -> None:
    config = LINEWORLD.replace(total_timesteps=5000, eval_freq=250, eval_episodes=2, reward_threshold=0.39, seed=2)
    result = run(config)
    assert result.stop_reason.startswith("solved")
    assert result.total_steps == result.eval_steps[-1] < 5000
    assert result.eval_means[-1] >= 0.39
    assert all(m < 0.39 for m in result.eval_means[:-1])
    assert ref.evaluate(result.q_network, LINEWORLD_ID, 2, 0) == pytest.approx([0.4, 0.4])
    assert result.eval_time > 0


class _NanNetwork(CustomQNetwork):
    """Q-values turn NaN on minibatches: the first update's loss is NaN."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return out * math.nan if x.shape[0] > 1 else out


def test_nan_loss_stops_with_a_clear_reason() -> None:
    """The first update's loss is NaN: the app reads it from the loop's losses one env step later and stops."""
    result = run(LINEWORLD.replace(total_timesteps=500), q_network_cls=_NanNetwork)
    assert result.stop_reason.startswith("diverged: the TD loss became nan")
    assert result.total_steps == LINEWORLD.learning_starts + 2
    assert result.gradient_updates == 1
    assert math.isnan(result.losses[0])


def test_evaluate_is_seeded_and_rejects_zero_episodes() -> None:
    net = CustomQNetwork(4, 2, [8])
    assert ref.evaluate(net, "CartPole-v1", 3, 5) == ref.evaluate(net, "CartPole-v1", 3, 5)
    with pytest.raises(ValueError, match="at least 1"):
        ref.evaluate(net, "CartPole-v1", 0, 5)


def test_the_reference_optimizer_follows_plain_adam() -> None:
    """fused=True is only PyTorch's one-kernel Adam: after 50 updates the weights match plain Adam's to rounding."""
    torch.manual_seed(0)
    first = CustomQNetwork(4, 2, [32, 32])
    second = CustomQNetwork(4, 2, [32, 32])
    second.load_state_dict(first.state_dict())
    optimizers = (ref.make_optimizer(first.parameters(), 2e-3), torch.optim.Adam(second.parameters(), lr=2e-3))
    assert isinstance(optimizers[0], torch.optim.Adam)
    inputs, targets = torch.randn(64, 4), torch.randn(64, 2)
    for _ in range(50):
        for network, optimizer in zip((first, second), optimizers, strict=True):
            optimizer.zero_grad()
            torch.nn.functional.smooth_l1_loss(network(inputs), targets).backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def test_plot_rewards_draws_returns_and_average() -> None:
    figure = ref.plot_rewards([1.0, 2.0, 3.0, 10.0], window=2, threshold=5.0)
    lines = figure.axes[0].get_lines()
    assert len(lines) == 3
    assert np.asarray(lines[1].get_ydata()).tolist() == [1.0, 1.5, 2.5, 6.5]


def test_exercise_stub_matches_the_solution() -> None:
    import inspect

    import exercises.train_dqn as stub

    assert stub.__all__ == ref.__all__
    for name in ref.__all__:
        if callable(getattr(ref, name)) and inspect.isfunction(getattr(ref, name)):
            assert inspect.signature(getattr(stub, name)) == inspect.signature(getattr(ref, name)), name
    with pytest.raises(NotImplementedError):
        stub.train_dqn(LINEWORLD)


@pytest.mark.slow
def test_reference_solves_cartpole_with_the_fast_preset() -> None:
    result = run(PRESETS["fast"].replace(seed=0))
    assert result.stop_reason.startswith("solved"), result.stop_reason
    returns: list[Any] = ref.evaluate(result.q_network, "CartPole-v1", 20, 1_000_000)
    assert float(np.mean(returns)) >= 450
