"""Benchmark: the default run of every page that trains, timed in the sandbox, beside the page's estimate.

Each default run goes through the same sandbox task the page starts (a warm
fork-server child, one torch thread), timed from the start of the task to its
outcome, plus the page's fixed cost. It prints, per run, the estimate the page
shows on a server that measured nothing yet (``playground.tasks.speed``'s first
guess) and the measured time, and a Markdown table. The measured times go into
``tests/test_estimates.py``, which checks that every first guess contains them
and is at most 2x wide.

Usage::

    python benchmarks/bench_estimates.py            # every default run (about 4-6 minutes)
    python benchmarks/bench_estimates.py --only training

Timings on a busy machine are noisy: quote ``uptime``'s load average with them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
# The first guess, not what an earlier run of this machine measured.
os.environ["PLAYGROUND_SPEED_FILE"] = str(Path(tempfile.mkdtemp()) / "speed.json")

from playground.sandbox.runner import run_task, warm_up
from playground.tasks import speed
from playground.tasks.default_runs import DEFAULT_RUNS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run only the default runs whose name contains this")
    args = parser.parse_args()
    warm_up()
    run_task("playground.tasks.training_task:training_task", timeout=300, **DEFAULT_RUNS[0].kwargs)  # warm
    print(f"load average before: {os.getloadavg()}")
    rows = []
    for run in DEFAULT_RUNS:
        if args.only and args.only not in run.name:
            continue
        low, high = speed.estimate(run.kind, run.config, run.runs)
        started = time.monotonic()
        outcome = run_task(run.target, timeout=3600, **run.kwargs)
        seconds = time.monotonic() - started
        status = "ok" if outcome.ok else f"FAILED: {outcome.error}"
        print(f"{run.name}: estimate {low:.1f}-{high:.1f} s, measured {seconds:.1f} s ({status})", flush=True)
        rows.append((run.name, low, high, seconds))
    print(f"load average after: {os.getloadavg()}")
    print("\n| default run | estimate (s) | measured (s) |\n|---|---:|---:|")
    for name, low, high, seconds in rows:
        print(f"| {name} | {low:.0f}-{high:.0f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
