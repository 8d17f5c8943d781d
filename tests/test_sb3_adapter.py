"""The SB3 adapter: every DQNConfig field mapped or stated as a difference, and tiny SB3 runs on LineWorld."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterator

import pytest
import torch
from stable_baselines3 import DQN
from torch import nn

from playground.core.config import PRESETS, DQNConfig
from playground.core.facts import EVAL_SEED_OFFSET
from playground.core.results import TrainingProgress
from playground.sb3.adapter import (
    SB3_FIXED_ARGUMENTS,
    SB3_MAPPING,
    Sb3QNetwork,
    format_value,
    make_sb3_model,
    sb3_default_text,
    sb3_defaults,
    sb3_dqn_kwargs,
    train_sb3,
)
from playground.tasks.snapshot import snapshot_network
from solutions.train_dqn import evaluate

TINY = PRESETS["lineworld"].replace(total_timesteps=400, learning_starts=100)
SB3_ARGUMENTS = set(inspect.signature(DQN.__init__).parameters)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread, as in the sandbox: on a busy 2-core machine two threads make tiny nets ~20x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_every_config_field_is_mapped_or_stated_as_a_difference() -> None:
    names = {f.name for f in dataclasses.fields(DQNConfig)}
    assert set(SB3_MAPPING) == names, "a DQNConfig field has no entry in SB3_MAPPING (or an entry names no field)"
    for name, mapping in SB3_MAPPING.items():
        assert mapping.field == name
        assert mapping.kind in ("same", "converted", "not in SB3")
        assert mapping.note.strip(), f"{name}: every mapping explains itself"
        if mapping.kind == "same":
            assert name in SB3_ARGUMENTS, f"{name} is marked 'same' but DQN() has no such argument"
        if mapping.kind == "not in SB3":
            assert not mapping.target
        else:
            assert mapping.target


def test_kwargs_use_only_real_sb3_arguments() -> None:
    kwargs = sb3_dqn_kwargs(PRESETS["fast"])
    assert set(kwargs) <= SB3_ARGUMENTS
    assert set(SB3_FIXED_ARGUMENTS) <= SB3_ARGUMENTS
    assert "loss" not in kwargs
    assert "eval_freq" not in kwargs
    assert kwargs["policy_kwargs"] == {"net_arch": list(PRESETS["fast"].hidden_dims), "activation_fn": nn.ReLU}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_model_built_from_a_preset_has_its_values(preset: str) -> None:
    config = PRESETS[preset].replace(buffer_size=max(PRESETS[preset].batch_size, 1_000))
    model = make_sb3_model(config)
    try:
        for name, mapping in SB3_MAPPING.items():
            if mapping.kind == "same" and name != "train_freq":
                assert getattr(model, name) == getattr(config, name), name
        assert model.train_freq.frequency == config.train_freq  # type: ignore[union-attr]
        snapshot = snapshot_network(Sb3QNetwork(model.q_net))
        assert snapshot.hidden_dims == config.hidden_dims
        assert any(isinstance(m, nn.ReLU) for m in model.q_net.modules())
    finally:
        env = model.get_env()
        assert env is not None
        env.close()


def test_defaults_are_read_from_the_installed_sb3() -> None:
    defaults = sb3_defaults()
    signature = inspect.signature(DQN.__init__).parameters
    assert defaults["learning_rate"] == signature["learning_rate"].default
    assert defaults["target_update_interval"] == signature["target_update_interval"].default
    assert defaults["net_arch"] == [64, 64]
    assert sb3_default_text("learning_rate") == format_value(signature["learning_rate"].default)
    assert "[64, 64]" in sb3_default_text("hidden_dims")
    assert "Huber" in sb3_default_text("loss")
    for name in SB3_MAPPING:
        assert sb3_default_text(name)


def test_sb3_network_answers_like_the_reference_network() -> None:
    model = make_sb3_model(TINY)
    network = Sb3QNetwork(model.q_net)
    states = torch.eye(8)
    batch = network(states)
    assert batch.shape == (8, 2)
    assert torch.allclose(network(states[3]), batch[3])
    rebuilt = snapshot_network(network).to_module()
    assert torch.allclose(rebuilt(states), batch, atol=1e-6)


def test_tiny_sb3_run_records_every_episode_like_the_reference() -> None:
    seen: list[TrainingProgress] = []

    def record(progress: TrainingProgress) -> bool:
        seen.append(progress)
        return True

    run = train_sb3(TINY, record)
    assert run.total_steps == 400
    assert run.gradient_updates == 400 - 100  # one update per step after learning_starts
    assert run.stop_reason.startswith("finished")
    assert not run.stopped
    count = len(run.episode_rewards)
    assert count > 0
    assert len(run.episode_lengths) == count == len(run.episode_end_steps) == len(seen)
    assert run.episode_end_steps == [sum(run.episode_lengths[: i + 1]) for i in range(count)]
    for reward, length in zip(run.episode_rewards, run.episode_lengths, strict=True):
        reached_goal = -0.1 * (length - 1) + 1.0
        assert reward == pytest.approx(reached_goal) or (length == 50 and reward == pytest.approx(-5.0))
    assert [p.episode for p in seen] == list(range(1, count + 1))
    assert run.wall_time > 0
    assert run.steps_per_second > 0
    returns = evaluate(run.q_network, TINY.env_id, 2, 0)
    assert len(returns) == 2


def test_callback_stops_the_sb3_run() -> None:
    run = train_sb3(TINY, lambda progress: progress.episode < 3)
    assert run.stopped
    assert run.stop_reason == f"stopped by the callback at env step {run.total_steps}"
    assert len(run.episode_rewards) == 3
    assert run.total_steps == run.episode_end_steps[-1] < 400


def test_same_seed_same_sb3_run() -> None:
    config = TINY.replace(total_timesteps=250, learning_starts=50)
    first = train_sb3(config)
    second = train_sb3(config)
    assert first.episode_rewards == second.episode_rewards


def test_periodic_evaluation_uses_the_reference_protocol() -> None:
    calls: list[tuple[str, int, int]] = []

    def fake_evaluate(network: nn.Module, env_id: str, episodes: int, seed: int) -> list[float]:
        calls.append((env_id, episodes, seed))
        return [0.0] * episodes

    config = TINY.replace(
        total_timesteps=300, learning_starts=50, eval_freq=200, eval_episodes=3, reward_threshold=0.0, seed=4
    )
    run = train_sb3(config, evaluate=fake_evaluate)
    assert calls == [("LineWorld-v0", 3, 4 + EVAL_SEED_OFFSET + 200)]
    assert run.eval_steps == [200]
    assert run.eval_means == [0.0]
    assert run.total_steps == 200
    assert run.stop_reason.startswith("solved")
    assert 0 < run.eval_time <= run.wall_time
    assert not run.stopped


def test_threshold_not_reached_runs_the_whole_budget_with_every_evaluation() -> None:
    config = TINY.replace(
        total_timesteps=250, learning_starts=50, eval_freq=100, eval_episodes=1, reward_threshold=10.0
    )
    run = train_sb3(config, evaluate=lambda net, env_id, episodes, seed: [-1.0] * episodes)
    assert run.eval_steps == [100, 200]
    assert run.total_steps == 250
    assert run.stop_reason.startswith("finished")
