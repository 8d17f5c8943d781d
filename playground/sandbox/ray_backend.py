"""Sandbox jobs on a Ray cluster: every worker node runs the same queue and warm fork server as one container.

On each alive node of the cluster that has CPUs, one detached actor
(:class:`SandboxNode`, named after the node and shared by every app replica)
holds what a single container has: the admission queue sized to the node's
CPUs (short jobs first, a fair share per learner), and the warm fork server.
A job is a call of that actor's streaming generator :meth:`SandboxNode.run`:
the node's runner (:mod:`playground.sandbox.runner`) forks a sandbox child
with every limit of the sandbox (Ray's resources only schedule, they limit
nothing), and the child's messages stream back, already checked by the safe
unpickler on the node. Stop and Cancel are calls of :meth:`SandboxNode.control`,
which signals the job's child on its node.

:class:`RayExecutor` is the app's side. It sends each job to the node with the
least work per CPU. When the node (or its actor) dies mid-job, the job starts
again on another node (checks: only those without a result), at most
:data:`ATTEMPTS` times, then fails with a message that says what happened; a
page never waits on a dead node.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from playground.checks import CheckResult, checks_for
from playground.sandbox import forkserver, runner
from playground.sandbox.admission import admission
from playground.sandbox.fairness import LONG, SHORT, Lane
from playground.sandbox.runner import TaskOutcome

NAMESPACE = "playground"
ACTOR_PREFIX = "playground-sandbox-"
ATTEMPTS = 3  # a job whose node dies starts again on another node, this many tries in all
CANCEL_POLL_SECONDS = 0.2  # how often a Check that can be cancelled looks at its cancel event
HEARTBEAT_SECONDS = 0.25
NODE_REFRESH_SECONDS = 5.0  # how long the list of sandbox nodes is kept before asking the cluster again
NODE_START_SECONDS = 120.0  # a new node's actor imports torch before it answers
LOAD_SECONDS = 2.0  # how long the other nodes get to say how busy they are, once one has
MAX_CONCURRENCY = 512  # actor threads: every running or queued job of the node holds one
NODE_LOST = (
    "the cluster machine running this job went away ({reason}), and no other machine could finish it; "
    "please run it again"
)


@dataclass(frozen=True)
class NodeJob:
    """One job for a node: an exercise's checks, or a task."""

    kind: str  # "checks" or "task"
    owner: Any = None  # the browser session (one running job per session on a node)
    lane: Lane = LONG
    sources: dict[str, str] = field(default_factory=dict)
    exercise: str = ""
    impl: str = "exercises"
    names: tuple[str, ...] = ()
    target: str = ""
    timeout: float = 600.0
    kwargs: dict[str, Any] = field(default_factory=dict)


class _Cancelled(Exception):
    """Raised in a queued Check's place-in-queue callback on its node: the learner cancelled it."""


# --- the node's side ----------------------------------------------------------------------------


class SandboxNode:
    """The actor on one node: its queue, its warm fork server, and the jobs sent to it."""

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        admission().set_slots(self.slots)
        admission().shares_host = True  # other nodes may run on this host: pin jobs away from their busy cores
        self.node_id = ray.get_runtime_context().get_node_id()
        self._lock = threading.Lock()
        self._handles: dict[str, runner.TaskHandle] = {}
        self._cancelled_checks: set[str] = set()
        self._early: dict[str, tuple[str, float, float]] = {}  # control that came before its job
        runner.warm_up()

    def info(self) -> dict[str, Any]:
        """Who this is; answers once the warm fork server is ready (or could not start)."""
        ready = True
        if forkserver.enabled():
            ready = forkserver.fork_server().ready.wait(NODE_START_SECONDS)
        return {
            "node_id": self.node_id,
            "slots": self.slots,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "warm": ready,
        }

    def load(self) -> tuple[int, int]:
        """(running, queued) jobs on this node."""
        return admission().snapshot()

    def expected_wait(self, lane: Lane, kind: str | None, owner: Any = None) -> tuple[float, int, int]:
        """Seconds a job of ``lane`` and ``kind`` queued now would wait here for a slot (an estimate), and
        (running, queued)."""
        queue = admission()
        return (queue.expected_wait(lane, kind, owner), *queue.snapshot())

    def control(self, job_id: str, action: str, grace: float = 10.0) -> None:
        """Stop (``action`` "stop", keeping what was learned) or cancel a job of this node."""
        with self._lock:
            handle = self._handles.get(job_id)
            if handle is None:
                if action == "cancel":
                    self._cancelled_checks.add(job_id)
                now = time.monotonic()
                self._early = {k: v for k, v in self._early.items() if now - v[2] < 3600}
                self._early[job_id] = (action, grace, now)
                return
        _apply(handle, action, grace)

    def run(self, job_id: str, job: NodeJob) -> Iterator[Any]:
        """Run one job; stream ``("queued", n)``, ``("running",)``, its messages, then its end."""
        events: queue.Queue[tuple[Any, ...]] = queue.Queue()
        yield ("node", self.node_id)
        polled: list[float] = []  # when a queued Check last heard its place (every QUEUE_POLL_SECONDS)
        if job.kind == "checks":
            worker = threading.Thread(target=self._checks, args=(job_id, job, events, polled), daemon=True)
        else:
            with runner.job_owner(job.owner):
                handle = runner.start_task(job.target, job.timeout, sources=job.sources, lane=job.lane, **job.kwargs)
            with self._lock:
                self._handles[job_id] = handle
                early = self._early.pop(job_id, None)
            if early is not None:
                _apply(handle, early[0], early[1])
            worker = threading.Thread(target=_drive, args=(handle, events), daemon=True)
        worker.start()
        try:
            while True:
                try:
                    item = events.get(timeout=runner.QUEUE_POLL_SECONDS)
                except queue.Empty:
                    if polled and time.monotonic() - polled[-1] > 2 * runner.QUEUE_POLL_SECONDS:
                        polled.clear()  # a queued Check no longer hears its place: it was admitted
                        yield ("running",)
                    continue
                yield item
                if item[0] in ("checks", "outcome", "error"):
                    return
        finally:
            with self._lock:
                self._handles.pop(job_id, None)
                self._cancelled_checks.discard(job_id)
                self._early.pop(job_id, None)

    def _checks(self, job_id: str, job: NodeJob, events: queue.Queue[tuple[Any, ...]], polled: list[float]) -> None:
        shown: list[int] = []

        def on_queue(position: int) -> None:
            polled[:] = [time.monotonic()]
            with self._lock:
                if job_id in self._cancelled_checks:
                    raise _Cancelled
            if not shown or shown[-1] != position:
                shown.append(position)
                events.put(("queued", position))

        def on_result(result: CheckResult) -> None:
            events.put(("result", result))

        try:
            with runner.job_owner(job.owner):
                results = runner.run_checks(
                    job.exercise, job.impl, job.names or None, on_result, sources=job.sources, on_queue=on_queue
                )
            events.put(("checks", results))
        except _Cancelled:
            events.put(("error", "cancelled while waiting in the queue"))
        except Exception as err:  # noqa: BLE001 - the node reports, the app decides
            events.put(("error", f"the checks could not run: {type(err).__name__}: {err}"))


def _apply(handle: runner.TaskHandle, action: str, grace: float) -> None:
    if action == "stop":
        handle.stop(grace=grace)
    else:
        handle.cancel()


def _drive(handle: runner.TaskHandle, events: queue.Queue[tuple[Any, ...]]) -> None:
    """Run a task's handle on its node, turning heartbeats into queue/running news."""
    last: int | str | None = "unknown"
    try:
        for message in handle.progress():
            if message is None:
                position = handle.queue_position()
                if position != last:
                    last = position
                    events.put(("queued", position) if position is not None else ("running",))
                continue
            if last is not None:
                last = None
                events.put(("running",))
            events.put(("progress", message))
        events.put(("outcome", handle.outcome or TaskOutcome(error="the task ended without an outcome")))
    except Exception as err:  # noqa: BLE001
        events.put(("error", f"the task could not be driven on its node: {type(err).__name__}: {err}"))


# --- the app's side -----------------------------------------------------------------------------


class NoSandboxNode(RuntimeError):
    """The cluster has no alive node with a CPU to run sandbox jobs on."""


@dataclass
class _Node:
    node_id: str
    slots: int
    actor: Any


class _Stream:
    """One attempt of a job on one node: a thread reads the node's stream into a queue."""

    def __init__(self, node: _Node, job_id: str, job: NodeJob) -> None:
        self.node = node
        self.job_id = job_id
        self.events: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._generator = node.actor.run.remote(job_id, job)
        threading.Thread(target=self._read, name=f"ray-job-{job_id[:8]}", daemon=True).start()

    def _read(self) -> None:
        try:
            for ref in self._generator:
                item = ray.get(ref)
                self.events.put(item)
                if item[0] in ("checks", "outcome", "error"):
                    return
            self.events.put(("lost", "the node ended the job without a result"))
        except ray.exceptions.RayTaskError as err:
            self.events.put(("error", f"the cluster node failed to run the job: {err}"))
        except ray.exceptions.RayError as err:
            self.events.put(("lost", _describe(err)))
        except Exception as err:  # noqa: BLE001 - whatever broke, the job must end
            self.events.put(("lost", f"{type(err).__name__}: {err}"))

    def next(self, timeout: float = HEARTBEAT_SECONDS) -> tuple[Any, ...] | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def control(self, action: str, grace: float = 10.0) -> None:
        with contextlib.suppress(Exception):
            self.node.actor.control.remote(self.job_id, action, grace)
        if action == "cancel":
            with contextlib.suppress(Exception):
                ray.cancel(self._generator)  # still waiting in Ray's own queue: leave it


def _describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:200]}" if text else type(err).__name__


class RayTaskHandle:
    """A task on the cluster, with the face of :class:`playground.sandbox.runner.TaskHandle`."""

    def __init__(self, backend: RayExecutor, job: NodeJob) -> None:
        self.timeout = job.timeout
        self.started = time.monotonic()
        self.outcome: TaskOutcome | None = None
        self.restarts: list[str] = []  # why the job started again on another node
        self._backend = backend
        self._job = job
        self._lock = threading.Lock()
        self._position: int | None = None
        self._control: tuple[str, float] | None = None
        self._stream: _Stream | None = None
        self._lost: set[str] = set()
        self._stream = self._submit()

    def _submit(self) -> _Stream | None:
        try:
            node = self._backend.pick_node(exclude=self._lost, job=self._job)
        except Exception as err:  # noqa: BLE001 - no cluster, no node: the job fails, saying why
            reason = "; ".join(self.restarts) or _describe(err)
            self.outcome = TaskOutcome(
                error=NODE_LOST.format(reason=reason)
                if self.restarts
                else f"the cluster could not take the job: {_describe(err)}"
            )
            return None
        stream = _Stream(node, uuid.uuid4().hex, self._job)
        with self._lock:
            control = self._control
        if control is not None:
            stream.control(*control)
        return stream

    def queue_position(self) -> int | None:
        return None if self.outcome is not None else self._position

    @property
    def queued(self) -> bool:
        return self.queue_position() is not None

    def progress(self) -> Iterator[Any]:
        while self.outcome is None:
            stream = self._stream
            if stream is None:
                return
            item = stream.next()
            if item is None:
                yield None
                continue
            kind = item[0]
            if kind == "queued":
                self._position = item[1]
                yield None
            elif kind == "running":
                self._position = None
                self.started = time.monotonic()
            elif kind == "progress":
                self._position = None
                yield item[1]
            elif kind == "outcome":
                outcome: TaskOutcome = item[1]
                if self.restarts:
                    note = "started again on another machine: " + "; ".join(self.restarts)
                    outcome.output = f"{note}\n{outcome.output}".strip()
                self.outcome = outcome
            elif kind == "error":
                self.outcome = TaskOutcome(error=str(item[1]), cancelled=self._control_action() == "cancel")
            elif kind == "lost":
                self._lost.add(stream.node.node_id)
                self.restarts.append(str(item[1]))
                self._backend.lost.append(f"task {self._job.target}: {item[1]}")
                self._backend.forget_nodes()
                if self._control_action() == "cancel":
                    self.outcome = TaskOutcome(error="cancelled", cancelled=True)
                elif self._control_action() == "stop" or len(self.restarts) >= ATTEMPTS:
                    self.outcome = TaskOutcome(error=NODE_LOST.format(reason="; ".join(self.restarts)))
                else:
                    self._position = None
                    self._stream = self._submit()

    def _control_action(self) -> str:
        with self._lock:
            return self._control[0] if self._control is not None else ""

    def _send(self, action: str, grace: float) -> None:
        with self._lock:
            if self._control is not None and self._control[0] == "cancel":
                return
            self._control = (action, grace)
            stream = self._stream
        if stream is not None:
            stream.control(action, grace)

    def stop(self, grace: float = 10.0) -> None:
        self._send("stop", grace)

    def cancel(self) -> None:
        self._send("cancel", 0.0)

    def wait(self) -> TaskOutcome:
        for _ in self.progress():
            pass
        assert self.outcome is not None
        return self.outcome


class RayExecutor:
    """Jobs on the Ray cluster at ``address`` (connected on first use; ``ray.init`` done by the caller is kept)."""

    name = "ray"

    def __init__(self, address: str | None, runtime_env: Mapping[str, Any] | None = None) -> None:
        self.address = address
        self.runtime_env = dict(runtime_env or {})
        self._lock = threading.Lock()
        self._nodes: list[_Node] = []
        self._nodes_at = 0.0
        self.lost: list[str] = []  # each time a node went away with a job (benchmarks report it)

    def _connect(self) -> None:
        if not ray.is_initialized():
            ray.init(
                address=self.address,
                namespace=NAMESPACE,
                log_to_driver=False,
                configure_logging=False,
                ignore_reinit_error=True,
            )

    def nodes(self) -> list[_Node]:
        """The cluster's sandbox nodes (alive, with a CPU), each with its actor (created on first use)."""
        with self._lock:
            if self._nodes and time.monotonic() - self._nodes_at < NODE_REFRESH_SECONDS:
                return list(self._nodes)
            self._connect()
            found: list[_Node] = []
            for info in ray.nodes():  # type: ignore[no-untyped-call]
                cpus = int(info.get("Resources", {}).get("CPU", 0))
                if not info.get("Alive") or cpus < 1:
                    continue
                node_id = str(info["NodeID"])
                actor = (
                    ray.remote(SandboxNode)
                    .options(
                        name=ACTOR_PREFIX + node_id,
                        namespace=NAMESPACE,
                        lifetime="detached",
                        get_if_exists=True,
                        num_cpus=cpus,
                        max_concurrency=MAX_CONCURRENCY,
                        max_restarts=0,
                        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
                        runtime_env=self.runtime_env or None,
                    )
                    .remote(cpus)
                )
                found.append(_Node(node_id, cpus, actor))
            self._nodes = found
            self._nodes_at = time.monotonic()
            return list(found)

    def forget_nodes(self) -> None:
        with self._lock:
            self._nodes_at = 0.0

    def pick_node(self, exclude: set[str] | frozenset[str] = frozenset(), job: NodeJob | None = None) -> _Node:
        """The alive node where ``job`` should start soonest (``exclude``: nodes that lost this job already).

        Each node estimates when a job of this lane and kind would get a slot there (its running jobs' expected
        remaining time, then the queued jobs that go first: :meth:`Admission.expected_wait`); among equal
        estimates, the least work per CPU. A job is bound to its node when it is sent, so a small Check sent to
        a node whose slot holds a minute-long training would wait there while another node's Check ends.
        """
        nodes = [node for node in self.nodes() if node.node_id not in exclude]
        if not nodes:
            self.forget_nodes()
            nodes = [node for node in self.nodes() if node.node_id not in exclude]
        lane: Lane = job.lane if job is not None else LONG
        kind = (f"checks:{job.exercise}" if job.kind == "checks" else None) if job is not None else None
        owner = job.owner if job is not None else None
        refs = {node.node_id: node.actor.expected_wait.remote(lane, kind, owner) for node in nodes}
        # The first answer may wait for a new node's actor to start; then the others get a moment more
        # (a node that went away and is not yet known to be dead must not hold every job up).
        ready, pending = ray.wait(list(refs.values()), num_returns=1, timeout=NODE_START_SECONDS)
        if pending:
            more, _ = ray.wait(pending, num_returns=len(pending), timeout=LOAD_SECONDS)
            ready += more
        best: tuple[tuple[float, float], _Node] | None = None
        for node in nodes:
            ref = refs[node.node_id]
            if ref not in ready:
                continue
            try:
                wait, running, queued = ray.get(ref)
            except ray.exceptions.RayError:
                self.forget_nodes()
                continue
            score = (round(wait, 1), (running + queued) / node.slots)
            if best is None or score < best[0]:
                best = (score, node)
        if best is None:
            raise NoSandboxNode("the Ray cluster has no alive node with a CPU for sandbox jobs")
        return best[1]

    def run_checks(
        self,
        exercise: str,
        impl: str = "exercises",
        names: Sequence[str] | None = None,
        on_result: Callable[[CheckResult], None] | None = None,
        *,
        sources: Mapping[str, str] | None = None,
        on_queue: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[CheckResult]:
        specs = [spec.name for spec in checks_for(exercise)]
        if names is not None:
            unknown = sorted(set(names) - set(specs))
            if unknown:
                raise ValueError(f"unknown check(s) for {exercise}: {', '.join(unknown)}")
            specs = [name for name in specs if name in names]
        results: list[CheckResult] = []
        lost: list[str] = []
        tried: set[str] = set()
        owner = runner.current_owner()
        while True:
            remaining = tuple(name for name in specs if name not in {r.check for r in results})
            if not remaining:
                return results
            if len(lost) >= ATTEMPTS:
                break
            job = NodeJob("checks", owner, SHORT, dict(sources or {}), exercise, impl, remaining)
            try:
                node = self.pick_node(exclude=tried, job=job)
            except Exception as err:  # noqa: BLE001 - reported as failed checks below
                lost.append(_describe(err))
                break
            stream = _Stream(node, uuid.uuid4().hex, job)
            position: int | None = None
            try:
                while True:
                    item = stream.next(CANCEL_POLL_SECONDS if cancel is not None else HEARTBEAT_SECONDS)
                    if cancel is not None and cancel.is_set():
                        raise runner.CheckCancelled(results)  # the handler below leaves the node's queue
                    if item is None:
                        if position is not None and on_queue is not None:
                            on_queue(position)  # where a Cancel click interrupts, as on one machine
                        continue
                    kind = item[0]
                    if kind == "queued":
                        position = item[1]
                        if on_queue is not None and position is not None:
                            on_queue(position)
                    elif kind == "running":
                        position = None
                    elif kind == "result":
                        position = None
                        results.append(item[1])
                        if on_result is not None:
                            on_result(item[1])
                    elif kind == "checks":
                        return results
                    elif kind == "error":
                        raise RuntimeError(str(item[1]))
                    elif kind == "lost":
                        tried.add(node.node_id)
                        lost.append(str(item[1]))
                        self.lost.append(f"checks of {exercise}: {item[1]}")
                        self.forget_nodes()
                        break
            except BaseException:
                stream.control("cancel")  # a Cancel click (a rerun) while queued: leave the node's queue
                raise
        message = "not run: " + NODE_LOST.format(reason="; ".join(lost) or "no node")
        for name in specs:
            if name not in {r.check for r in results}:
                result = CheckResult(exercise, name, False, message)
                results.append(result)
                if on_result is not None:
                    on_result(result)
        return results

    def start_task(
        self,
        target: str,
        timeout: float = 600.0,
        *,
        sources: Mapping[str, str] | None = None,
        lane: Lane = LONG,
        **kwargs: Any,
    ) -> RayTaskHandle:
        job = NodeJob(
            "task",
            runner.current_owner(),
            lane,
            dict(sources or {}),
            target=target,
            timeout=timeout,
            kwargs=dict(kwargs),
        )
        return RayTaskHandle(self, job)

    def warm_up(self) -> None:
        """Start every node's actor and warm fork server, in the background (the first page calls it)."""

        def warm() -> None:
            with contextlib.suppress(Exception):
                ray.get([node.actor.info.remote() for node in self.nodes()], timeout=NODE_START_SECONDS)

        threading.Thread(target=warm, name="ray-warm-up", daemon=True).start()

    def wait_ready(self, timeout: float = NODE_START_SECONDS) -> list[dict[str, Any]]:
        """Every sandbox node's :meth:`SandboxNode.info`, once its fork server is warm (tests, benchmarks)."""
        infos: list[dict[str, Any]] = ray.get([node.actor.info.remote() for node in self.nodes()], timeout=timeout)
        return infos

    def close(self) -> None:
        """Forget the nodes; the connection and the shared node actors stay for the other replicas' jobs."""
        self.forget_nodes()
