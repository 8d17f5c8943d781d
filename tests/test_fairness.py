"""Who gets a free slot: short jobs before long ones, a fair share per learner, no starving a training."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from playground.sandbox.admission import Admission
from playground.sandbox.fairness import AGE_SECONDS, LONG, SHORT, Lane, ServedCount, admission_order


@dataclass
class Waiting:
    owner: Hashable | None
    lane: Lane
    created: float


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
