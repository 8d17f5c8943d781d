"""Benchmark: the reference ``train_dqn`` (fast preset) against Stable-Baselines3 (rl-zoo settings) on CartPole-v1.

Both run on the same machine in the same process, one seed after the other,
alternating which goes first, with one PyTorch thread each. Both follow the
same protocol: the fast preset's greedy evaluation during training (20
episodes every 2,500 env steps with the reference's ``evaluate`` and the same
seeds) and a stop at the first mean >= 475; and at
the end a 20-episode greedy evaluation of the network kept, on seeds no
evaluation during training used. Time spent in evaluations is reported apart.

Usage::

    python benchmarks/bench_train.py              # seeds 0-9 (about 15 minutes on 2 cores)
    python benchmarks/bench_train.py --seeds 0 1 2
    python benchmarks/bench_train.py --monitor-cost   # what the app's measuring costs per env step

Prints one line per run, then a Markdown table for the README
(between ``<!-- BENCH_TRAIN -->`` markers).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import torch

from playground.core.config import PRESETS, DQNConfig
from playground.core.facts import FINAL_EVAL_SEED_OFFSET, SOLVED_RETURNS
from playground.core.monitor import train_monitored
from playground.core.results import RunRecord
from solutions.train_dqn import evaluate, train_dqn

SOLVED = SOLVED_RETURNS["CartPole-v1"]
FINAL_EPISODES = 20
REFERENCE_CONFIG = PRESETS["fast"]
# rl-zoo's hyperparameters for DQN on CartPole-v1 (SB3's defaults for the rest: Huber, max_grad_norm 10,
# tau 1), with the evaluation protocol shared by both implementations.
SB3_CONFIG = DQNConfig(
    env_id="CartPole-v1",
    total_timesteps=50_000,
    learning_rate=2.3e-3,
    buffer_size=100_000,
    learning_starts=1_000,
    batch_size=64,
    tau=1.0,
    gamma=0.99,
    train_freq=256,
    gradient_steps=128,
    target_update_interval=10,
    exploration_fraction=0.16,
    exploration_initial_eps=1.0,
    exploration_final_eps=0.04,
    max_grad_norm=10.0,
    hidden_dims=(256, 256),
    loss="huber",
    eval_freq=REFERENCE_CONFIG.eval_freq,
    eval_episodes=REFERENCE_CONFIG.eval_episodes,
    reward_threshold=SOLVED,
)


def time_to_solve(run: RunRecord) -> float:
    """Training seconds (evaluations left out) until the stop; infinite when never solved."""
    return run.train_time if run.solved_step is not None else math.inf


def run_reference(seed: int) -> RunRecord:
    """The reference ``train_dqn``: the function the app's Train button runs (in its sandbox child)."""
    config = REFERENCE_CONFIG.replace(seed=seed)
    result = train_monitored(train_dqn, config, evaluate=evaluate)  # as the Train button runs it
    final = evaluate(result.q_network, config.env_id, FINAL_EPISODES, seed + FINAL_EVAL_SEED_OFFSET)
    return RunRecord.of(result, config, label="reference", greedy_returns=final)


def run_sb3(seed: int) -> RunRecord:
    from playground.sb3.adapter import train_sb3

    config = SB3_CONFIG.replace(seed=seed)
    run = train_sb3(config)
    final = evaluate(run.q_network, config.env_id, FINAL_EPISODES, seed + FINAL_EVAL_SEED_OFFSET)
    return RunRecord.of(run, config, label="SB3", greedy_returns=final)


def warm_up() -> None:
    """Pay one-time import and first-call costs before anything is timed."""
    torch.set_num_threads(1)
    weight = torch.zeros(1, requires_grad=True)
    torch.optim.Adam([weight], lr=1e-3).step()
    train_dqn(PRESETS["lineworld"].replace(total_timesteps=300, learning_starts=100))
    import stable_baselines3  # noqa: F401


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def _fmt(value: float, digits: int = 1) -> str:
    if math.isinf(value):
        return "not solved"
    return "—" if math.isnan(value) else f"{value:,.{digits}f}"


def summary_table(runs: Sequence[RunRecord]) -> str:
    """The Markdown table for the README: one row per implementation, then the per-seed detail."""
    lines = [
        "| implementation | solved (final 20-ep mean >= 475) | median steps to solve | median time to solve (s) "
        "| median env steps/s | median final 20-ep mean | total eval time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    medians: dict[str, float] = {}
    for name in ("reference", "SB3"):
        mine = [r for r in runs if r.label == name]
        if not mine:
            continue
        solved = [r for r in mine if r.solved_step is not None]
        medians[name] = _median([time_to_solve(r) for r in mine])
        lines.append(
            f"| {name} | {sum(r.solved for r in mine)} / {len(mine)} "
            f"| {_fmt(_median([float(r.solved_step or 0) for r in solved]), 0) if solved else 'not solved'} "
            f"| {_fmt(medians[name])} | {_fmt(_median([r.steps_per_second for r in mine]), 0)} "
            f"| {_fmt(_median([r.greedy_mean for r in mine]))} | {_fmt(sum(r.eval_time for r in mine))} |"
        )
    ratio = medians.get("reference", math.nan) / medians.get("SB3", math.nan) if medians.get("SB3") else math.nan
    lines.append("")
    lines.append(f"Median time to solve, reference / SB3: **{_fmt(ratio, 2)}** (target: at most 0.25).")
    lines.append("")
    lines.append(
        "| seed | implementation | wall s | eval s | env steps | steps/s | solved at step | final 20-ep mean |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    for r in sorted(runs, key=lambda r: (r.seed, r.label)):
        lines.append(
            f"| {r.seed} | {r.label} | {r.wall_time:.1f} | {r.eval_time:.1f} | {r.total_steps:,} "
            f"| {r.steps_per_second:,.0f} | {r.solved_step if r.solved_step is not None else '—'} "
            f"| {r.greedy_mean:.1f} |"
        )
    return "\n".join(lines)


def monitor_cost(steps: int = 20_000, repeats: int = 3) -> str:
    """Seconds per env step of the reference loop, plain and measured by the app (the Train button's path).

    Same CartPole run both ways (fast preset, no evaluations, so only the measuring differs); the best of
    ``repeats`` alternating runs each, then the difference per env step.
    """
    config = PRESETS["fast"].replace(total_timesteps=steps, eval_freq=0, reward_threshold=None, seed=0)
    plain: list[float] = []
    measured: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        train_dqn(config)
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        train_monitored(train_dqn, config, evaluate=evaluate)
        measured.append(time.perf_counter() - started)
    per_plain, per_measured = min(plain) / steps * 1e6, min(measured) / steps * 1e6
    return (
        f"{steps:,} CartPole env steps (fast preset, best of {repeats}): plain loop {per_plain:.1f} us/step, "
        f"measured by the app {per_measured:.1f} us/step: the measuring costs {per_measured - per_plain:+.2f} us/step "
        f"({(per_measured / per_plain - 1) * 100:+.1f}%)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)), help="seeds to run (default 0-9)")
    parser.add_argument("--only", choices=("reference", "SB3"), help="run one implementation only")
    parser.add_argument("--monitor-cost", action="store_true", help="only time the app's measuring per env step")
    args = parser.parse_args(argv)
    warm_up()
    if args.monitor_cost:
        print(monitor_cost(), flush=True)
        return 0
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread; started {time.strftime('%Y-%m-%d %H:%M:%S')}",
        flush=True,
    )
    runners: dict[str, Callable[[int], RunRecord]] = {"reference": run_reference, "SB3": run_sb3}
    names = [args.only] if args.only else list(runners)
    runs: list[RunRecord] = []
    for index, seed in enumerate(args.seeds):
        order = names if index % 2 == 0 else names[::-1]  # alternate who goes first
        for name in order:
            run = runners[name](seed)
            runs.append(run)
            print(
                f"{name:9s} seed {seed}: {run.wall_time:6.1f} s wall ({run.eval_time:4.1f} s eval), "
                f"{run.total_steps:6,} steps, {run.steps_per_second:6,.0f} steps/s, solved at "
                f"{run.solved_step if run.solved_step is not None else '-'}, final 20-ep mean {run.greedy_mean:.1f}",
                flush=True,
            )
    print()
    print("<!-- BENCH_TRAIN -->")
    print(summary_table(runs))
    print("<!-- /BENCH_TRAIN -->")
    reference = [r for r in runs if r.label == "reference"]
    return 0 if all(r.solved for r in reference) or not reference else 1


if __name__ == "__main__":
    sys.exit(main())
