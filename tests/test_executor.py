"""The executor's contract, on both backends: this machine's queue and fork server, and a Ray cluster.

The Ray backend runs on a one-CPU local Ray started once for this module (the
same code path as a cluster of many nodes: a node actor with its own warm fork
server, streamed messages, control calls); ``ray.shutdown()`` stops it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
import sandbox_selftest

from playground.checks import CheckResult
from playground.core.facts import PROJECT_ROOT
from playground.sandbox import admission as admission_module
from playground.sandbox import ray_backend
from playground.sandbox.admission import Admission
from playground.sandbox.child import TEST_MODULES_ENV
from playground.sandbox.executor import Executor, JobHandle, LocalExecutor, job_owner
from playground.sandbox.fairness import SHORT_SLOTS_ENV
from playground.sandbox.ray_backend import RayExecutor

TESTS_DIR = Path(sandbox_selftest.__file__).parent
SELFTEST = sandbox_selftest.__name__
REFERENCE_Q_NETWORK = (PROJECT_ROOT / "solutions" / "q_network.py").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[RayExecutor]:
    """A local Ray with one CPU (one sandbox node), started once for the module and stopped after it."""
    env = {
        TEST_MODULES_ENV: SELFTEST,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(TESTS_DIR)]),
        "OMP_NUM_THREADS": "1",
        SHORT_SLOTS_ENV: "0",  # K jobs at once, short or long: the queue tests need a full node
    }
    ray.init(
        num_cpus=1,
        namespace=ray_backend.NAMESPACE,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": env},
    )
    try:
        executor = RayExecutor(None)
        infos = executor.wait_ready()
        assert [info["slots"] for info in infos] == [1]
        yield executor
    finally:
        ray.shutdown()


@pytest.fixture(params=["local", "ray"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Executor:
    if request.param == "ray":
        executor: Executor = request.getfixturevalue("ray_executor")
        return executor
    monkeypatch.setenv(TEST_MODULES_ENV, SELFTEST)
    monkeypatch.setenv("PYTHONPATH", str(TESTS_DIR))
    monkeypatch.setenv(SHORT_SLOTS_ENV, "0")
    monkeypatch.setattr(admission_module, "_admission", Admission(1))  # one slot, like the one-CPU node
    return LocalExecutor()


def _messages(handle: JobHandle, limit: float = 60.0) -> list[Any]:
    deadline = time.monotonic() + limit
    seen = []
    for message in handle.progress():
        assert time.monotonic() < deadline, "the job did not end"
        if message is not None:
            seen.append(message)
    return seen


def _first_message(handle: JobHandle) -> tuple[Iterator[Any], Any]:
    stream = handle.progress()
    for message in stream:
        if message is not None:
            return stream, message
    raise AssertionError("the job ended without a message")


def test_checks_stream_their_results_and_run_the_submitted_code(backend: Executor) -> None:
    seen: list[CheckResult] = []
    results = backend.run_checks("q_network", "solutions", on_result=seen.append)
    assert results, "the reference has checks"
    assert all(result.passed for result in results), [r.message for r in results if not r.passed]
    assert [r.check for r in seen] == [r.check for r in results], "each result streamed as it came"
    mine = backend.run_checks("q_network", "exercises", ["output shape"], sources={"q_network": REFERENCE_Q_NETWORK})
    assert [(r.check, r.passed) for r in mine] == [("output shape", True)], mine
    stub = backend.run_checks("q_network", "exercises", ["output shape"])
    assert [r.passed for r in stub] == [False], "the exercise stub on disk fails: the sources were what ran"


def test_a_task_streams_progress_and_returns_its_value(backend: Executor) -> None:
    handle = backend.start_task(f"{SELFTEST}:count", timeout=60, n=3, tag="step")
    assert _messages(handle) == ["step 0", "step 1", "step 2"]
    assert handle.outcome is not None
    assert handle.outcome.ok, handle.outcome.error
    assert handle.outcome.value == ["step 0", "step 1", "step 2"]


def test_stop_keeps_what_the_task_has(backend: Executor) -> None:
    handle = backend.start_task(f"{SELFTEST}:until_stopped", timeout=60)
    stream, first = _first_message(handle)
    assert first == 1
    handle.stop(grace=10)
    for _ in stream:
        pass
    outcome = handle.outcome
    assert outcome is not None
    assert outcome.ok, outcome.error
    assert outcome.stopped
    assert outcome.value["steps"] >= 1


def test_cancel_ends_a_running_task_at_once(backend: Executor) -> None:
    handle = backend.start_task(f"{SELFTEST}:sleep_forever", timeout=60)
    stream = handle.progress()
    started = time.monotonic()
    while handle.queue_position() is not None or time.monotonic() - started < 1.0:
        next(stream)
    asked = time.monotonic()
    handle.cancel()
    for _ in stream:
        pass
    assert time.monotonic() - asked < 10, "cancel ends the child, not the time limit"
    assert handle.outcome is not None
    assert handle.outcome.cancelled
    assert not handle.outcome.ok


def test_errors_limits_and_refused_messages_come_back_as_errors(backend: Executor) -> None:
    failed = backend.start_task(f"{SELFTEST}:print_then_fail", timeout=60).wait()
    assert "task failed on purpose" in failed.error
    assert "task output before the failure" in failed.output
    hung = backend.start_task(f"{SELFTEST}:sleep_forever", timeout=2).wait()
    assert "time limit of 2 s" in hung.error, "the sandbox's time limit holds on every backend"
    foreign = backend.start_task(f"{SELFTEST}:return_os_system", timeout=60).wait()
    assert not foreign.ok
    assert "could not be read" in foreign.error, "the node refuses to rebuild what is not plain data"


def test_a_job_waits_for_the_slot_shows_its_place_and_leaves_the_queue(backend: Executor) -> None:
    with job_owner("first learner"):
        running = backend.start_task(f"{SELFTEST}:until_stopped", timeout=60)
    stream, _ = _first_message(running)
    with job_owner("second learner"):
        waiting = backend.start_task(f"{SELFTEST}:count", timeout=60, n=2)
    deadline = time.monotonic() + 30
    waiting_stream = waiting.progress()
    while waiting.queue_position() != 1:
        assert time.monotonic() < deadline, "the second job never reported its place in the queue"
        assert next(waiting_stream) is None, "it does not run while the slot is taken"
    waiting.cancel()
    for _ in waiting_stream:
        pass
    assert waiting.outcome is not None
    assert waiting.outcome.cancelled
    assert waiting.outcome.value is None
    running.stop(grace=10)
    for _ in stream:
        pass
    assert running.outcome is not None
    assert running.outcome.ok, running.outcome.error


class _CancelClick(Exception):
    """What a Cancel click does to a waiting Check's script run (Streamlit raises in its callback)."""


def test_a_check_cancelled_while_queued_leaves_the_queue(backend: Executor) -> None:
    with job_owner("first learner"):
        running = backend.start_task(f"{SELFTEST}:until_stopped", timeout=60)
    stream, _ = _first_message(running)
    places: list[int] = []

    def click_cancel(position: int) -> None:
        places.append(position)
        raise _CancelClick

    with job_owner("second learner"), pytest.raises(_CancelClick):
        backend.run_checks("q_network", "solutions", ["output shape"], on_queue=click_cancel)
    assert places == [1]
    with job_owner("third learner"):
        later = backend.start_task(f"{SELFTEST}:count", timeout=60, n=1)
    later_stream = later.progress()
    deadline = time.monotonic() + 30
    while later.queue_position() != 1:
        assert time.monotonic() < deadline, "the cancelled Check (short lane) would be ahead of it"
        next(later_stream)
    running.stop(grace=10)
    for _ in stream:
        pass
    assert [m for m in later_stream if m is not None] == ["tick 0"]


def test_a_node_that_dies_mid_job_ends_the_job_with_a_clear_message(ray_executor: RayExecutor) -> None:
    handle = ray_executor.start_task(f"{SELFTEST}:until_stopped", timeout=60)
    stream, _ = _first_message(handle)
    (node,) = ray_executor.nodes()
    ray.kill(node.actor)  # the node's actor (and its fork server and child) dies, as with its machine
    started = time.monotonic()
    for _ in stream:
        assert time.monotonic() - started < 60, "a dead node must not hang the page"
    outcome = handle.outcome
    assert outcome is not None
    assert not outcome.ok
    assert "went away" in outcome.error, outcome.error
    assert "run it again" in outcome.error
    # The next job gets a fresh actor on the node (the name is free again) and runs.
    again = ray_executor.start_task(f"{SELFTEST}:count", timeout=120, n=1)
    assert again.wait().value == ["tick 0"], again.outcome


def test_a_check_whose_node_dies_runs_again_elsewhere_or_says_why(ray_executor: RayExecutor) -> None:
    ray_executor.wait_ready()
    (node,) = ray_executor.nodes()
    seen: list[CheckResult] = []

    def kill_after_first(result: CheckResult) -> None:
        seen.append(result)
        if len(seen) == 1:
            ray.kill(node.actor)

    results = ray_executor.run_checks("q_network", "solutions", on_result=kill_after_first)
    names = [r.check for r in results]
    assert len(names) == len(set(names)), "no check reported twice"
    assert results[0].passed
    unfinished = [r for r in results if not r.passed]
    assert all("went away" in r.message for r in unfinished), [r.message for r in unfinished]
    assert len(results) == len(ray_executor.run_checks("q_network", "solutions")), "every check accounted for"


def test_the_backend_follows_the_configured_address(monkeypatch: pytest.MonkeyPatch) -> None:
    from playground.sandbox import executor as executor_module

    monkeypatch.setattr(executor_module, "_executor", None)
    monkeypatch.setattr(executor_module, "_chosen", False)
    monkeypatch.setattr(executor_module, "_address", None)
    monkeypatch.delenv(executor_module.RAY_ADDRESS_ENV, raising=False)
    assert isinstance(executor_module.executor(), LocalExecutor), "this machine by default"
    executor_module.configure("10.0.0.1:6379")  # a Streamlit secret
    chosen = executor_module.executor()
    assert isinstance(chosen, RayExecutor)
    assert chosen.address == "10.0.0.1:6379", "connected on first use, not when chosen"
    monkeypatch.setenv(executor_module.RAY_ADDRESS_ENV, "10.0.0.2:6379")
    assert getattr(executor_module.executor(), "address", None) == "10.0.0.2:6379", "the environment wins"
    mine = LocalExecutor()
    executor_module.set_executor(mine)
    assert executor_module.executor() is mine, "a chosen executor stays, whatever is configured"
    executor_module.set_executor(None)
    executor_module.configure(None)
    monkeypatch.delenv(executor_module.RAY_ADDRESS_ENV)
    assert isinstance(executor_module.executor(), LocalExecutor)
