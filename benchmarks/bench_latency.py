"""Feedback latency of a Check: warm (the app's fork server) and cold (the CLI, one interpreter start).

    python benchmarks/bench_latency.py [--repeats 3] [--no-cli]

Warm: this process starts the fork server once, waits until it has imported
everything, then times ``run_checks(exercise, "solutions")`` from the call to
the last result, as the app's Check button does. Cold: the wall time of
``python -m playground.check EXERCISE --impl solutions`` (a fresh interpreter
and a fresh fork server per run). Targets (issue 13, quiet 2-core machine):
warm q_network, replay_buffer, save_load <= 0.5 s; train_dqn <= 4 s;
network_sizes <= 2.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.checks import EXERCISES, checks_for  # noqa: E402
from playground.sandbox import forkserver  # noqa: E402
from playground.sandbox.runner import run_checks  # noqa: E402

TARGETS = {"q_network": 0.5, "replay_buffer": 0.5, "save_load": 0.5, "train_dqn": 4.0, "network_sizes": 2.5}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true", help="skip the cold CLI runs")
    args = parser.parse_args()
    started = time.monotonic()
    server = forkserver.fork_server()
    for exercise in EXERCISES:  # as on an exercise page, whose server has imported torch and the checks' names
        checks_for(exercise)
    server.ready.wait(120)
    print(f"fork server ready after {time.monotonic() - started:.1f} s (one cold start)", flush=True)
    rows = []
    for exercise in EXERCISES:
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            results = run_checks(exercise, "solutions")
            times.append(time.perf_counter() - t0)
            assert all(r.passed for r in results), [r.message for r in results if not r.passed]
        cold = float("nan")
        if not args.no_cli:
            t0 = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "playground.check", exercise, "--impl", "solutions"],
                cwd=ROOT,
                capture_output=True,
                check=False,
            )
            cold = time.perf_counter() - t0
            assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
        rows.append((exercise, statistics.median(times), max(times), cold))
    print()
    print("| exercise | warm median (s) | warm worst (s) | target (s) | CLI cold (s) |")
    print("|---|---:|---:|---:|---:|")
    for exercise, median, worst, cold in rows:
        print(f"| {exercise} | {median:.2f} | {worst:.2f} | {TARGETS[exercise]:g} | {cold:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
