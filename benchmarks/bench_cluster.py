"""A class on a Ray cluster of this machine, against the same class on the local backend, in one run.

    python benchmarks/bench_cluster.py [--learners 4] [--workers 1,2] [--preset lineworld] [--kill-after 10]

The learners are ``bench_classroom.py``'s (each presses Check on every
exercise in order, then trains ``--preset`` once), as threads of this process,
which stands in for one app replica. They run:

1. on the local backend (this process's admission queue and warm fork server, K = ``--local-slots``);
2. on a Ray cluster started here with ``ray start``: a head with no CPUs, then
   worker nodes with one CPU each, added one by one for each count in
   ``--workers`` (each node's actor starts its own warm fork server before the run);
3. on the largest cluster again, with one worker node killed (its raylet and
   every process under it, ``SIGKILL``) ``--kill-after`` seconds into the run,
   while it runs a job.

For each run it prints learners, jobs, failures, the wait from a Check press to
its first result (median and worst), the total time and jobs per second per
worker CPU, each Ray run's throughput against the one-worker run's (1.0 is
linear), how many of the host's cores were busy and how many this process
(the learners and Ray's client) used, and for the killed node what became of
its jobs; then the memory of the Ray processes. Every Ray process started here
is stopped at the end (``ray stop``), also when the run fails.

``--workload waiting`` separates the design from the machine: each learner
presses Check on exercise 1 ``--presses`` times, and the code it submits is the
reference Q-network that first sleeps ``--wait-seconds`` when it is imported.
Every job still goes the whole way (the driver, Ray, a node's queue and fork
server, a sandbox child, the checks, the results streamed back) but needs
almost no CPU, so more worker nodes than the host has cores can each run one
at a time. Throughput that grows with the nodes there, and not with the
classroom's CPU-bound jobs, says the cores were the limit, not the design.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

# Token authentication, as compose.yaml sets it: one token for every process of the cluster and this one
# (Ray reads it when it is imported).
os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))

import ray  # noqa: E402
from bench_classroom import (  # type: ignore[import-not-found, unused-ignore]  # noqa: E402
    Learner,
    learn,
    learner_rows,
    press_check,
)

from playground.sandbox import forkserver  # noqa: E402
from playground.sandbox.admission import admission  # noqa: E402
from playground.sandbox.executor import Executor, LocalExecutor, job_owner, set_executor  # noqa: E402
from playground.sandbox.ray_backend import NAMESPACE, RayExecutor  # noqa: E402

MB = 1024 * 1024
RAY = str(Path(sys.executable).parent / "ray")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalCluster:
    """A Ray cluster on this machine, started with ``ray start``: a head with no CPUs, one-CPU worker nodes."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", RAY_USAGE_STATS_ENABLED="0", MPLBACKEND="Agg")
        self.workers = 0

    def _ray(self, *args: str) -> None:
        subprocess.run([RAY, *args], env=self.env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start_head(self) -> None:
        self._ray(
            "start",
            "--head",
            f"--port={self.port}",
            "--num-cpus=0",
            "--include-dashboard=false",
            "--disable-usage-stats",
        )

    def add_worker(self) -> None:
        self._ray("start", f"--address={self.address}", "--num-cpus=1", "--disable-usage-stats")
        self.workers += 1

    def stop(self) -> None:
        subprocess.run([RAY, "stop", "--force"], env=self.env, check=False, capture_output=True)


def _raylet_of(node: dict[str, Any]) -> psutil.Process | None:
    flag = f"--node_id={node['NodeID']}"
    for proc in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if "raylet" in (proc.info["name"] or "") and flag in (proc.info["cmdline"] or []):
                return proc
    return None


def kill_node(node_id: str) -> int:
    """SIGKILL a worker node's raylet and everything under it (its node actor, fork server and jobs)."""
    node = next(n for n in ray.nodes() if n["NodeID"] == node_id)  # type: ignore[no-untyped-call]
    raylet = _raylet_of(node)
    if raylet is None:
        raise RuntimeError(f"no raylet found for node {node_id}")
    victims = [*raylet.children(recursive=True), raylet]
    for proc in victims:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signal.SIGKILL)
    return len(victims)


def ray_memory() -> dict[str, float]:
    """PSS (MB) of each worker node (its raylet and every process under it) and of the rest of Ray."""
    nodes: dict[str, float] = {}
    counted: set[int] = set()
    for node in ray.nodes():  # type: ignore[no-untyped-call]
        if not node["Alive"]:
            continue
        raylet = _raylet_of(node)
        if raylet is None:
            continue
        total = 0
        for proc in [raylet, *raylet.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_full_info().pss
                counted.add(proc.pid)
        cpus = int(node["Resources"].get("CPU", 0))
        nodes[f"{'worker' if cpus else 'head'} node {node['NodeID'][:6]} (raylet and what runs under it)"] = total / MB
    rest = 0
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            line = " ".join(proc.info["cmdline"] or [])
            if proc.pid not in counted and ("ray/core/src" in line or "ray/_private" in line or "gcs_server" in line):
                rest += proc.memory_full_info().pss
    nodes["head services (GCS, monitors), not under a raylet"] = rest / MB
    return nodes


Work = Callable[[Learner, float], None]


def classroom_work(preset: str, impl: str) -> Work:
    """The classroom's learner: Check every exercise in order, then train ``preset`` once."""

    def work(learner: Learner, t0: float) -> None:
        learn(learner, impl, t0, preset)

    return work


def waiting_work(presses: int, seconds: float) -> Work:
    """A learner whose exercise-1 code sleeps ``seconds`` on import: whole jobs that need almost no CPU."""
    reference = (ROOT / "solutions" / "q_network.py").read_text()
    sources = {"q_network": f"{reference}\n\nimport time as _time\n\n_time.sleep({seconds!r})\n"}

    def work(learner: Learner, t0: float) -> None:
        learner.started = time.monotonic()
        with job_owner(f"learner {learner.number}"):
            for _ in range(presses):
                press_check(learner, "q_network", "exercises", t0, sources)
        learner.finished = time.monotonic() - t0

    return work


class CpuUse:
    """Cores busy on the whole host (``/proc/stat``) and in this process, between start and ``stop``."""

    def __init__(self) -> None:
        self.host0, self.me0, self.t0 = self._host(), self._me(), time.monotonic()

    @staticmethod
    def _host() -> tuple[float, float]:
        fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        return sum(fields) - idle, sum(fields)

    @staticmethod
    def _me() -> float:
        times = psutil.Process().cpu_times()
        return float(times.user + times.system)

    def stop(self) -> dict[str, str]:
        (busy1, total1), me1, seconds = self._host(), self._me(), time.monotonic() - self.t0
        cores = psutil.cpu_count() or 1
        busy = (busy1 - self.host0[0]) / max(total1 - self.host0[1], 1.0) * cores
        return {
            f"host cores busy, mean (of {cores})": f"{busy:.2f}",
            "of which this process (the learners, the Ray client)": f"{(me1 - self.me0) / seconds:.2f}",
        }


def run_class(
    executor: Executor, count: int, first_number: int, work: Work, during: Callable[[], None] | None = None
) -> tuple[list[Learner], float, dict[str, str]]:
    """``count`` learners doing ``work`` at once on ``executor``; ``during`` runs beside them (the node killer)."""
    set_executor(executor)
    learners = [Learner(first_number + i) for i in range(count)]
    cpu = CpuUse()
    t0 = time.monotonic()
    threads = [threading.Thread(target=work, args=(learner, t0)) for learner in learners]
    if during is not None:
        threads.append(threading.Thread(target=during, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads[:count]:
        thread.join()
    return learners, time.monotonic() - t0, cpu.stop()


def rows(learners: list[Learner], seconds: float, cpus: int, cpu_use: dict[str, str]) -> dict[str, str]:
    table = dict(learner_rows(learners, seconds))
    jobs = sum(len(learner.check_waits) for learner in learners) + sum(
        learner.training_seconds is not None for learner in learners
    )
    table["jobs finished"] = str(jobs)
    table["worker CPUs"] = str(cpus)
    table["jobs per minute per worker CPU"] = f"{jobs / seconds * 60 / cpus:.1f}"
    table.update(cpu_use)
    return table


def scaling(results: dict[str, dict[str, str]], counts: list[int]) -> None:
    """Each Ray run's throughput per worker CPU over the smallest cluster's: 1.0 is linear scaling."""
    names = [f"Ray, {n} worker CPU(s)" for n in counts]
    base = float(results[names[0]]["jobs per minute per worker CPU"])
    for name in names:
        per_cpu = float(results[name]["jobs per minute per worker CPU"])
        results[name][f"throughput against linear from {counts[0]} worker CPU(s)"] = f"{per_cpu / base:.2f}x"


@contextlib.contextmanager
def cluster_stopped_at_exit(cluster: LocalCluster) -> Iterator[None]:
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            ray.shutdown()
        cluster.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=4)
    parser.add_argument("--workers", default="1,2", help="worker node counts, one run each (one CPU per node)")
    parser.add_argument("--local-slots", type=int, default=0, help="K of the local run (default: the server's)")
    parser.add_argument("--preset", default="lineworld", help="what each learner trains (fast: CartPole)")
    parser.add_argument("--impl", default="solutions", choices=("solutions", "exercises"))
    parser.add_argument("--kill-after", type=float, default=10.0, help="seconds into the last run; 0: no kill")
    parser.add_argument("--no-local", action="store_true", help="skip the run on the local backend")
    parser.add_argument("--workload", default="classroom", choices=("classroom", "waiting"))
    parser.add_argument("--presses", type=int, default=8, help="waiting: Check presses per learner")
    parser.add_argument("--wait-seconds", type=float, default=1.0, help="waiting: the sleep in each job")
    args = parser.parse_args()
    work = (
        classroom_work(args.preset, args.impl)
        if args.workload == "classroom"
        else waiting_work(args.presses, args.wait_seconds)
    )
    counts = sorted({int(n) for n in args.workers.split(",")})
    results: dict[str, dict[str, str]] = {}
    notes: list[str] = []

    queue = admission()
    if args.local_slots:
        queue.set_slots(args.local_slots)
    if not args.no_local:
        forkserver.fork_server().ready.wait(120)
        learners, seconds, cpu_use = run_class(LocalExecutor(), args.learners, 1, work)
        results[f"local, K = {queue.slots}"] = rows(learners, seconds, queue.slots, cpu_use)
        forkserver.fork_server().close()  # its CPU and memory are not the cluster's

    cluster = LocalCluster()
    with cluster_stopped_at_exit(cluster):
        cluster.start_head()
        ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False, configure_logging=False)
        executor = RayExecutor(cluster.address)
        memory: dict[str, float] = {}
        for index, count in enumerate(counts):
            while cluster.workers < count:
                cluster.add_worker()
            started = time.monotonic()
            while len(executor.nodes()) < count:
                executor.forget_nodes()
                time.sleep(0.5)
            executor.wait_ready()
            notes.append(
                f"{count} worker node(s) ready (actors and warm fork servers) in {time.monotonic() - started:.0f} s"
            )
            learners, seconds, cpu_use = run_class(executor, args.learners, 1000 * (index + 1), work)
            results[f"Ray, {count} worker CPU(s)"] = rows(learners, seconds, count, cpu_use)
            memory = ray_memory()
        if args.kill_after > 0 and counts[-1] >= 2:
            executor.lost.clear()
            killed: list[str] = []

            def killer() -> None:
                time.sleep(args.kill_after)
                busy = []
                for node in executor.nodes():
                    with contextlib.suppress(Exception):
                        running, _ = ray.get(node.actor.load.remote(), timeout=5)
                        if running:
                            busy.append(node.node_id)
                if busy:
                    processes = kill_node(busy[0])
                    killed.append(
                        f"node {busy[0][:6]} killed {args.kill_after:g} s into the run ({processes} processes, SIGKILL)"
                    )

            learners, seconds, cpu_use = run_class(executor, args.learners, 9000, work, killer)
            name = f"Ray, {counts[-1]} worker CPUs, one killed"
            results[name] = rows(learners, seconds, counts[-1], cpu_use)
            results[name]["jobs that lost their node (then ran elsewhere, or failed)"] = str(len(executor.lost))
            notes += killed or ["no node was busy when the killer looked: nothing killed"]
            notes += [f"lost: {text[:160]}" for text in executor.lost]
            notes += [f"FAILURE {text}" for learner in learners for text in learner.failures][:10]

    scaling(results, counts)
    names = list(results)
    measures = list(dict.fromkeys(key for table in results.values() for key in table))
    print()
    print(f"| measure | {' | '.join(names)} |")
    print(f"|---|{'---:|' * len(names)}")
    for measure in measures:
        print(f"| {measure} | {' | '.join(results[name].get(measure, '') for name in names)} |")
    print()
    print("| Ray process group (after the runs) | PSS (MB) |")
    print("|---|---:|")
    for group, value in memory.items():
        print(f"| {group} | {value:.0f} |")
    print()
    for note in notes:
        print("-", note)
    failures = sum(int(table["failures"]) for table in results.values())
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
