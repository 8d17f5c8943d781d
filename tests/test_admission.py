"""The admission control: K slots, a FIFO queue with positions, one running job per session, cancel."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from playground.sandbox import admission as admission_module
from playground.sandbox.admission import Admission, configured_slots, default_slots


def test_k_slots_then_a_fifo_queue_with_positions() -> None:
    queue = Admission(2)
    a, b, c, d = (queue.request(owner) for owner in ("a", "b", "c", "d"))
    assert (a.state, b.state) == ("running", "running")
    assert (c.position(), d.position()) == (1, 2)
    assert a.position() is None
    a.release()
    assert c.state == "running"
    assert d.position() == 1
    assert queue.snapshot() == (2, 1)


def test_one_running_job_per_session() -> None:
    queue = Admission(3)
    first = queue.request("session")
    second = queue.request("session")  # the same browser session: waits although a slot is free
    other = queue.request("other")
    assert first.state == "running"
    assert second.state == "queued"
    assert other.state == "running", "another session is not held up by it"
    first.release()
    assert second.state == "running"


def test_cancel_leaves_the_queue_and_wakes_the_waiter() -> None:
    queue = Admission(1)
    running = queue.request("a")
    waiting = queue.request("b")
    behind = queue.request("c")
    admitted: list[bool] = []
    thread = threading.Thread(target=lambda: admitted.append(waiting.wait(10)))
    thread.start()
    waiting.cancel()
    thread.join(10)
    assert admitted == [False]
    assert waiting.state == "cancelled"
    assert behind.position() == 1
    running.cancel()  # cancelling a running ticket is its owner's business: it stays until released
    assert running.state == "running"
    running.release()
    assert behind.state == "running"
    assert len(queue.waits) == 2


def test_slots_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(admission_module.SLOTS_ENV, "3")
    assert configured_slots() == 3
    monkeypatch.setenv(admission_module.SLOTS_ENV, "not a number")
    assert configured_slots() == default_slots()
    monkeypatch.delenv(admission_module.SLOTS_ENV)
    assert 1 <= default_slots() <= (len(__import__("os").sched_getaffinity(0)) or 1)


def test_a_task_waits_for_a_slot_shows_its_place_and_can_be_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    import sandbox_selftest

    from playground.sandbox.child import TEST_MODULES_ENV
    from playground.sandbox.runner import job_owner, start_task

    monkeypatch.setenv(TEST_MODULES_ENV, sandbox_selftest.__name__)
    monkeypatch.setenv("PYTHONPATH", str(Path(sandbox_selftest.__file__).parent))
    monkeypatch.setattr(admission_module, "_admission", Admission(1))
    target = f"{sandbox_selftest.__name__}:until_stopped"
    with job_owner("first learner"):
        running = start_task(target, timeout=60)
    with job_owner("second learner"):
        waiting = start_task(target, timeout=60)
        later = start_task(f"{sandbox_selftest.__name__}:count", timeout=60, n=2)
    assert running.queue_position() is None
    assert waiting.queue_position() == 1
    assert later.queue_position() == 2
    messages = running.progress()
    assert next(message for message in messages if message is not None) == 1, "the first task runs"
    waiting.cancel()
    outcome = waiting.wait()
    assert outcome.cancelled
    assert not outcome.ok
    assert later.queue_position() == 1
    running.stop(grace=10)
    for _ in messages:
        pass
    assert running.outcome is not None
    assert running.outcome.ok, running.outcome.error
    assert running.outcome.stopped
    assert later.wait().value == ["tick 0", "tick 1"], "the next in line runs once the slot is free"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_expected_wait_is_what_the_running_jobs_have_left_then_the_jobs_queued_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a Ray node answers when the driver picks where a job starts soonest (``ray_backend.pick_node``)."""
    clock = Clock()
    monkeypatch.setattr("playground.sandbox.admission.time", SimpleNamespace(monotonic=clock))
    training_node, checks_node = Admission(1), Admission(1)
    assert training_node.expected_wait("short", "checks:q_network") == 0.0, "a free slot: no wait"

    # Each node learns how long its jobs run: a training 60 s, a small Check 0.5 s.
    first = training_node.request("a", "long")
    clock.now += 60.0
    first.release()
    check = checks_node.request("b", "short", "checks:q_network")
    clock.now += 0.5
    check.release()

    training_node.request("c", "long")  # a training holds the one slot
    running = checks_node.request("d", "short", "checks:q_network")  # a Check holds it, two more wait
    queued = [checks_node.request(owner, "short", "checks:q_network") for owner in ("e", "f")]
    assert [t.state for t in (running, *queued)] == ["running", "queued", "queued"]
    clock.now += 10.0
    training_wait = training_node.expected_wait("short", "checks:q_network", "g")
    checks_wait = checks_node.expected_wait("short", "checks:q_network", "g")
    assert training_wait == pytest.approx(50.0), "60 s expected, 10 s run"
    # The running Check overran its 0.5 s: it counts a tenth of it (0.05 s); then the two queued ones (0.5 s each).
    assert checks_wait == pytest.approx(1.05)
    assert checks_wait < training_wait, "so a small Check goes where three small ones are, not behind the training"

    # A queued training goes after a Check (the short lane first), so it does not delay one; it delays a training.
    checks_node.request("h", "long")
    assert checks_node.expected_wait("short", "checks:q_network", "g") == pytest.approx(1.05)
    # This node never timed a training: the queued one counts the first guess, 30 s.
    assert checks_node.expected_wait("long", None, "g") == pytest.approx(1.05 + 30.0)
