"""What the Q-network and replay-buffer pages show: plain data, built in the sandbox, drawn by :mod:`playground.views`.

A :class:`NetworkReport` is one network's layers, parameter counts and Q-values
on one observation (exercise 1); a :class:`BufferTrace` is what one replay
buffer did with a run of pushes and samples (exercise 2). Both cross the
process boundary as plain dataclasses.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from playground.core.envs import ACTION_NAMES


@dataclass(frozen=True)
class LayerRow:
    """One leaf module as it ran in the forward pass (shapes without the batch axis)."""

    name: str
    kind: str
    input_shape: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None
    parameters: int


@dataclass(frozen=True)
class NetworkReport:
    """What the page shows about one network: its layers, sizes and Q-values on one observation."""

    impl: str
    env_id: str
    state_dim: int
    action_dim: int
    hidden_dims: tuple[int, ...]
    layers: list[LayerRow]
    total_parameters: int
    expected_parameters: int
    observation: NDArray[np.float32]
    q_values: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    error: str = ""

    @property
    def greedy_action(self) -> int | None:
        if self.q_values.size != self.action_dim or not np.all(np.isfinite(self.q_values)):
            return None
        return int(np.argmax(self.q_values))

    @property
    def action_names(self) -> tuple[str, ...]:
        return action_names(self.env_id, self.action_dim)


def action_names(env_id: str, action_dim: int) -> tuple[str, ...]:
    names = ACTION_NAMES.get(env_id, ())
    if len(names) == action_dim:
        return tuple(f"{i}: {name}" for i, name in enumerate(names))
    return tuple(f"action {i}" for i in range(action_dim))


def layer_shapes(state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> list[tuple[int, int]]:
    return list(itertools.pairwise([state_dim, *hidden_dims, action_dim]))


def expected_parameters(state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> int:
    """$\\sum_i (h_{i-1} + 1)\\, h_i$: a weight per input-output pair plus a bias per output."""
    return sum((a + 1) * b for a, b in layer_shapes(state_dim, action_dim, hidden_dims))


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
