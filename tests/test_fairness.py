"""Who gets a free slot: short jobs before long ones, a fair share per learner, no starving a training."""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass

import pytest

from playground.sandbox.admission import Admission
from playground.sandbox.fairness import (
    AGE_SECONDS,
    LONG,
    SHORT,
    SHORT_SLOTS_ENV,
    Lane,
    ServedCount,
    admission_order,
    short_extra_slots,
)


@dataclass
class Waiting:
    owner: Hashable | None
    lane: Lane
    created: float
    expected: float = 0.0  # seconds a job of its kind ran lately (0: never timed)


@pytest.fixture
def no_extra_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHORT_SLOTS_ENV, "0")


@pytest.mark.usefixtures("no_extra_slot")
def test_a_check_goes_before_waiting_trainings() -> None:
    queue = Admission(1)
    training = queue.request("a", LONG)
    other_training = queue.request("b", LONG)
    check = queue.request("c", SHORT)
    assert training.state == "running"
    assert (check.position(), other_training.position()) == (1, 2), "the Check waits behind no training"
    training.release()
    assert check.state == "running"
    assert other_training.position() == 1
    check.release()
    assert other_training.state == "running", "trainings still run once no Check waits"
    assert [lane for lane, _ in queue.lane_waits] == [LONG, SHORT, LONG]


@pytest.mark.usefixtures("no_extra_slot")
def test_everyone_s_first_check_before_anyone_s_next() -> None:
    queue = Admission(1)
    blocker = queue.request("z", LONG)
    busy = [queue.request("busy", SHORT) for _ in range(3)]
    newcomer = queue.request("new", SHORT)
    assert newcomer.position() == 4, "nobody has been served yet: first come, first served"
    blocker.release()
    assert busy[0].state == "running"
    assert newcomer.position() == 1, "now ahead of the second Check of a learner who had one"
    busy[0].release()
    assert newcomer.state == "running", "the learner with fewer jobs served goes first"
    newcomer.release()
    assert busy[1].state == "running"


def test_a_long_wait_puts_a_training_in_the_short_lane() -> None:
    served = ServedCount()

    old_training = Waiting("a", LONG, 0.0)
    fresh_check = Waiting("b", SHORT, 10.0)
    assert admission_order([fresh_check, old_training], served, now=11.0) == [fresh_check, old_training]
    later = AGE_SECONDS + 1.0
    assert admission_order([fresh_check, old_training], served, now=later) == [old_training, fresh_check]


def test_the_fair_share_forgets_old_jobs() -> None:
    served = ServedCount()
    served.add("a", now=0.0)
    served.add("a", now=1.0)
    assert served["a"] == 2
    assert served[None] == 0
    served.prune(now=10_000.0)
    assert served["a"] == 0


def test_a_check_does_not_wait_for_trainings_that_hold_every_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHORT_SLOTS_ENV, "1")
    queue = Admission(2)
    trainings = [queue.request(owner, LONG) for owner in ("a", "b", "c")]
    assert [t.state for t in trainings] == ["running", "running", "queued"], "long jobs: K at once"
    check = queue.request("d", SHORT)
    assert check.state == "running", "a Check takes the short jobs' extra slot"
    second_check = queue.request("e", SHORT)
    assert second_check.position() == 1, "one extra slot, not more"
    check.release()
    assert second_check.state == "running"
    second_check.release()
    assert trainings[2].state == "queued", "the extra slot never runs a training"
    trainings[0].release()
    assert trainings[2].state == "running"


def test_the_extra_slot_needs_room_for_one_more_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SHORT_SLOTS_ENV, raising=False)
    mb = 1024 * 1024
    assert short_extra_slots(2, 2700 * mb, 700 * mb, 250 * mb) == 0, "off by default"
    monkeypatch.setenv(SHORT_SLOTS_ENV, "1")
    assert short_extra_slots(1, 1024 * mb, 700 * mb, 250 * mb) == 0, "a 1 GB Community Cloud container: K = 1 only"
    assert short_extra_slots(2, 2700 * mb, 700 * mb, 250 * mb) == 1


def test_a_small_check_goes_before_other_learners_big_checks_until_they_have_waited_long() -> None:
    """Within the short lane, a Check expected to take a moment goes before the 8-second ones of learners with
    fewer jobs served; a big one that has waited AGE_SECONDS counts as small again."""
    served = ServedCount()
    served.add("fast learner", now=0.0)
    served.add("fast learner", now=0.0)
    big = Waiting("slow learner", SHORT, created=1.0, expected=8.0)
    small = Waiting("fast learner", SHORT, created=2.0, expected=0.4)
    never_timed = Waiting("fast learner", SHORT, created=3.0)
    assert admission_order([big, small, never_timed], served, now=4.0) == [small, never_timed, big]
    assert admission_order([big, small], served, now=1.0 + AGE_SECONDS) == [big, small]


@pytest.mark.usefixtures("no_extra_slot")
def test_the_admission_learns_how_long_each_kind_of_job_runs() -> None:
    queue = Admission(1)
    first = queue.request("a", SHORT, kind="checks:train_dqn")
    assert first.expected == 0.0, "never timed: counts as small"
    assert first.wait(1.0)
    time.sleep(0.05)
    first.release()
    assert queue.expected_seconds("checks:train_dqn") >= 0.05
    assert queue.request("b", SHORT, kind="checks:train_dqn").expected >= 0.05
    assert queue.expected_seconds("checks:q_network") == 0.0


@pytest.mark.usefixtures("no_extra_slot")
def test_a_ticket_queued_before_its_kind_was_timed_learns_the_time_while_it_waits() -> None:
    """In a burst every learner queues a train_dqn Check before the first one finished: once it has, the
    waiting ones count as big, and a small Check pressed later goes before them."""
    queue = Admission(1)
    running = queue.request("a", SHORT, kind="checks:train_dqn")
    assert running.wait(1.0)
    waiting_big = queue.request("b", SHORT, kind="checks:train_dqn")
    assert waiting_big.expected == 0.0
    queue._durations["checks:q_network"] = 0.3  # a small kind timed earlier
    small = queue.request("c", SHORT, kind="checks:q_network")
    assert waiting_big.position() == 1, "neither is timed as big yet: first come, first served"
    queue._durations["checks:train_dqn"] = 8.0  # as if the first train_dqn Check had run 8 s
    assert waiting_big.expected == 8.0
    assert small.position() == 1, "the small Check now goes first"
