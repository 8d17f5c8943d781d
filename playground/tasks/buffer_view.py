"""Exercise 2 made visible: fill a replay buffer from a random policy, sample it, count the slots drawn.

:func:`buffer_trace` is a sandbox task (``playground.tasks.buffer_view:buffer_trace``):
it pushes ``steps`` transitions of a random policy into the learner's (or the
reference) ``ReplayBufferWithIndices``, records ``len`` after every push, draws
one batch to highlight, then ``n_batches`` more to count how often each slot
index comes back. Only the public API is used, so the figures show what the
learner's buffer *does*. :func:`reference_trace` runs the reference in the
app's own process. The figure helpers draw the slots (with the write
position, wrap-around and the sampled batch) and the slot histogram.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import NDArray

from playground.core.envs import make_env
from playground.core.facts import impl_module

MAX_CAPACITY = 200
MAX_STEPS = 1000
MAX_BATCHES = 5000
SLOTS_PER_ROW = 20


@dataclass(frozen=True)
class BufferTrace:
    """What a buffer did with ``steps`` pushes and ``1 + n_batches`` samples (plain data for the app)."""

    impl: str
    env_id: str
    capacity: int
    steps: int
    seed: int
    batch_size: int
    n_batches: int
    lengths: list[int]
    states: NDArray[np.float32]
    actions: list[int]
    rewards: list[float]
    dones: list[bool]
    batch_indices: list[int] = field(default_factory=list)
    batch_rows_match: list[bool] = field(default_factory=list)
    slot_counts: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    batches_drawn: int = 0
    out_of_range: int = 0
    duplicate_batches: int = 0
    mismatched_rows: int = 0
    sample_error: str = ""

    def slot_contents(self, pushes: int) -> list[int | None]:
        """By the contract: after ``pushes`` pushes, slot ``s`` holds the newest insertion ``t`` with ``t % C == s``."""
        contents: list[int | None] = [None] * self.capacity
        for t in range(max(0, pushes - self.capacity), pushes):
            contents[t % self.capacity] = t
        return contents

    def expected_length(self, pushes: int) -> int:
        return min(pushes, self.capacity)

    @property
    def stored(self) -> int:
        return self.expected_length(self.steps)

    def problems(self) -> list[str]:
        """What the trace shows going against the contract, in plain words."""
        found: list[str] = []
        wrong = [(k + 1, n) for k, n in enumerate(self.lengths) if n != self.expected_length(k + 1)]
        if wrong:
            pushes, seen = wrong[0]
            found.append(f"len is {seen} after {pushes} pushes, expected {self.expected_length(pushes)}")
        if self.sample_error:
            found.append(f"sampling failed: {self.sample_error}")
        if self.out_of_range:
            found.append(f"{self.out_of_range} returned indices are outside 0..{self.capacity - 1}")
        if self.duplicate_batches:
            found.append(f"{self.duplicate_batches} of {self.batches_drawn} batches repeat a slot (with replacement?)")
        if self.mismatched_rows:
            found.append(
                f"{self.mismatched_rows} returned rows differ from the transition stored in the slot their index names"
            )
        if self.slot_counts.size and self.stored < self.capacity and self.slot_counts[self.stored :].sum():
            found.append("indices of empty slots came back: sampling reaches beyond the stored transitions")
        return found


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


# --------------------------------------------------------------------------- figures and tables


def slots_figure(trace: BufferTrace, pushes: int, highlight: Sequence[int] = (), title: str = "") -> Figure:
    """The ring of slots after ``pushes`` pushes: insertion numbers, age shading, write position, sampled slots."""
    capacity = trace.capacity
    per_row = min(capacity, SLOTS_PER_ROW)
    rows = math.ceil(capacity / per_row)
    fig, ax = plt.subplots(figsize=(max(6.0, per_row * 0.55), 0.9 + rows * 0.75))
    contents = trace.slot_contents(pushes)
    cmap = plt.get_cmap("Blues")
    write = pushes % capacity
    highlighted = set(highlight)
    for slot, t in enumerate(contents):
        x, y = slot % per_row, -(slot // per_row)
        face: Any = "white"
        if t is not None:
            age = (pushes - 1 - t) / max(1, capacity - 1)  # 0 newest .. 1 oldest
            face = cmap(0.85 - 0.6 * age)
        edge, width = ("tab:orange", 3.0) if slot in highlighted else ("0.5", 0.8)
        ax.add_patch(Rectangle((x, y), 0.94, 0.8, facecolor=face, edgecolor=edge, linewidth=width))
        if t is not None:
            dark = (pushes - 1 - t) < capacity * 0.5
            ax.text(x + 0.47, y + 0.4, f"#{t}", ha="center", va="center", fontsize=8, color="white" if dark else "k")
        ax.text(x + 0.47, y - 0.08, str(slot), ha="center", va="center", fontsize=6, color="0.45")
    wx, wy = write % per_row, -(write // per_row)
    ax.add_patch(Rectangle((wx - 0.03, wy - 0.03), 1.0, 0.86, fill=False, edgecolor="tab:red", linewidth=2.2))
    ax.annotate("next write", (wx + 0.47, wy + 0.83), ha="center", va="bottom", fontsize=7, color="tab:red")
    ax.set_xlim(-0.1, per_row + 0.05)
    ax.set_ylim(-(rows - 1) - 0.3, 1.25)
    ax.set_axis_off()
    reported = trace.lengths[pushes - 1] if 0 < pushes <= len(trace.lengths) else 0
    expected = trace.expected_length(pushes)
    note = "" if reported == expected else f" (expected {expected})"
    ax.set_title(title or f"after {pushes} pushes: len = {reported}{note} of {capacity} slots", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def slot_counts_figure(trace: BufferTrace, title: str = "") -> Figure:
    """How often each slot index came back over the batches, against the uniform expectation."""
    fig, ax = plt.subplots(figsize=(6.5, 2.6))
    capacity, stored = trace.capacity, trace.stored
    counts = trace.slot_counts if trace.slot_counts.size == capacity else np.zeros(capacity, dtype=np.int64)
    colors = ["tab:blue" if slot < stored else "tab:red" for slot in range(capacity)]
    ax.bar(np.arange(capacity), counts, color=colors, width=0.85)
    if trace.batches_drawn and stored:
        expected = trace.batches_drawn * trace.batch_size / stored
        ax.axhline(expected, color="k", linestyle="--", linewidth=1, label=f"uniform: {expected:.0f} per slot")
        # +-3 sd band of a slot's count under uniform sampling without replacement
        p = trace.batch_size / stored
        sd = math.sqrt(trace.batches_drawn * p * (1 - p))
        ax.axhspan(expected - 3 * sd, expected + 3 * sd, color="0.85", zorder=0, label="±3 sd")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)
    ax.set_xlim(-0.6, capacity - 0.4)
    ax.set_xticks(range(capacity))
    ax.set_xlabel("slot index returned", fontsize=8)
    ax.set_ylabel("times drawn", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title or f"{trace.batches_drawn} batches of {trace.batch_size}", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def recent_transitions(trace: BufferTrace, pushes: int, last: int = 6) -> pd.DataFrame:
    """The newest ``last`` transitions pushed so far, with the slot each was written to."""
    start = max(0, pushes - last)
    ts = list(range(start, pushes))
    return pd.DataFrame(
        {
            "push #": ts,
            "slot": [t % trace.capacity for t in ts],
            "state": [np.array2string(trace.states[t], precision=2, separator=", ") for t in ts],
            "action": [trace.actions[t] for t in ts],
            "reward": [trace.rewards[t] for t in ts],
            "done": [trace.dones[t] for t in ts],
        }
    )
