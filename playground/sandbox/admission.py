"""Server-wide admission control: at most K sandbox jobs at once, the rest wait in a FIFO queue.

Every job (a Check of one exercise, a training, an experiment) asks for a
:class:`Ticket` first and starts its sandbox child only once the ticket is
admitted. At most ``slots`` tickets run at once, and at most one per owner
(a browser session): a session's second job waits until its first is done,
even when a slot is free. A free slot goes to the waiting ticket that
:func:`playground.sandbox.fairness.admission_order` puts first: short jobs (a
Check) before long ones (a training), then a fair share per learner. Waiting
tickets know their 1-based place in that order, which the pages show ("You
are number 2 in the queue"), and can be cancelled. An admitted ticket also gets
a CPU (:attr:`Ticket.cpu`): the one of this process's CPUs that the fewest
running tickets hold, so K jobs pinned to their CPUs
(:func:`playground.sandbox.hardening.pin_to_cpu`) use at most K cores (on a
Ray node that shares its host, the least busy of those, :attr:`Admission.shares_host`).

``K`` defaults to what the machine can hold (:func:`default_slots`: the CPU
count, and the memory available divided by what one job needs), and can be
set with the environment variable ``PLAYGROUND_MAX_JOBS`` (or the Streamlit
secret of the same name, which :mod:`playground.ui.startup` passes on).
"""

from __future__ import annotations

import contextlib
import heapq
import os
import threading
import time
from collections.abc import Hashable
from pathlib import Path

from playground.sandbox.fairness import (
    LONG,
    SHORT,
    Lane,
    ServedCount,
    admission_order,
    short_extra_slots,
    slot_limit,
)

SLOTS_ENV = "PLAYGROUND_MAX_JOBS"
# Measured (PSS, see benchmarks/bench_classroom.py): a warm child training the `fast` preset.
JOB_MEMORY_BYTES = 250 * 1024 * 1024
# The Streamlit server and the fork server themselves.
SERVER_MEMORY_BYTES = 700 * 1024 * 1024


def _memory_limit_bytes() -> int | None:
    """The container's memory limit (cgroup v2 or v1), or the machine's total memory."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError):
            text = Path(path).read_text().strip()
            if text != "max" and int(text) < 1 << 60:
                return int(text)
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return None


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _usable_cpus() -> list[int]:
    """The CPUs this process may run on (empty where the platform cannot pin a process)."""
    if not hasattr(os, "sched_getaffinity"):
        return []
    return sorted(os.sched_getaffinity(0))


def cpu_busy_ticks() -> dict[int, int]:
    """Per CPU, the clock ticks it has spent busy since boot, host-wide (``/proc/stat``; empty elsewhere)."""
    busy: dict[int, int] = {}
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/stat").read_text(encoding="ascii").splitlines():
            name, *fields = line.split()
            if name.startswith("cpu") and name[3:].isdigit():
                ticks = [int(field) for field in fields]
                busy[int(name[3:])] = sum(ticks[:8]) - ticks[3] - ticks[4]  # all but idle and iowait
    return busy


def default_slots() -> int:
    """min(cores, (memory - server) / job), at least 1."""
    slots = _cores()
    memory = _memory_limit_bytes()
    if memory is not None:
        slots = min(slots, (memory - SERVER_MEMORY_BYTES) // JOB_MEMORY_BYTES)
    return max(1, int(slots))


def configured_slots() -> int:
    """``PLAYGROUND_MAX_JOBS`` from the environment, else :func:`default_slots`.

    (The UI also reads a Streamlit secret of the same name and calls :meth:`Admission.set_slots`.)
    """
    value = os.environ.get(SLOTS_ENV, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            pass
    return default_slots()


# How long a job runs before one of its kind (or lane) has been timed here.
FIRST_GUESS_SECONDS: dict[Lane, float] = {SHORT: 1.0, LONG: 30.0}


def _lane_key(lane: Lane) -> str:
    """The duration key of the jobs of ``lane`` that name no kind (tasks)."""
    return f"lane:{lane}"


class Ticket:
    """One job's place: queued, then running, then done (or cancelled)."""

    def __init__(
        self, admission: Admission, owner: Hashable | None, lane: Lane = LONG, kind: str | None = None
    ) -> None:
        self._admission = admission
        self.owner = owner
        self.lane = lane
        self.kind = kind  # what runs ("checks:train_dqn"): jobs of one kind take about as long as each other
        self.state = "queued"
        self.created = time.monotonic()
        self.admitted_at: float | None = None
        self.cpu: int | None = None  # handed out on admission; the job pins itself to it

    @property
    def expected(self) -> float:
        """How long the latest jobs of this kind ran (0.0: never timed), read when the queue is ordered: in a
        burst, tickets queued before the first job of their kind finished learn its time while they wait."""
        return self._admission.expected_seconds(self.kind)

    @property
    def waited(self) -> float:
        """Seconds spent in the queue (so far, if still queued)."""
        return (self.admitted_at or time.monotonic()) - self.created

    def position(self) -> int | None:
        """1-based place in the queue; ``None`` once running, done or cancelled."""
        return self._admission.position(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until admitted; ``True`` when running, ``False`` on timeout or when cancelled."""
        return self._admission.wait(self, timeout)

    def cancel(self) -> None:
        self._admission.release(self, cancelled=True)

    def release(self) -> None:
        self._admission.release(self)


class Admission:
    """The queue and its K slots. Thread-safe; one per server process (see :func:`admission`)."""

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._changed = threading.Condition()
        self._queue: list[Ticket] = []
        self._running: list[Ticket] = []
        self._served = ServedCount()
        self._memory = _memory_limit_bytes()
        self.waits: list[float] = []  # seconds each admitted ticket waited (for benchmarks)
        self.lane_waits: list[tuple[Lane, float]] = []  # the same, with the ticket's lane
        self.cpus = _usable_cpus()
        self._durations: dict[str, float] = {}  # kind -> seconds its jobs ran (a moving average)
        # Off for a server, which owns its machine's cores. On for a Ray node, which may share its host with other
        # nodes whose jobs it cannot see: among CPUs that its own jobs hold equally, it then takes the one that
        # was least busy host-wide since its last admission, so two one-CPU nodes on a host do not both pin to 0.
        self.shares_host = False
        self._busy_seen = cpu_busy_ticks()

    def set_slots(self, slots: int) -> None:
        with self._changed:
            self.slots = max(1, slots)
            self._admit()

    def expected_seconds(self, kind: str | None) -> float:
        """How long a job of ``kind`` ran lately (0.0 when never timed: then it counts as small)."""
        return self._durations.get(kind, 0.0) if kind is not None else 0.0

    def request(self, owner: Hashable | None = None, lane: Lane = LONG, kind: str | None = None) -> Ticket:
        ticket = Ticket(self, owner, lane, kind)
        with self._changed:
            self._queue.append(ticket)
            self._admit()
        return ticket

    def _admit(self) -> None:
        busy_owners = {t.owner for t in self._running if t.owner is not None}
        extra = short_extra_slots(self.slots, self._memory, SERVER_MEMORY_BYTES, JOB_MEMORY_BYTES)
        for ticket in admission_order(self._queue, self._served):
            if len(self._running) >= self.slots + extra:
                break
            if len(self._running) >= slot_limit(ticket.lane, self.slots, extra):
                continue
            if ticket.owner is not None and ticket.owner in busy_owners:
                continue
            self._queue.remove(ticket)
            self._running.append(ticket)
            ticket.state = "running"
            ticket.admitted_at = time.monotonic()
            ticket.cpu = self._free_cpu()
            self.waits.append(ticket.waited)
            self.lane_waits.append((ticket.lane, ticket.waited))
            self._served.add(ticket.owner, ticket.admitted_at)
            if ticket.owner is not None:
                busy_owners.add(ticket.owner)
        self._changed.notify_all()

    def _free_cpu(self) -> int | None:
        """The usable CPU held by the fewest running tickets (among equals: the least busy host-wide lately when
        :attr:`shares_host`, then the lowest number)."""
        if not self.cpus:
            return None
        held = [t.cpu for t in self._running]
        lately: dict[int, int] = {}
        if self.shares_host:
            now = cpu_busy_ticks()
            lately = {cpu: ticks - self._busy_seen.get(cpu, 0) for cpu, ticks in now.items()}
            self._busy_seen = now
        return min(self.cpus, key=lambda cpu: (held.count(cpu), lately.get(cpu, 0), cpu))

    def _lasts(self, ticket: Ticket) -> float:
        """How long ``ticket``'s job should run: its kind's recent time, else its lane's, else a first guess."""
        for key in (ticket.kind, _lane_key(ticket.lane)):
            if key is not None and self._durations.get(key, 0.0) > 0.0:
                return self._durations[key]
        return FIRST_GUESS_SECONDS[ticket.lane]

    def expected_wait(self, lane: Lane = LONG, kind: str | None = None, owner: Hashable | None = None) -> float:
        """Seconds until a job of ``lane`` and ``kind`` queued now would get a slot here: an estimate from how long
        jobs of each kind ran lately. The slots free as the running jobs end (what each has left of its expected
        time); the queued jobs that the admission order puts first take them in turn (list scheduling)."""
        with self._changed:
            now = time.monotonic()
            probe = Ticket(self, owner, lane, kind)
            limit = slot_limit(
                lane, self.slots, short_extra_slots(self.slots, self._memory, SERVER_MEMORY_BYTES, JOB_MEMORY_BYTES)
            )
            left = sorted(
                max(self._lasts(t) - (now - (t.admitted_at or now)), 0.1 * self._lasts(t)) for t in self._running
            )
            running = len(left)
            free_at = [0.0] * max(0, limit - running) + left[max(0, running - limit) :]
            heapq.heapify(free_at)
            for ticket in admission_order([*self._queue, probe], self._served, now):
                if ticket is probe:
                    break
                heapq.heappush(free_at, heapq.heappop(free_at) + self._lasts(ticket))
            return free_at[0] if free_at else 0.0

    def position(self, ticket: Ticket) -> int | None:
        with self._changed:
            if ticket.state != "queued":
                return None
            return admission_order(self._queue, self._served).index(ticket) + 1

    def wait(self, ticket: Ticket, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while ticket.state == "queued":
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return ticket.state == "running"

    def release(self, ticket: Ticket, cancelled: bool = False) -> None:
        with self._changed:
            if ticket in self._queue:
                self._queue.remove(ticket)
                ticket.state = "cancelled"
            elif ticket in self._running:
                if cancelled:
                    return  # a running job is stopped by its owner, which then releases it
                self._running.remove(ticket)
                ticket.state = "done"
                if ticket.admitted_at is not None:
                    ran = time.monotonic() - ticket.admitted_at
                    key = ticket.kind if ticket.kind is not None else _lane_key(ticket.lane)
                    old = self._durations.get(key)
                    self._durations[key] = ran if old is None else 0.5 * old + 0.5 * ran
            self._admit()

    def snapshot(self) -> tuple[int, int]:
        """(running, queued) right now."""
        with self._changed:
            return len(self._running), len(self._queue)


_admission: Admission | None = None
_admission_lock = threading.Lock()


def admission() -> Admission:
    """The process-wide admission control, sized by :func:`configured_slots` on first use."""
    global _admission
    with _admission_lock:
        if _admission is None:
            _admission = Admission(configured_slots())
        return _admission
