"""A classroom on one machine: 10 learners at once, each checking all five exercises and training once.

    python benchmarks/bench_classroom.py [--learners 10] [--slots K] [--impl solutions] [--fifo]

Each simulated learner is a thread of this process with its own owner (as a
browser session is): it runs ``run_checks`` for every exercise in order and
then trains the ``fast`` CartPole preset with ``start_task`` (the training
page's task), through the same admission queue, fork server and sandbox as
the pages. This process stands in for the Streamlit server (it imports the
checks registry, and torch with it, as the server does).

It prints the peak memory of the whole process tree (PSS, sampled every
0.5 s), the largest memory unique to one sandbox child (USS), the time until
every learner has all results, the longest queue wait, the median and worst
time to a learner's first check result, and failures (an exception, a task
error, or a failed check of the reference). Targets (issue 13): 0 failures,
peak at most 1.5 GB, every first check result within 30 s.

It also times each Check a learner presses, from the press to its first
result (the wait for a small Check: queue, fork and the first check), and
the longest queue wait of each lane (:mod:`playground.sandbox.fairness`).
Targets (issue 23, 30 learners): the longest wait for a small Check at most
30 s, the median first result at most 2 s, every training finishing.
``--fifo`` serves the queue first come, first served (as before issue 23), for
a before/after table. ``benchmarks/bench_cluster.py`` runs these learners on
a Ray cluster.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.checks import EXERCISES  # noqa: E402
from playground.core.config import PRESETS  # noqa: E402
from playground.sandbox import admission as admission_module  # noqa: E402
from playground.sandbox import forkserver  # noqa: E402
from playground.sandbox.admission import admission  # noqa: E402
from playground.sandbox.executor import job_owner, run_checks, start_task  # noqa: E402

MB = 1024 * 1024


@dataclass
class Learner:
    number: int
    started: float = 0.0
    first_result: float | None = None
    finished: float | None = None
    failures: list[str] = field(default_factory=list)
    checks: int = 0
    check_waits: list[float] = field(default_factory=list)  # each Check press: seconds to its first result
    small_check_waits: list[float] = field(default_factory=list)  # the same, for the small Checks only
    training_seconds: float | None = None


# Checks that run in well under a second each (train_dqn's and network_sizes' train small runs: seconds).
SMALL_CHECKS = ("q_network", "replay_buffer", "save_load")


def press_check(learner: Learner, exercise: str, impl: str, t0: float, sources: dict[str, str] | None = None) -> None:
    """One press of Check my code (on ``sources``, the editors' code, when given): its results, and the time
    from the press to the first one."""
    pressed = time.monotonic()
    answered: list[float] = []

    def on_result(result: object) -> None:
        if not answered:
            answered.append(time.monotonic())
        if learner.first_result is None:
            learner.first_result = time.monotonic() - t0

    try:
        results = run_checks(exercise, impl, on_result=on_result, sources=sources)
        if answered:
            learner.check_waits.append(answered[0] - pressed)
            if exercise in SMALL_CHECKS:
                learner.small_check_waits.append(answered[0] - pressed)
        learner.checks += len(results)
        learner.failures += [f"{r.exercise}/{r.check}: {r.message[:120]}" for r in results if not r.passed]
    except Exception as err:  # noqa: BLE001 - a benchmark counts, never stops
        learner.failures.append(f"{exercise}: {type(err).__name__}: {err}")


def learn(learner: Learner, impl: str, t0: float, preset: str = "fast") -> None:
    """Check every exercise in order, then train ``preset`` once: one learner of the class."""
    learner.started = time.monotonic()
    with job_owner(f"learner {learner.number}"):
        for exercise in EXERCISES:
            press_check(learner, exercise, impl, t0)
        try:
            began = time.monotonic()
            handle = start_task(
                "playground.tasks.training_task:training_task",
                timeout=600.0,
                config=PRESETS[preset].to_dict(),
                loop=impl,
                network=impl,
                buffer=impl,
            )
            outcome = handle.wait()
            learner.training_seconds = time.monotonic() - began
            if not outcome.ok:
                learner.failures.append(f"training: {outcome.error[:300]}")
        except Exception as err:  # noqa: BLE001
            learner.failures.append(f"training: {type(err).__name__}: {err}")
    learner.finished = time.monotonic() - t0


class Sampler(threading.Thread):
    """Peak PSS of this process and all its descendants; peak USS of one sandbox child."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process()
        self.peak_pss = 0
        self.peak_child_uss = 0
        self.peak_server_pss = 0
        self.peak_zygote_pss = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0
            zygote = forkserver._server.zygote_pid if forkserver._server is not None else 0
            for proc in [self.root, *self.root.children(recursive=True)]:
                try:  # a job may end between the listing and these reads
                    info = proc.memory_full_info()
                    parent = proc.ppid()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total += info.pss
                if proc.pid == self.root.pid:
                    self.peak_server_pss = max(self.peak_server_pss, info.pss)
                elif proc.pid == zygote:
                    self.peak_zygote_pss = max(self.peak_zygote_pss, info.pss)
                elif zygote and parent == zygote:
                    self.peak_child_uss = max(self.peak_child_uss, info.uss)
            self.peak_pss = max(self.peak_pss, total)
            self.stop.wait(0.5)


def learner_rows(learners: list[Learner], everyone: float) -> list[tuple[str, str]]:
    """The rows every backend reports: failures, times to results, the wait for a small Check."""
    firsts = [learner.first_result for learner in learners if learner.first_result is not None]
    waits = [wait for learner in learners for wait in learner.check_waits]
    small = [wait for learner in learners for wait in learner.small_check_waits]
    trained = [learner.training_seconds for learner in learners if learner.training_seconds is not None]

    def seconds(values: list[float], pick: str) -> str:
        if not values:
            return "none"
        return f"{(statistics.median(values) if pick == 'median' else max(values)):.1f} s"

    return [
        ("checks run", f"{sum(learner.checks for learner in learners)}"),
        ("failures", f"{sum(len(learner.failures) for learner in learners)}"),
        ("time until every learner has all results", f"{everyone:.1f} s"),
        ("first check result, median", seconds(firsts, "median")),
        ("first check result, worst", seconds(firsts, "max")),
        ("a Check: press to first result, median", seconds(waits, "median")),
        ("a Check: press to first result, worst", seconds(waits, "max")),
        (f"a small Check ({', '.join(SMALL_CHECKS)}): press to first result, median", seconds(small, "median")),
        (f"a small Check ({', '.join(SMALL_CHECKS)}): press to first result, worst", seconds(small, "max")),
        ("trainings finished", f"{len(trained)} of {len(learners)}"),
        ("a training: start to end, median", seconds(trained, "median")),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10)
    parser.add_argument("--slots", type=int, default=0, help="K (default: the server's own choice)")
    parser.add_argument("--impl", default="solutions", choices=("solutions", "exercises"))
    parser.add_argument("--fifo", action="store_true", help="first come, first served (the queue before issue 23)")
    args = parser.parse_args()
    if args.fifo:
        admission_module.admission_order = lambda queue, served, now=None: list(queue)  # type: ignore[attr-defined]
    queue = admission()
    if args.slots:
        queue.set_slots(args.slots)
    sampler = Sampler()
    sampler.start()
    # A server starts its fork server when it starts, long before a class presses Check together: wait
    # until it has imported torch, so the burst measures the queue, not a cold start (bench_latency does).
    warming = time.monotonic()
    forkserver.fork_server().ready.wait(120)
    print(f"fork server ready after {time.monotonic() - warming:.1f} s", flush=True)
    t0 = time.monotonic()
    learners = [Learner(i + 1) for i in range(args.learners)]
    threads = [threading.Thread(target=learn, args=(learner, args.impl, t0)) for learner in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everyone = time.monotonic() - t0
    sampler.stop.set()
    sampler.join()
    failures = [f"learner {learner.number}: {text}" for learner in learners for text in learner.failures]
    short = [wait for lane, wait in queue.lane_waits if lane == "short"]
    long = [wait for lane, wait in queue.lane_waits if lane == "long"]
    rows = [
        ("learners", f"{args.learners}"),
        ("queue", "first come, first served" if args.fifo else "short lane first, fair share per learner"),
        ("K (jobs at once)", f"{queue.slots}"),
        ("jobs", f"{len(queue.waits)}"),
        *learner_rows(learners, everyone),
        ("longest queue wait", f"{max(queue.waits, default=0.0):.1f} s"),
        ("longest queue wait, a Check (short lane)", f"{max(short, default=0.0):.1f} s"),
        ("longest queue wait, a training (long lane)", f"{max(long, default=0.0):.1f} s"),
        ("peak memory, whole process tree (PSS)", f"{sampler.peak_pss / MB:.0f} MB"),
        ("peak memory, server process (PSS)", f"{sampler.peak_server_pss / MB:.0f} MB"),
        ("peak memory, fork server (PSS)", f"{sampler.peak_zygote_pss / MB:.0f} MB"),
        ("peak memory unique to one job (USS)", f"{sampler.peak_child_uss / MB:.0f} MB"),
    ]
    print()
    print("| measure | value |")
    print("|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    for text in failures[:20]:
        print("FAILURE", text)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
