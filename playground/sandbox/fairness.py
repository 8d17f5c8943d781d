"""The order in which waiting sandbox jobs get a free slot: short jobs first, then a fair share per learner.

First come, first served lets one class's burst of 15-second trainings hold
every slot while a learner's half-second Check waits behind them all. So
:mod:`playground.sandbox.admission` asks :func:`admission_order` which waiting
ticket comes next:

1. the **short lane** (a Check, loading a model: jobs a page waits for) goes
   before the **long lane** (training, the size experiment, the comparison);
2. within the short lane, a job expected to be small (a Check that ran in at
   most :data:`SMALL_JOB_SECONDS` last time, or one never timed) goes before
   a big one (a Check of the training loop, which trains small runs): a
   half-second Check never waits behind a queue of other learners' 8-second
   ones;
3. within that, the learner who has had the fewest jobs admitted lately goes
   first (a fair share: everyone's first Check before anyone's fifth);
4. then first come, first served.

A long job that has waited :data:`AGE_SECONDS` joins the short lane, and a big
short job that has waited as long counts as small, so a steady stream of Checks
cannot starve a training or a big Check. Running jobs are never
preempted. With ``PLAYGROUND_SHORT_SLOTS=N``, short jobs may also take N
slots more than K (:func:`short_extra_slots`, never more than the memory has
room for), so a Check need not wait for a training to end when trainings
hold every slot; it is off by default, because on a loaded machine the extra
job made every job slower (README, "Deploying for a course").
"""

from __future__ import annotations

import os
import time
from collections.abc import Hashable, Iterable
from typing import Literal, Protocol, TypeVar

Lane = Literal["short", "long"]
SHORT: Lane = "short"
LONG: Lane = "long"
AGE_SECONDS = 60.0  # a long job waiting this long is served like a short one
SHORT_SLOTS_ENV = "PLAYGROUND_SHORT_SLOTS"  # slots short jobs may use on top of K (default 0; memory permitting)
SMALL_JOB_SECONDS = 2.0  # a short job expected to take at most this long goes first in the short lane
SERVED_WINDOW_SECONDS = 600.0  # a learner's admitted jobs count for the fair share this long after the last one


class Waiting(Protocol):
    """What the order needs to know of a waiting ticket."""

    @property
    def owner(self) -> Hashable | None: ...

    @property
    def lane(self) -> Lane: ...

    @property
    def created(self) -> float: ...


T = TypeVar("T", bound=Waiting)


class ServedCount:
    """How many jobs each owner had admitted lately (forgotten :data:`SERVED_WINDOW_SECONDS` after the last)."""

    def __init__(self) -> None:
        self._served: dict[Hashable, tuple[int, float]] = {}

    def add(self, owner: Hashable | None, now: float | None = None) -> None:
        if owner is None:
            return
        now = time.monotonic() if now is None else now
        count, _ = self._served.get(owner, (0, now))
        self._served[owner] = (count + 1, now)
        if len(self._served) > 64:
            self.prune(now)

    def prune(self, now: float) -> None:
        for owner in [o for o, (_, last) in self._served.items() if now - last > SERVED_WINDOW_SECONDS]:
            del self._served[owner]

    def __getitem__(self, owner: Hashable | None) -> int:
        if owner is None:
            return 0
        return self._served.get(owner, (0, 0.0))[0]


def admission_order(queue: Iterable[T], served: ServedCount, now: float | None = None) -> list[T]:
    """The waiting tickets in the order they get a free slot (see the module's docstring)."""
    now = time.monotonic() if now is None else now

    def key(ticket: T) -> tuple[int, int, int, float]:
        aged = now - ticket.created >= AGE_SECONDS
        short = ticket.lane == SHORT or aged
        big = short and not aged and float(getattr(ticket, "expected", 0.0)) > SMALL_JOB_SECONDS
        return (0 if short else 1, 1 if big else 0, served[ticket.owner], ticket.created)

    return sorted(queue, key=key)


def short_extra_slots(slots: int, memory_bytes: int | None, server_bytes: int, job_bytes: int) -> int:
    """Slots that only short jobs may take on top of ``slots``: ``PLAYGROUND_SHORT_SLOTS`` (default 0).

    Never more than (memory - server) / job, the rule that sizes K, has room for beyond K.
    """
    try:
        wanted = max(0, int(os.environ.get(SHORT_SLOTS_ENV, "").strip() or 0))
    except ValueError:
        wanted = 0
    if wanted == 0 or memory_bytes is None:
        return wanted
    return max(0, min(wanted, (memory_bytes - server_bytes) // job_bytes - slots))


def slot_limit(lane: Lane, slots: int, extra: int) -> int:
    """How many jobs may run at once for a job of ``lane`` to start: K, or K plus the short jobs' extra slots."""
    return slots + (extra if lane == SHORT else 0)
