"""Time estimates from the measured speed of this machine.

Every page that trains promises a duration. The promise comes from a model
of a run's cost,

$$t \\approx t_0 + k_\\text{env}\\,(c_s \\cdot \\text{steps} + c_u \\cdot \\text{updates}),$$

where $t_0$ is the fixed cost of a run (a sandbox process, evaluation, the
GIF) and $c_s$, $c_u$ are the single-core costs of an env step and a gradient
update measured by the benchmarks. Every finished run on this server measures
its real time, and :func:`record` folds the ratio (measured / modelled) into
$k_\\text{env}$ and the measured fixed cost into $t_0$ (moving averages in log
space, per environment and page). A run that may stop early (a
``reward_threshold``) is modelled with the share of its budget such runs used
(:attr:`Speed.used`). Before this server measured anything, the numbers come
from :data:`PRIORS`, fitted to the default run of every page
(``benchmarks/bench_estimates.py``). An estimate is a range at most 2x wide
(:data:`SPREAD`), and ``tests/test_estimates.py`` checks that the first guess
for each page's default run contains its measured time. The numbers live in this process and in
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
SPREAD = (0.72, 1.44)  # the range shown around the estimate: 2x wide


@dataclass
class Speed:
    """What this server measured for one kind of run: a slowness factor, the fixed cost per run, and for runs
    that stop at a threshold, the share of the budget they used."""

    factor: float = 1.0
    overhead: float = DEFAULT_OVERHEAD
    samples: int = 0
    used: float = 1.0


# First guesses per page and environment ("kind:env_id"), fitted to the default run of each page measured by
# benchmarks/bench_estimates.py on the 2-core build machine (2026-12-03, load average 1-2: one other job on
# the second core; tests/test_estimates.py holds the times), each centred in its 2x range. An earlier fit at
# load 7-8 guessed two to four times too long on a quiet machine. The `fast` preset's seed 0 solves CartPole
# at about half of its 50,000 steps (benchmarks/bench_train.py), hence its `used`. The comparison's CartPole
# guess has no default run to fit: it keeps the earlier, slower guess (its SB3 half runs about 3.5x fewer env
# steps per second than the reference); a server replaces a guess with what it measures after one run.
PRIORS: dict[str, Speed] = {
    "training:LineWorld-v0": Speed(factor=0.32, overhead=3.0),
    "training:CartPole-v1": Speed(factor=1.57, overhead=4.0, used=0.55),
    "network_sizes:LineWorld-v0": Speed(factor=3.03, overhead=4.0),
    "network_sizes:CartPole-v1": Speed(factor=0.64, overhead=4.0),
    "comparison:LineWorld-v0": Speed(factor=0.96, overhead=4.0),
    "comparison:CartPole-v1": Speed(factor=3.89, overhead=4.0),
}

_lock = threading.Lock()
_speeds: dict[str, Speed] | None = None


def _load() -> dict[str, Speed]:
    global _speeds
    if _speeds is None:
        loaded: dict[str, Speed] = {}
        try:
            raw = json.loads(STORE_PATH.read_text(encoding="utf-8"))
            for key, value in raw.items():
                loaded[str(key)] = Speed(
                    float(value["factor"]),
                    float(value["overhead"]),
                    int(value["samples"]),
                    float(value.get("used", 1.0)),
                )
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
    """What this server measured for ``kind`` on ``config``'s environment, else the first guess."""
    key = _key(kind, config)
    with _lock:
        return Speed(**asdict(_load().get(key) or PRIORS.get(key) or Speed()))


def record(kind: str, config: DQNConfig, train_seconds: float, total_seconds: float, steps: int | None = None) -> None:
    """Fold one finished run into this server's speed: ``train_seconds`` in the loop, ``total_seconds`` overall.

    ``steps``: env steps the run really made (a run stopped early made fewer).
    """
    used = 1.0
    if steps is not None and 0 < steps < config.total_timesteps:
        used = steps / config.total_timesteps
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
            new = Speed(factor, overhead, 1, used)
        else:
            new = Speed(
                math.exp((1 - SMOOTHING) * math.log(old.factor) + SMOOTHING * math.log(factor)),
                (1 - SMOOTHING) * old.overhead + SMOOTHING * overhead,
                old.samples + 1,
                (1 - SMOOTHING) * old.used + SMOOTHING * used,
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
    if config.reward_threshold is not None and speed.used < 1.0:  # such runs tend to stop early
        config = config.replace(total_timesteps=max(1, round(config.total_timesteps * speed.used)))
    one = speed.factor * model_seconds(config)
    batches = math.ceil(max(runs, 1) / max(parallel, 1))
    middle = speed.overhead + batches * one
    low, high = SPREAD
    return middle * low, middle * high


def duration_text(seconds: tuple[float, float]) -> str:
    """``(2.47, 4.94)`` -> "3-5 s"; minutes once the lower end reaches two of them.

    The shown range is at most 2x wide after rounding, as the estimate is, and contains the estimate's
    middle: each end is rounded to a whole second (to 5 s from 10 s on; to whole minutes), choosing among
    the nearby round numbers the pair closest to the estimate whose upper end is at most twice the lower.
    A range wider than 2x is first narrowed to 2x around its geometric middle.
    """
    low, high = sorted(max(value, 0.0) for value in seconds)
    middle = math.sqrt(max(low, 1e-9) * max(high, 1e-9))
    low, high = max(low, middle / math.sqrt(2)), min(high, middle * math.sqrt(2))
    if low < 120:
        unit, grid, scale = "s", (5.0 if low >= 10 else 1.0), 1.0
    else:
        unit, grid, scale = "min", 1.0, 60.0
    low, high, middle = low / scale, high / scale, middle / scale
    if middle < grid:
        return f"about {grid:.0f} {unit}"
    best: tuple[float, int, int] | None = None
    for a in _near(low, grid, middle):
        for b in _near(high, grid, middle):
            if not (a < b <= 2 * a and a * grid <= middle <= b * grid):
                continue
            distance = abs(math.log(a * grid / low)) + abs(math.log(b * grid / high))
            if best is None or distance < best[0]:
                best = (distance, a, b)
    if best is None:  # cannot happen (two neighbours of the middle always fit); kept for safety
        a = math.floor(middle / grid)
        best = (0.0, a, a + 1)
    _, a, b = best
    return f"{a * grid:.0f}-{b * grid:.0f} {unit}"


def _near(value: float, grid: float, middle: float) -> set[int]:
    """Multiples of ``grid`` (as counts, at least one) near ``value``, and the two around ``middle``."""
    counts = {math.floor(value / grid) + step for step in (-1, 0, 1, 2)}
    counts |= {math.floor(middle / grid), math.floor(middle / grid) + 1}
    return {count for count in counts if count >= 1}


def measured_note(kind: str, config: DQNConfig) -> str:
    """Where the estimate comes from, in a few words."""
    speed = speed_for(kind, config)
    if speed.samples:
        return f"from {speed.samples} run{'s' * (speed.samples > 1)} measured on this server"
    return "a first guess from the build machine until a run on this server is measured"
