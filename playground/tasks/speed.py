"""Time estimates from the measured speed of this machine.

Every page that trains promises a duration. The promise comes from a model
of a run's cost,

$$t \\approx t_0 + k_\\text{env}\\,(c_s \\cdot \\text{steps} + c_u \\cdot \\text{updates}),$$

where $t_0$ is the fixed cost of a run (a sandbox process, evaluation, the
GIF) and $c_s$, $c_u$ are the single-core costs of an env step and a gradient
update measured by the benchmarks. Every finished run on this server measures
its real time, and :func:`record` folds the ratio (measured / modelled) into
$k_\\text{env}$ and the measured fixed cost into $t_0$ (moving averages in log
space, per environment and page). Estimates are shown as a range, wider
until this machine has been measured. The numbers live in this process and in
a small JSON file in the temporary directory (never in the app's directory),
so a restarted server starts from what it measured before.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from playground.core.config import DQNConfig

# Single-core costs measured by benchmarks/bench_train.py on the 2-core development machine.
SECONDS_PER_STEP = 3e-5
SECONDS_PER_UPDATE = 9e-4
# Seconds from click to result besides training: a warm sandbox child, evaluation, the GIF, the page.
DEFAULT_OVERHEAD = 4.0
# PLAYGROUND_SPEED_FILE moves the file (the browser tests give each server its own).
STORE_PATH = Path(os.environ.get("PLAYGROUND_SPEED_FILE") or Path(tempfile.gettempdir()) / "dqn_playground_speed.json")
SMOOTHING = 0.6  # weight of the newest measurement: the load of a shared machine changes
CALIBRATED_SPREAD = (0.7, 1.5)  # the range shown once this machine was measured
UNCALIBRATED_SPREAD = (0.5, 2.5)


@dataclass
class Speed:
    """What this server measured for one kind of run: a slowness factor and the fixed cost per run."""

    factor: float = 1.0
    overhead: float = DEFAULT_OVERHEAD
    samples: int = 0


_lock = threading.Lock()
_speeds: dict[str, Speed] | None = None


def _load() -> dict[str, Speed]:
    global _speeds
    if _speeds is None:
        loaded: dict[str, Speed] = {}
        try:
            raw = json.loads(STORE_PATH.read_text(encoding="utf-8"))
            for key, value in raw.items():
                loaded[str(key)] = Speed(float(value["factor"]), float(value["overhead"]), int(value["samples"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            loaded = {}
        _speeds = loaded
    return _speeds


def _save(speeds: dict[str, Speed]) -> None:
    with contextlib.suppress(OSError):
        STORE_PATH.write_text(json.dumps({key: asdict(value) for key, value in speeds.items()}), encoding="utf-8")


def gradient_updates(config: DQNConfig) -> int:
    """Gradient updates of a full run of ``config`` (no early stop)."""
    per_phase = config.train_freq if config.gradient_steps == -1 else config.gradient_steps
    phases = max(0, config.total_timesteps // config.train_freq - config.learning_starts // config.train_freq)
    return phases * per_phase


def model_seconds(config: DQNConfig) -> float:
    """The benchmark model's single-core training time of a full run, before calibration."""
    width = sum(config.hidden_dims) / 64 if config.hidden_dims else 1.0
    update_cost = SECONDS_PER_UPDATE * math.sqrt(max(0.5, config.batch_size / 64)) * math.sqrt(max(0.5, width))
    return float(config.total_timesteps * SECONDS_PER_STEP + gradient_updates(config) * update_cost)


def _key(kind: str, config: DQNConfig) -> str:
    return f"{kind}:{config.env_id}"


def speed_for(kind: str, config: DQNConfig) -> Speed:
    with _lock:
        return Speed(**asdict(_load().get(_key(kind, config), Speed())))


def record(kind: str, config: DQNConfig, train_seconds: float, total_seconds: float, steps: int | None = None) -> None:
    """Fold one finished run into this server's speed: ``train_seconds`` in the loop, ``total_seconds`` overall.

    ``steps``: env steps the run really made (a run stopped early made fewer).
    """
    if steps is not None and 0 < steps < config.total_timesteps:
        config = config.replace(total_timesteps=max(1, steps))
    modelled = model_seconds(config)
    if modelled <= 0 or train_seconds <= 0 or total_seconds <= 0:
        return
    factor = train_seconds / modelled
    overhead = max(0.0, total_seconds - train_seconds)
    with _lock:
        speeds = _load()
        old = speeds.get(_key(kind, config))
        if old is None or old.samples == 0:
            new = Speed(factor, overhead, 1)
        else:
            new = Speed(
                math.exp((1 - SMOOTHING) * math.log(old.factor) + SMOOTHING * math.log(factor)),
                (1 - SMOOTHING) * old.overhead + SMOOTHING * overhead,
                old.samples + 1,
            )
        speeds[_key(kind, config)] = new
        _save(speeds)


def record_total(kind: str, config: DQNConfig, runs: int, parallel: int, total_seconds: float) -> None:
    """Fold a job of ``runs`` runs (``parallel`` at a time) that took ``total_seconds`` from click to result."""
    batches = math.ceil(max(runs, 1) / max(parallel, 1))
    modelled = batches * model_seconds(config)
    if modelled <= 0 or total_seconds <= 0:
        return
    overhead = speed_for(kind, config).overhead
    train = max(total_seconds - overhead, 0.3 * total_seconds)
    # One "run" whose training is all the batches: record() splits it into factor and overhead.
    record(kind, config, train / batches, train / batches + overhead)


def estimate(kind: str, config: DQNConfig, runs: int = 1, parallel: int = 1) -> tuple[float, float]:
    """(low, high) seconds for ``runs`` full runs of ``config``, ``parallel`` at a time."""
    speed = speed_for(kind, config)
    one = speed.factor * model_seconds(config)
    batches = math.ceil(max(runs, 1) / max(parallel, 1))
    middle = speed.overhead + batches * one
    low, high = CALIBRATED_SPREAD if speed.samples else UNCALIBRATED_SPREAD
    return middle * low, middle * high


def duration_text(seconds: tuple[float, float]) -> str:
    """``(12, 30)`` -> "10-30 s"; minutes past two of them."""
    low, high = seconds
    if high < 120:
        return f"{_round(low):.0f}-{max(_round(high), _round(low) + 1):.0f} s"
    return f"{low / 60:.0f}-{max(high / 60, low / 60 + 1):.0f} min"


def _round(value: float) -> float:
    if value < 10:
        return max(1.0, math.floor(value)) if value < 1 else round(value)
    return round(value / 5) * 5


def measured_note(kind: str, config: DQNConfig) -> str:
    """Where the estimate comes from, in a few words."""
    speed = speed_for(kind, config)
    if speed.samples:
        return f"from {speed.samples} run{'s' * (speed.samples > 1)} measured on this server"
    return "a first guess until a run on this server is measured"
