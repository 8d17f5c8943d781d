"""Exercise 2 made visible: fill a replay buffer from a random policy, sample it, count the slots drawn.

:func:`buffer_trace` is a sandbox task (``playground.tasks.buffer_view:buffer_trace``):
it pushes ``steps`` transitions of a random policy into the learner's (or the
reference) ``ReplayBufferWithIndices``, records ``len`` after every push, draws
one batch to highlight, then ``n_batches`` more to count how often each slot
index comes back. Only the public API is used, so the figures show what the
learner's buffer *does*. :func:`reference_trace` runs the reference in the
app's own process. :mod:`playground.views.buffer_figures` draws the slots
(with the write position, wrap-around and the sampled batch) and the slot histogram.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from playground.core.envs import make_env
from playground.core.facts import impl_module
from playground.core.inspections import BufferTrace

MAX_CAPACITY = 200
MAX_STEPS = 1000
MAX_BATCHES = 5000
SLOTS_PER_ROW = 20


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed ``random``, ``np.random`` and torch, and put their previous states back afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


def _row_matches(result: Sequence[Any], row: int, t: int, states: NDArray[np.float32], rewards: list[float]) -> bool:
    try:
        state = np.asarray(result[0][row], dtype=np.float64).reshape(-1)
        reward = float(np.asarray(result[2][row]).reshape(-1)[0])
    except (IndexError, TypeError, ValueError):
        return False
    return bool(
        state.shape == states[t].shape
        and np.allclose(state, states[t])
        and math.isclose(reward, rewards[t], rel_tol=1e-5, abs_tol=1e-6)
    )


def trace_buffer(
    buffer_cls: Any,
    impl: str,
    env_id: str,
    capacity: int,
    steps: int,
    batch_size: int,
    n_batches: int,
    seed: int,
    ctx: Any = None,
) -> BufferTrace:
    """Fill a ``buffer_cls(capacity)`` from a random policy, then sample it; see the module docstring."""
    from playground.checks import describe_exception

    if not 1 <= capacity <= MAX_CAPACITY or not 1 <= steps <= MAX_STEPS or not 0 <= n_batches <= MAX_BATCHES:
        raise ValueError(
            f"capacity must be 1..{MAX_CAPACITY}, steps 1..{MAX_STEPS} and batches 0..{MAX_BATCHES}, "
            f"got {capacity}, {steps}, {n_batches}"
        )
    with seeded(seed):
        buffer = buffer_cls(capacity)
        env = make_env(env_id)
        lengths: list[int] = []
        states: list[NDArray[np.float32]] = []
        actions: list[int] = []
        rewards: list[float] = []
        dones: list[bool] = []
        try:
            obs, _ = env.reset(seed=seed)
            env.action_space.seed(seed)
            for _ in range(steps):
                action = int(env.action_space.sample())
                next_obs, reward, terminated, truncated, _ = env.step(action)
                buffer.push(obs, action, float(reward), next_obs, bool(terminated))
                states.append(np.asarray(obs, dtype=np.float32).copy())
                actions.append(action)
                rewards.append(float(reward))
                dones.append(bool(terminated))
                lengths.append(len(buffer))
                obs = env.reset()[0] if terminated or truncated else next_obs
        finally:
            env.close()
        stacked = np.stack(states)
        counts = np.zeros(capacity, dtype=np.int64)
        slot_of = [t % capacity for t in range(steps)]
        newest_in_slot = {slot: t for t, slot in enumerate(slot_of)}
        summary: dict[str, Any] = {"out_of_range": 0, "duplicate_batches": 0, "mismatched_rows": 0, "drawn": 0}
        first_indices: list[int] = []
        first_match: list[bool] = []
        error = ""
        try:
            for number in range(1 + n_batches):
                if ctx is not None and ctx.should_stop():
                    break
                result = buffer.sample_indices(batch_size)
                indices = [int(i) for i in result[5]]
                matches = [
                    i in newest_in_slot and _row_matches(result, row, newest_in_slot[i], stacked, rewards)
                    for row, i in enumerate(indices)
                ]
                if number == 0:
                    first_indices, first_match = indices, matches
                    continue
                summary["drawn"] += 1
                summary["mismatched_rows"] += matches.count(False)
                summary["duplicate_batches"] += len(set(indices)) < len(indices)
                for i in indices:
                    if 0 <= i < capacity:
                        counts[i] += 1
                    else:
                        summary["out_of_range"] += 1
        except Exception as err:  # noqa: BLE001 - the learner's buffer may raise anything
            error = describe_exception(err, impl)
    return BufferTrace(
        impl=impl,
        env_id=env_id,
        capacity=capacity,
        steps=steps,
        seed=seed,
        batch_size=batch_size,
        n_batches=n_batches,
        lengths=lengths,
        states=stacked,
        actions=actions,
        rewards=rewards,
        dones=dones,
        batch_indices=first_indices,
        batch_rows_match=first_match,
        slot_counts=counts,
        batches_drawn=int(summary["drawn"]),
        out_of_range=int(summary["out_of_range"]),
        duplicate_batches=int(summary["duplicate_batches"]),
        mismatched_rows=int(summary["mismatched_rows"]),
        sample_error=error,
    )


def buffer_trace(
    ctx: Any,
    impl: str,
    env_id: str,
    capacity: int,
    steps: int,
    batch_size: int,
    n_batches: int,
    seed: int = 0,
) -> BufferTrace:
    """Sandbox task: trace ``<impl>.replay_buffer.ReplayBufferWithIndices`` (learner code runs only here)."""
    module = impl_module(impl, "replay_buffer")
    return trace_buffer(module.ReplayBufferWithIndices, impl, env_id, capacity, steps, batch_size, n_batches, seed, ctx)


def reference_trace(
    env_id: str, capacity: int, steps: int, batch_size: int, n_batches: int, seed: int = 0
) -> BufferTrace:
    """The reference buffer's trace, computed in this process."""
    from solutions.replay_buffer import ReplayBufferWithIndices

    return trace_buffer(ReplayBufferWithIndices, "solutions", env_id, capacity, steps, batch_size, n_batches, seed)
