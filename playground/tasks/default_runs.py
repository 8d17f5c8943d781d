"""The run each page that trains starts with its default settings: what the estimates are tested on.

A page's estimate (:mod:`playground.tasks.speed`) must contain the real time of
these runs and be at most 2x wide: ``benchmarks/bench_estimates.py`` measures
them, ``tests/test_estimates.py`` checks the estimates against what it measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playground.core.config import PRESETS, DQNConfig
from playground.tasks.experiment import EXPERIMENT_SETTINGS

REFERENCE = {"loop": "solutions", "network": "solutions", "buffer": "solutions"}
LESSON_SIZES = {"1x64": [64], "1x256": [256], "2x64": [64, 64], "2x256": [256, 256]}


@dataclass(frozen=True)
class DefaultRun:
    """One page's default run: the estimate's kind and inputs, and the sandbox task that runs it."""

    name: str
    kind: str  # the speed kind the page estimates with
    config: DQNConfig
    runs: int  # runs the estimate is for
    target: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def _training(preset: str) -> DefaultRun:
    config = PRESETS[preset]
    return DefaultRun(
        f"Training, {preset} preset",
        "training",
        config,
        1,
        "playground.tasks.training_task:training_task",
        {"config": config.to_dict(), **REFERENCE},
    )


def _sizes(label: str) -> DefaultRun:
    setting = EXPERIMENT_SETTINGS[label]
    seeds = [0, 1, 2]
    return DefaultRun(
        f"Network sizes, {label}",
        "network_sizes",
        setting.config,
        len(LESSON_SIZES) * len(seeds),
        "playground.tasks.experiment_task:run_experiment_task",
        {
            "impl": "solutions",
            "config": setting.config.to_dict(),
            "sizes": LESSON_SIZES,
            "seeds": seeds,
            "window": setting.window,
        },
    )


def _comparison(preset: str) -> DefaultRun:
    config = PRESETS[preset]
    return DefaultRun(
        f"Reference vs SB3, {preset} preset",
        "comparison",
        config,
        2,
        "playground.sb3.comparison:comparison_task",
        {"config": config.to_dict(), "seeds": [0], "final_eval_episodes": 20, "implementations": ["reference", "sb3"]},
    )


DEFAULT_RUNS: tuple[DefaultRun, ...] = (
    _training("lineworld"),
    _training("fast"),
    *(_sizes(label) for label in EXPERIMENT_SETTINGS),
    _comparison("lineworld"),
)
