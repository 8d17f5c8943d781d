"""The checks of exercise 3: every correct loop passes, every planted bug fails with its cause named."""

from __future__ import annotations

import pytest
import torch
from dqn_variants import make_loop

import solutions.train_dqn as ref
from playground.checks import CheckFailed, CheckSpec, checks_for
from playground.sandbox.runner import run_checks

SPECS: dict[str, CheckSpec] = {spec.name: spec for spec in checks_for("train_dqn")}

# bug -> (the check that must fail, words its message must contain)
EXPECTED_FAILURES: dict[str, tuple[str, str]] = {
    "truncation": ("bootstraps through truncation", "treats truncated as terminal"),
    "online_target": ("honours the target network", "targets come from the online network"),
    "no_sync": ("honours the target network", "the target network is never updated"),
    "ignore_classes": ("uses the given network and buffer classes", "q_network_cls"),
    "unseeded": ("same seed, same run", "same seed gave different"),
}


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _failure(check_name: str, module: object) -> str | None:
    try:
        SPECS[check_name].func(module)  # type: ignore[arg-type]
    except CheckFailed as failure:
        return str(failure)
    return None


@pytest.mark.parametrize("bug", sorted(EXPECTED_FAILURES))
def test_each_bug_fails_the_check_that_names_it(bug: str) -> None:
    check_name, words = EXPECTED_FAILURES[bug]
    message = _failure(check_name, make_loop(bug))
    assert message is not None, f"{check_name!r} passed a loop with the {bug!r} bug"
    assert words in message


def test_ignoring_the_buffer_class_fails_the_schedule_check_too() -> None:
    message = _failure("follows the update schedule", make_loop("ignore_classes"))
    assert message is not None
    assert "buffer_cls" in message


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_correct_loop_written_differently_passes(name: str) -> None:
    assert _failure(name, make_loop(None)) is None


@pytest.mark.slow
def test_reference_passes_every_check_in_the_sandbox() -> None:
    results = run_checks("train_dqn", "solutions")
    assert [r.check for r in results] == list(SPECS)
    failed = [f"{r.check}: {r.message}" for r in results if not r.passed]
    assert not failed


def test_reference_passes_the_quick_checks_in_process() -> None:
    for name in ("uses the given network and buffer classes", "callback sees episodes and can stop"):
        assert _failure(name, ref) is None


def test_the_stub_fails_with_not_implemented() -> None:
    results = run_checks("train_dqn", "exercises", names=["result is well formed", "evaluate plays greedy episodes"])
    assert [r.passed for r in results] == [False, False]
    assert all("not implemented yet" in r.message for r in results)
