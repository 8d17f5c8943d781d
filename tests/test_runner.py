"""The sandbox runner: learner code that raises, hangs or crashes never harms the caller.

The checks used here are registered by ``tests/sandbox_selftest.py`` and call a
throwaway learner module that each test writes into a temporary directory, so
no real exercise is touched (see that module's docstring).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sandbox_selftest

from playground import checks as registry
from playground.checks import CheckResult
from playground.sandbox import cli as check_cli
from playground.sandbox import runner
from playground.sandbox.admission import Admission, admission
from playground.sandbox.child import TEST_MODULES_ENV
from playground.sandbox.protocol import MessageReader, UnsafeMessage, safe_loads
from playground.sandbox.runner import run_checks, run_task, start_task

TESTS_DIR = Path(__file__).resolve().parent
ROOT = TESTS_DIR.parent
SELFTEST = sandbox_selftest.__name__
NAMES = list(sandbox_selftest.CHECK_NAMES)


@pytest.fixture
def learner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Register the self-test checks here, point the child at them; yield the learner file to write."""
    registry.checks_for(sandbox_selftest.EXERCISE)  # the real checks first, so restoring keeps them
    specs = registry._REGISTRY.setdefault(sandbox_selftest.EXERCISE, [])
    monkeypatch.setitem(registry._REGISTRY, sandbox_selftest.EXERCISE, list(specs))
    sandbox_selftest.register()
    monkeypatch.setenv(TEST_MODULES_ENV, SELFTEST)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS_DIR), str(tmp_path)]))
    yield tmp_path / f"{sandbox_selftest.LEARNER_MODULE}.py"
    assert sandbox_selftest.LEARNER_MODULE not in sys.modules, "the parent must never import learner code"


def write_learner(path: Path, source: str) -> None:
    path.write_text(textwrap.dedent(source), encoding="utf-8")


def run_selftest(path: Path, source: str) -> list[CheckResult]:
    write_learner(path, source)
    seen: list[CheckResult] = []
    results = run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES, on_result=seen.append)
    assert results == seen, "on_result must see every result, in order"
    assert [r.check for r in results] == NAMES, "every check gets exactly one result, in order"
    return results


def test_exceptions_become_failed_checks_and_output_is_shown(learner: Path) -> None:
    results = run_selftest(
        learner,
        """
        def first():
            raise ValueError("shapes do not match")

        def second():
            raise NotImplementedError("build the layers first")

        def third():
            print("hello from the learner")
            return "all good"
        """,
    )
    assert not results[0].passed
    assert "ValueError: shapes do not match" in results[0].message
    assert not results[1].passed
    assert results[1].message == "not implemented yet: build the layers first"
    assert results[2].passed
    assert results[2].message == "all good"


def test_exit_and_segfault_fail_their_check_and_the_rest_still_run(learner: Path) -> None:
    parent_pid = os.getpid()
    results = run_selftest(
        learner,
        """
        import ctypes
        import os

        def first():
            print("about to leave", flush=True)
            os._exit(3)

        def second():
            print("about to crash", flush=True)
            ctypes.string_at(0)

        def third():
            return "still running"
        """,
    )
    assert not results[0].passed
    assert "exited with code 3" in results[0].message
    assert "about to leave" in results[0].message, "the learner's output must be in the message tail"
    assert not results[1].passed
    assert "SIGSEGV" in results[1].message
    assert "about to crash" in results[1].message
    assert results[2].passed
    assert results[2].message == "still running"
    assert os.getpid() == parent_pid


def test_a_hang_is_reported_once_naming_where_it_was_stuck(learner: Path) -> None:
    started = time.monotonic()
    results = run_selftest(
        learner,
        """
        import time

        def first():
            print("looping forever", flush=True)
            while True:
                time.sleep(0.01)

        def second():
            return "after the hang"

        def third():
            return "ok"
        """,
    )
    elapsed = time.monotonic() - started
    assert not results[0].passed
    assert f"did not finish within {sandbox_selftest.CHECK_TIMEOUT:g} s" in results[0].message
    assert "looping forever" in results[0].message
    # The hang names the function and line that was running (from the child's stack) ...
    assert "stuck in `first` at selftest_learner.py line 7: `time.sleep(0.01)`" in results[0].message, results[
        0
    ].message
    assert "most recent call first" not in results[0].message, "our stack dump is not the learner's output"
    # ... and costs one time limit for the exercise: the other checks are reported as not run, at once.
    for result in results[1:]:
        assert not result.passed
        assert "not run" in result.message
        assert "selftest: first" in result.message
    assert sandbox_selftest.CHECK_TIMEOUT <= elapsed < sandbox_selftest.CHECK_TIMEOUT + 30, elapsed


def _run_in_thread(cancel: threading.Event, **kwargs: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """run_checks of the self-test exercise on a thread; the dict gets its result or exception and end time."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["results"] = run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES, cancel=cancel, **kwargs)
        except runner.CheckCancelled as err:
            box["cancelled"] = err
        box["ended"] = time.monotonic()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def test_cancel_ends_a_running_check_within_a_second(learner: Path) -> None:
    write_learner(learner, "def first():\n    return 'ok'\n")
    run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES[:1])  # the fork server is warm
    write_learner(learner, HANGS_IN_FIRST)
    cancel = threading.Event()
    seen: list[CheckResult] = []
    thread, box = _run_in_thread(cancel, on_result=seen.append)
    time.sleep(1.0)  # the child is in the endless loop by now (its time limit is 3 s)
    assert thread.is_alive(), box
    cancel.set()
    pressed = time.monotonic()
    thread.join(5.0)
    assert "cancelled" in box, box
    assert box["ended"] - pressed < 1.0
    assert box["cancelled"].results == seen == []
    assert admission().snapshot() == (0, 0), "the slot is free again"


def test_cancel_leaves_the_queue_within_a_second(learner: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_learner(learner, "def first():\n    return 'ok'\n")
    queue = Admission(1)
    monkeypatch.setattr(runner, "admission", lambda: queue)
    holder = queue.request("another learner")  # the only slot is taken
    cancel = threading.Event()
    positions: list[int] = []
    thread, box = _run_in_thread(cancel, on_queue=positions.append)
    time.sleep(1.0)
    assert positions, "it waits in the queue"
    assert positions[-1] == 1, "as number 1"
    cancel.set()
    pressed = time.monotonic()
    thread.join(5.0)
    assert "cancelled" in box, box
    assert box["ended"] - pressed < 1.0
    assert queue.snapshot() == (1, 0), "it left the queue; the other learner still runs"
    holder.release()
    assert queue.snapshot() == (0, 0)


HANGS_IN_FIRST = """
import time

def first():
    while True:
        time.sleep(0.01)

def second():
    return "never reached"

def third():
    return "never reached"
"""


def test_garbage_on_the_result_pipe_is_a_failed_check(learner: Path) -> None:
    results = run_selftest(
        learner,
        """
        import os

        def _write(data):
            os.write(int(os.environ["PLAYGROUND_RESULT_FD"]), data)

        def first():
            _write(b"\\x00\\x00\\x00\\x05hello")  # a length prefix, then bytes that are no pickle
            return "unreachable"

        def second():
            # A well-formed pickle whose rebuilding raises TypeError (numpy.dtype('nonsense')).
            payload = b"cnumpy\\ndtype\\n(Vnonsense\\ntR."
            _write(len(payload).to_bytes(4, "big") + payload)
            return "unreachable"

        def third():
            return "fine"
        """,
    )
    for result in results[:2]:
        assert not result.passed
        assert "could not be read" in result.message, result.message
    assert results[2].passed


def test_run_checks_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="impl"):
        run_checks("q_network", "mine")
    with pytest.raises(ValueError, match="unknown exercise"):
        run_checks("no_such_exercise")
    with pytest.raises(ValueError, match="unknown check"):
        run_checks("q_network", "solutions", names=["no such check"])


# --- tasks --------------------------------------------------------------------------------------


@pytest.fixture
def task_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the child run the self-test module's task functions."""
    monkeypatch.setenv(TEST_MODULES_ENV, SELFTEST)
    monkeypatch.setenv("PYTHONPATH", str(TESTS_DIR))


@pytest.mark.usefixtures("task_env")
def test_task_progress_messages_and_value() -> None:
    handle = start_task(f"{SELFTEST}:count", timeout=60, n=3, tag="step")
    progress = [message for message in handle.progress() if message is not None]
    assert progress == ["step 0", "step 1", "step 2"]
    assert handle.outcome is not None
    assert handle.outcome.ok
    assert handle.outcome.value == ["step 0", "step 1", "step 2"]
    assert not handle.outcome.stopped


@pytest.mark.usefixtures("task_env")
def test_task_stop_returns_a_partial_value() -> None:
    handle = start_task(f"{SELFTEST}:until_stopped", timeout=60)
    seen = 0
    for message in handle.progress():
        if message is not None:
            seen += 1
            if seen == 3:
                handle.stop(grace=10)
    outcome = handle.outcome
    assert outcome is not None
    assert outcome.ok, outcome.error
    assert outcome.stopped
    assert outcome.value["stopped"] is True
    assert outcome.value["steps"] >= 3


@pytest.mark.usefixtures("task_env")
def test_task_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "STARTUP_SECONDS", 5.0)
    started = time.monotonic()
    outcome = run_task(f"{SELFTEST}:sleep_forever", timeout=1.0)
    assert not outcome.ok
    assert "time limit of 1 s" in outcome.error
    assert time.monotonic() - started < 30


@pytest.mark.usefixtures("task_env")
def test_task_exception_is_reported_with_its_output() -> None:
    outcome = run_task(f"{SELFTEST}:print_then_fail", timeout=60)
    assert not outcome.ok
    assert "RuntimeError: task failed on purpose" in outcome.error
    assert "task output before the failure" in outcome.output


@pytest.mark.usefixtures("task_env")
@pytest.mark.parametrize(("target", "refused"), [("return_os_system", "system"), ("emit_foreign", "Foreign")])
def test_unsafe_task_messages_are_refused(target: str, refused: str) -> None:
    outcome = run_task(f"{SELFTEST}:{target}", timeout=60)
    assert not outcome.ok
    assert "refused to rebuild" in outcome.error
    assert refused in outcome.error


def test_tasks_outside_playground_are_refused() -> None:
    outcome = run_task("os:system", timeout=60, command="echo should not run")
    assert not outcome.ok
    assert "tasks must live in playground" in outcome.error


# --- the safe unpickler, without a child process ------------------------------------------------


def test_safe_unpickler_refuses_learner_classes_without_importing_them() -> None:
    payload = b"cexercises.q_network\nCustomQNetwork\n."
    with pytest.raises(UnsafeMessage, match=r"exercises\.q_network\.CustomQNetwork"):
        safe_loads(payload)
    with pytest.raises(UnsafeMessage, match="system"):
        safe_loads(pickle.dumps(os.system))


@pytest.mark.parametrize(
    "array",
    [
        np.arange(3.0),
        np.zeros((2, 3), dtype=np.float32),
        np.asfortranarray(np.ones((2, 3))),
        np.arange(10)[::2],
        np.zeros((0, 4)),
        np.array(["left", "right"]),
        np.float32(1.5),
        np.int64(3),
    ],
)
def test_safe_unpickler_rebuilds_numpy_data(array: Any) -> None:
    decoded = safe_loads(pickle.dumps(array, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(decoded) is type(array)
    assert decoded.dtype == array.dtype
    assert np.array_equal(decoded, array)


def test_safe_unpickler_rebuilds_plain_data_and_playground_dataclasses() -> None:
    message = ("result", CheckResult("q_network", "shape", True, "ok"), {"a": [1, 2.5]}, np.arange(3.0))
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    reader = MessageReader()
    frame = len(data).to_bytes(4, "big") + data
    assert reader.feed(frame[:5]) == []  # a partial frame waits for the rest
    (decoded,) = reader.feed(frame[5:])
    assert decoded[:3] == message[:3]
    assert np.array_equal(decoded[3], message[3])


# --- the command line ---------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "playground.check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_json_on_the_reference_passes() -> None:
    done = _cli("q_network", "--impl", "solutions", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(done.stdout)
    assert rows, "q_network has checks"
    for row in rows:
        assert set(row) == {"exercise", "check", "passed", "status", "function", "message"}
        assert row["exercise"] == "q_network"
        assert row["passed"] is True
        assert row["status"] == "passed"


def test_cli_unknown_exercise_is_a_usage_error() -> None:
    done = _cli("no_such_exercise")
    assert done.returncode == 2
    assert "unknown exercise" in done.stderr


def test_cli_exit_code_and_lines_when_a_check_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake_run_checks(exercise: str, impl: str = "exercises", **kwargs: object) -> list[CheckResult]:
        results = [
            CheckResult(exercise, "good", True, "fine"),
            CheckResult(exercise, "bad", False, "expected 2, got 3\nsecond line"),
        ]
        on_result = kwargs.get("on_result")
        if callable(on_result):
            for result in results:
                on_result(result)
        return results

    monkeypatch.setattr(check_cli, "run_checks", fake_run_checks)
    assert check_cli.main(["q_network"]) == 1
    out = capsys.readouterr().out
    assert "PASS  q_network / good: fine" in out
    assert "FAIL  q_network / bad: expected 2, got 3" in out
    assert "1 of 2 checks passed" in out
    assert check_cli.main(["q_network", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [row["passed"] for row in rows] == [True, False]
