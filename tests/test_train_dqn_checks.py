"""The checks of exercise 3: every correct loop passes, every planted bug fails with its cause named."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dqn_variants import make_loop

import solutions.train_dqn as ref
from playground.checks import CheckFailed, CheckSpec, checks_for
from playground.checks import train_dqn as checks
from playground.sandbox.runner import run_checks

SPECS: dict[str, CheckSpec] = {spec.name: spec for spec in checks_for("train_dqn")}

# bug -> [(a check that must fail, words its message must contain), ...]
EXPECTED_FAILURES: dict[str, list[tuple[str, str]]] = {
    "truncation": [("bootstraps through truncation", "treats truncated as terminal")],
    "online_target": [
        ("honours the target network", "targets come from the online network"),
        ("td_loss matches the math", "comes from the online network"),
        ("the loop uses learning_rate, gamma, loss, max_grad_norm and tau", "targets come from the online network"),
    ],
    "no_sync": [("honours the target network", "the target network is never updated")],
    "ignore_classes": [
        ("uses the given network and buffer classes", "q_network_cls"),
        ("follows the update schedule", "buffer_cls"),
    ],
    "unseeded": [("same seed, same CartPole run", "env.reset(seed=config.seed)")],
    "unseeded_reset": [("same seed, same CartPole run", "env.reset(seed=config.seed)")],
    "huber_ignored": [
        ("td_loss matches the math", "your loss ignores `loss`"),
        ("the loop uses learning_rate, gamma, loss, max_grad_norm and tau", "ignores config.loss"),
    ],
    "tau_swapped": [
        ("update_target blends by tau", "tau and 1 - tau are swapped"),
        ("the loop uses learning_rate, gamma, loss, max_grad_norm and tau", "tau and 1 - tau are swapped"),
    ],
    "eval_explores": [("evaluate: greedy, seeded, fresh env", "must not explore")],
    "eval_reseeds": [("evaluate: greedy, seeded, fresh env", "seed only the first reset")],
    "lr_ignored": [
        ("make_optimizer: Adam at learning_rate", "lr=learning_rate"),
        ("the loop uses learning_rate, gamma, loss, max_grad_norm and tau", "lr=config.learning_rate"),
    ],
    "no_clip": [
        ("gradient_phase: sample, loss, clip, step", "it was not clipped"),
        ("the loop uses learning_rate, gamma, loss, max_grad_norm and tau", "clip_grad_norm_"),
    ],
    "no_zero_grad": [("gradient_phase: sample, loss, clip, step", "gradients pile up")],
    "gym_make": [("makes its env with make_env", "made no environment with make_env(config.env_id)")],
    "inline_no_zero_grad": [("the loop uses learning_rate, gamma, loss, max_grad_norm and tau", "gradients pile up")],
    "seed_misses_random": [("seed_everything seeds random, NumPy and torch", "random")],
    "eps_next_step": [("explores on the epsilon schedule", "step t + 1")],
    "reset_before_push": [("stores each step's transition", "reset before the transition was pushed")],
    "aliased_target": [
        ("keeps a separate target network", "target_network = q_network does not copy"),
        ("honours the target network", "the targets come from the online network"),
    ],
    "gamma_ignored": [("the loop uses learning_rate, gamma, loss, max_grad_norm and tau", "ignores config.gamma")],
    "final_eps_ignored": [("explores on the epsilon schedule", "explored with epsilon")],
    "starts_at_learning_starts": [("follows the update schedule", "n > learning_starts")],
    "waits_past_batch": [("follows the update schedule", "len(buffer) < batch_size")],
    "invisible_returns": [("plot_rewards draws returns and their average", "drawn invisible")],
    "late_sync": [
        ("the loop uses learning_rate, gamma, loss, max_grad_norm and tau", "every target_update_interval env steps")
    ],
    "hidden_dims_ignored": [("uses the given network and buffer classes", "config.hidden_dims")],
    "argmin": [("greedy_action picks the argmax", "argmin")],
    "loss_sum": [("td_loss matches the math", "summed over the batch")],
    "no_done": [("td_loss matches the math", "the terminal flag is ignored: multiply the bootstrap term by (1 - d")],
    "plot_cumulative_mean": [("plot_rewards draws returns and their average", "the moving average")],
}
# Correct learners' modules written differently from the reference (and from each other).
CORRECT: dict[str, dict[str, str]] = {
    "flat loop, torch Huber, blend copied in": {"shape": "flat", "huber": "torch", "polyak": "copy"},
    "episode loop, Huber by hand, lerp_": {"shape": "episodes", "huber": "hand", "polyak": "lerp"},
    "agent class, torch Huber, mul_/add_": {"shape": "agent", "huber": "torch", "polyak": "mul_add"},
    "flat loop, Huber by hand, blended state dict": {"shape": "flat", "huber": "hand", "polyak": "state_dict"},
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


@pytest.mark.parametrize(
    ("bug", "check_name", "words"),
    [(bug, name, words) for bug, expected in sorted(EXPECTED_FAILURES.items()) for name, words in expected],
)
def test_each_bug_fails_the_check_that_names_it(bug: str, check_name: str, words: str) -> None:
    message = _failure(check_name, make_loop(bug))
    assert message is not None, f"{check_name!r} passed a loop with the {bug!r} bug"
    assert words in message, message


def test_every_check_is_shown_to_catch_some_bug() -> None:
    caught = {name for expected in EXPECTED_FAILURES.values() for name, _ in expected}
    untested = set(SPECS) - caught - {"result is well formed", "callback sees episodes and can stop"}
    untested -= {"evaluate plays greedy episodes", "learns LineWorld"}
    assert not untested


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(CORRECT))
def test_a_correct_loop_written_differently_passes_every_check(variant: str) -> None:
    module = make_loop(None, **CORRECT[variant])
    failed = {name: _failure(name, module) for name in SPECS}
    assert not {name: message for name, message in failed.items() if message is not None}


@pytest.mark.parametrize(
    "name", [name for name, spec in SPECS.items() if spec.timeout <= 30 or "loop uses" in name or "explores" in name]
)
def test_the_quick_checks_pass_two_correct_variants_and_the_reference(name: str) -> None:
    for module in (ref, make_loop(None, shape="agent", huber="hand", polyak="lerp"), make_loop(None)):
        assert _failure(name, module) is None, module.__name__


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


def test_a_loop_that_piles_up_gradients_is_told_so_not_given_two_equal_norms() -> None:
    """Its own update loop without zero_grad: every gradient is clipped to max_grad_norm, so the message said
    "stepped with a gradient of norm 0.0500 ... it should be 0.0500". Now it names what differs."""
    message = _failure(
        "the loop uses learning_rate, gamma, loss, max_grad_norm and tau", make_loop("inline_no_zero_grad")
    )
    assert message is not None
    assert "gradients pile up" in message
    assert "zero_grad()" in message
    assert "should be" not in message


def test_a_gradient_of_the_right_norm_in_another_direction_is_named_by_its_direction() -> None:
    raw = np.array([3.0, 4.0, 0.0])  # norm 5, clipped to 0.5: [0.3, 0.4, 0]
    turned = np.array([0.0, 0.3, 0.4])  # norm 0.5 too, another direction
    cause = checks._wrong_gradient(turned, None, raw, 0.5)
    assert "norm is right (0.5000) but it points elsewhere (cosine 0.48" in cause
    piled = checks._clip(raw + np.array([0.1, -0.2, 0.3]), 0.5)
    assert "pile up" in checks._wrong_gradient(piled, np.array([0.1, -0.2, 0.3]), raw, 0.5)
    assert "not clipped" in checks._wrong_gradient(raw, None, raw, 0.5)
    short = checks._wrong_gradient(np.array([0.03, 0.04, 0.0]), None, raw, 0.5)
    assert "clipped to a norm of 0.5, i.e. 0.5000 (unclipped 5.0000), saw a norm of 0.0500" in short
