"""Benchmark: the default network-size experiment on CartPole-v1, one process against two.

"The default experiment" is what the page's CartPole setting runs: the four
sizes of the lesson (1x64, 1x256, 2x64, 2x256) x seeds 0, 1, 2 on the
``steady`` preset, whose runs stop at the first greedy evaluation mean >= 475
(checked every ``eval_freq`` env steps) or at the end of the budget. It is run once
serially (``PLAYGROUND_WORKERS=1``) and once on two processes
(``PLAYGROUND_WORKERS=2``: this one and a helper), with one torch thread per
process. Both must give the very same curves; the script checks that.

Usage::

    python benchmarks/bench_sizes.py                   # serial, then parallel (about 4-6 minutes)
    python benchmarks/bench_sizes.py --modes parallel  # only the two-process run
    python benchmarks/bench_sizes.py --seeds 0 --sizes 1x64 2x64

Prints one line per finished run, then a Markdown table for the README
(between ``<!-- BENCH_SIZES -->`` markers). Timings on a machine that is
busy with other work are noisy: say so when quoting them.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import pandas as pd
import torch

from playground.core.config import PRESETS
from playground.core.results import ExperimentProgress
from playground.tasks.experiment import RunCounter, available_cores, run_reference_experiment
from solutions.network_sizes import NETWORK_SIZES, run_network_size_experiment, summarize_experiment

CONTRACT = ["size", "seed", "episode", "timestep", "reward"]
TARGET_SECONDS = 120.0


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the helper, once it has exited)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run(mode: str, sizes: dict[str, list[int]], seeds: list[int]) -> tuple[float, float, pd.DataFrame]:
    started, cpu_started = time.perf_counter(), cpu_seconds()

    counter = RunCounter(sizes, seeds)  # as the app counts the runs around the experiment

    def show(progress: ExperimentProgress) -> None:
        progress = counter.count(progress)
        if progress.finished:
            print(
                f"  [{mode}] {progress.runs_done:2d}/{progress.runs_total} done: {progress.size} seed {progress.seed} "
                f"at {time.perf_counter() - started:6.1f} s",
                flush=True,
            )

    if mode == "serial":  # the reference solution itself: a plain loop
        df = run_network_size_experiment(PRESETS["steady"], sizes, seeds, callback=show)
    else:  # the app's path: the same runs over two processes
        df = run_reference_experiment(PRESETS["steady"], sizes, seeds, callback=show, workers=2)
    return time.perf_counter() - started, cpu_seconds() - cpu_started, df


def load_average() -> str:
    try:
        return " / ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", nargs="+", choices=("serial", "parallel"), default=["serial", "parallel"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--sizes", nargs="+", choices=list(NETWORK_SIZES), default=list(NETWORK_SIZES))
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = {name: NETWORK_SIZES[name] for name in args.sizes}
    print(
        f"{len(sizes)} sizes x {len(args.seeds)} seeds on CartPole-v1 (steady preset); {available_cores()} cores; "
        f"load average before: {load_average()}",
        flush=True,
    )
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}
    frames: dict[str, pd.DataFrame] = {}
    for mode in args.modes:
        times[mode], cpu[mode], frames[mode] = run(mode, sizes, args.seeds)
        print(f"{mode}: {times[mode]:.1f} s, CPU {cpu[mode]:.1f} s (load average now {load_average()})", flush=True)
    if len(frames) == 2:
        same = frames["serial"][CONTRACT].equals(frames["parallel"][CONTRACT])
        print(f"serial and parallel curves identical: {same}", flush=True)
        if not same:
            return 1

    base = PRESETS["steady"]
    df = next(iter(frames.values()))
    summary = summarize_experiment(df, window=20)
    run_seconds = df.groupby(["size", "seed"])["seconds"].max()
    print()
    print("<!-- BENCH_SIZES -->")
    print(
        f"Default network-size experiment: {len(sizes)} sizes x {len(args.seeds)} seeds on CartPole-v1 "
        f"(`steady` preset: {base.total_timesteps:,} env steps at most, a run stops at the first greedy "
        f"{base.eval_episodes}-episode mean >= {base.reward_threshold:g}), {platform.processor() or 'CPU'}, "
        f"{available_cores()} cores, torch {torch.__version__} with one thread per process; "
        f"load average at the end {load_average()}."
    )
    print()
    print("| mode | processes | wall time | CPU time | speed-up | target |")
    print("|---|---|---|---|---|---|")
    serial = times.get("serial")
    for mode, seconds in times.items():
        speedup = f"{serial / seconds:.2f}x" if serial else "n/a"
        verdict = "met" if seconds <= TARGET_SECONDS else "missed"
        if len(sizes) != len(NETWORK_SIZES) or len(args.seeds) != 3:
            verdict = "n/a (not the default experiment)"
        processes = 1 if mode == "serial" else 2
        print(
            f"| {mode} | {processes} | {seconds:.1f} s | {cpu[mode]:.1f} s | {speedup} | "
            f"<= {TARGET_SECONDS:.0f} s: {verdict} |"
        )
    print()
    print("| size | parameters | solved | steps to solve (median) | final greedy mean ± std | run time (median) |")
    print("|---|---|---|---|---|---|")
    for _, row in summary.iterrows():
        median_seconds = statistics.median(run_seconds.loc[row["size"]].tolist())
        steps = "-" if pd.isna(row["steps_to_solve"]) else f"{row['steps_to_solve']:,.0f}"
        print(
            f"| {row['size']} | {int(row['parameters']):,} | {int(row['solved'])} of {int(row['runs'])} | {steps} | "
            f"{row['greedy_mean']:.1f} ± {row['greedy_std']:.1f} | {median_seconds:.1f} s |"
        )
    print("<!-- /BENCH_SIZES -->")
    return 0


if __name__ == "__main__":
    sys.exit(main())
