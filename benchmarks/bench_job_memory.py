"""Memory unique to one sandbox job: each exercise's Check, and one `fast` CartPole training.

    python benchmarks/bench_job_memory.py [--impl solutions] [--interval 0.05]

Every job runs as the app runs it: forked from the warm fork server, under the
job's limits. A sampler reads the job process's unique set size (USS: the pages
only it holds, what the container pays for one more job) and its proportional
set size (PSS) every ``--interval`` seconds, and keeps the peak. The training
job is the page's Train button with the `fast` preset (the learning run, the
final greedy evaluation, the Q-value probes and the GIF of one greedy episode).
Target (issue 13): at most 150 MB unique to one `fast` training.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.core.config import PRESETS  # noqa: E402
from playground.core.facts import EXERCISES  # noqa: E402
from playground.sandbox import forkserver  # noqa: E402
from playground.sandbox.runner import run_checks, run_task  # noqa: E402

MB = 1024 * 1024
TARGET_TRAINING_USS_MB = 150


class JobSampler(threading.Thread):
    """The peak USS and PSS of the fork server's children while one job runs."""

    def __init__(self, zygote_pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.zygote = psutil.Process(zygote_pid)
        self.interval = interval
        self.peak_uss = 0
        self.peak_pss = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for child in self.zygote.children():
                try:
                    info = child.memory_full_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                self.peak_uss = max(self.peak_uss, info.uss)
                self.peak_pss = max(self.peak_pss, info.pss)
            self.stop.wait(self.interval)


def measure(zygote_pid: int, interval: float, job: Callable[[], bool]) -> tuple[float, float, float, bool]:
    """(peak USS MB, peak PSS MB, seconds, ok) of running ``job``."""
    sampler = JobSampler(zygote_pid, interval)
    sampler.start()
    started = time.perf_counter()
    ok = job()
    seconds = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    return sampler.peak_uss / MB, sampler.peak_pss / MB, seconds, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default="solutions", choices=("solutions", "exercises"))
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between samples")
    args = parser.parse_args()
    server = forkserver.fork_server()
    server.ready.wait(120)
    zygote = psutil.Process(server.zygote_pid)
    print(f"fork server: {zygote.memory_full_info().pss / MB:.0f} MB PSS", flush=True)

    def check(exercise: str) -> Callable[[], bool]:
        return lambda: all(result.passed for result in run_checks(exercise, args.impl))

    jobs: dict[str, Callable[[], bool]] = {f"Check {exercise}": check(exercise) for exercise in EXERCISES}

    def train() -> bool:
        outcome = run_task(
            "playground.tasks.training_task:training_task",
            timeout=600.0,
            config=PRESETS["fast"].to_dict(),
            loop=args.impl,
            network=args.impl,
            buffer=args.impl,
        )
        if not outcome.ok:
            print(outcome.error, file=sys.stderr)
        return outcome.ok

    jobs["Train `fast` (CartPole, with the GIF)"] = train
    print("\n| job | peak USS (MB) | peak PSS (MB) | seconds | ok |\n|---|---:|---:|---:|---|")
    training_uss = 0.0
    for name, job in jobs.items():
        uss, pss, seconds, ok = measure(server.zygote_pid, args.interval, job)
        training_uss = uss if name.startswith("Train") else training_uss
        print(f"| {name} | {uss:.0f} | {pss:.0f} | {seconds:.1f} | {'yes' if ok else 'NO'} |", flush=True)
    print(f"\ntraining: {training_uss:.0f} MB unique (target {TARGET_TRAINING_USS_MB} MB)")
    return 0 if training_uss <= TARGET_TRAINING_USS_MB else 1


if __name__ == "__main__":
    sys.exit(main())
