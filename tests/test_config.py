"""DQNConfig: presets, validation messages, dict round trip and the epsilon schedule."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from stable_baselines3.common.utils import LinearSchedule

from playground.core.config import FIELD_HELP, PRESETS, DQNConfig, linear_epsilon

# One invalid value per field; each must raise a ValueError that names the field.
INVALID: dict[str, Any] = {
    "env_id": "",
    "total_timesteps": 0,
    "learning_rate": 0.0,
    "buffer_size": 0,
    "learning_starts": -1,
    "batch_size": 0,
    "tau": 0.0,
    "gamma": 1.5,
    "train_freq": 0,
    "gradient_steps": 0,
    "target_update_interval": 0,
    "exploration_fraction": 1.5,
    "exploration_initial_eps": -0.1,
    "exploration_final_eps": 2.0,
    "max_grad_norm": 0.0,
    "hidden_dims": (),
    "loss": "l1",
    "seed": -1,
    "eval_freq": -1,
    "eval_episodes": 0,
    "reward_threshold": float("nan"),
}
# Values of the wrong type, where a form or a JSON file could produce them.
WRONG_TYPE: dict[str, Any] = {
    "total_timesteps": 1000.5,
    "batch_size": True,
    "learning_rate": "0.001",
    "gamma": float("inf"),
    "hidden_dims": (64, 0),
    "seed": 1.0,
}


def test_every_field_has_an_invalid_case_and_help() -> None:
    names = {field.name for field in dataclasses.fields(DQNConfig)}
    assert set(INVALID) == names
    assert set(FIELD_HELP) == names


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid(name: str) -> None:
    preset = PRESETS[name]
    assert DQNConfig.from_dict(preset.to_dict()) == preset
    # The schedule reaches at least one gradient phase before the run ends.
    assert preset.learning_starts + preset.train_freq <= preset.total_timesteps


def test_required_presets_exist() -> None:
    assert {"lesson", "lineworld", "fast"} <= set(PRESETS)
    assert PRESETS["lineworld"].env_id == "LineWorld-v0"
    assert PRESETS["lesson"].env_id == "CartPole-v1"


@pytest.mark.parametrize(("field", "value"), sorted(INVALID.items()))
def test_invalid_value_names_its_field(field: str, value: Any) -> None:
    base = DQNConfig(eval_freq=1_000) if field == "reward_threshold" else DQNConfig()
    with pytest.raises(ValueError, match=field):
        base.replace(**{field: value})


@pytest.mark.parametrize(("field", "value"), sorted(WRONG_TYPE.items()))
def test_wrong_types_are_refused(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        DQNConfig(**{field: value})


def test_cross_field_rules() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        DQNConfig(batch_size=128, buffer_size=64)
    with pytest.raises(ValueError, match="eval_freq"):
        DQNConfig(reward_threshold=475.0, eval_freq=0)
    assert DQNConfig(gradient_steps=-1).gradient_steps == -1


def test_hidden_dims_become_a_tuple() -> None:
    config = DQNConfig(hidden_dims=[32, 16])  # type: ignore[arg-type]
    assert config.hidden_dims == (32, 16)
    hash(config)


def test_dict_round_trip_through_json() -> None:
    config = PRESETS["fast"].replace(seed=7, hidden_dims=(8, 8, 8))
    data = json.loads(json.dumps(config.to_dict()))
    assert data["hidden_dims"] == [8, 8, 8]
    assert DQNConfig.from_dict(data) == config


def test_from_dict_refuses_unknown_keys() -> None:
    with pytest.raises(ValueError, match="net_arch"):
        DQNConfig.from_dict({"net_arch": [64]})


def test_config_is_frozen() -> None:
    config = DQNConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.gamma = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("total", "fraction", "start", "end"),
    [
        (1_000, 0.1, 1.0, 0.05),
        (60_000, 0.3, 1.0, 0.01),
        (3_000, 0.5, 0.5, 0.2),
        (999, 1.0, 1.0, 0.0),
        (7, 0.4, 0.9, 0.1),
    ],
)
def test_linear_epsilon_matches_sb3(total: int, fraction: float, start: float, end: float) -> None:
    config = DQNConfig(
        total_timesteps=total,
        exploration_fraction=fraction,
        exploration_initial_eps=start,
        exploration_final_eps=end,
        learning_starts=0,
    )
    schedule = LinearSchedule(start, end, fraction)  # what SB3 DQN builds (formerly get_linear_fn)
    steps = sorted({0, 1, total // 3, int(fraction * total) - 1, int(fraction * total), total - 1, total})
    for t in steps:
        t = max(t, 0)
        # SB3's DQN evaluates the schedule at progress_remaining = 1 - t / total_timesteps.
        assert linear_epsilon(config, t) == pytest.approx(schedule(1.0 - t / total), abs=1e-9), f"t={t}"


def test_linear_epsilon_endpoints_and_zero_fraction() -> None:
    config = DQNConfig(total_timesteps=1_000, exploration_fraction=0.2)
    assert linear_epsilon(config, 0) == 1.0
    assert linear_epsilon(config, 100) == pytest.approx(0.525)
    assert linear_epsilon(config, 200) == pytest.approx(0.05)
    assert linear_epsilon(config, 10_000) == pytest.approx(0.05)
    assert linear_epsilon(config.replace(exploration_fraction=0.0), 0) == pytest.approx(0.05)
