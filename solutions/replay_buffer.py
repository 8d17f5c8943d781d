"""Exercise 2 (reference): experience replay $\\mathcal{D}$ as a ring buffer with slot indices.

Transitions $(s, a, r, s', d)$ live in preallocated NumPy arrays. The $n$-th
push (counting from 0) writes slot $n \\bmod C$ for capacity $C$, so once the
buffer is full each push overwrites the oldest transition. A minibatch is drawn
uniformly *without replacement* from the stored slots,
$(s_j, a_j, r_j, s'_j, d_j) \\sim U(\\mathcal{D})$, and returned with the slot
indices so a caller can find (or later re-weight) exactly those transitions.
"""

from __future__ import annotations

import operator

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _positive_int(name: str, value: object) -> int:
    """``value`` as a Python ``int`` >= 1 (NumPy integers are fine, ``True`` is not)."""
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        number = 0
    if isinstance(value, bool) or number < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return number


class ReplayBufferWithIndices:
    """A fixed-capacity FIFO of transitions with uniform sampling and slot indices."""

    def __init__(self, capacity: int) -> None:
        self.capacity = _positive_int("capacity", capacity)
        # A private generator, seeded from NumPy's global one: ``np.random.seed(s)``
        # before construction makes every batch reproducible.
        self.rng = np.random.default_rng(np.random.randint(0, 2**31 - 1))
        self.position = 0  # the slot the next push writes
        self.size = 0
        # Storage is allocated on the first push, once the state's shape is known.
        self.states: NDArray[np.float32] = np.empty((0,), dtype=np.float32)
        self.next_states: NDArray[np.float32] = np.empty((0,), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.dones = np.zeros(capacity, dtype=np.float32)

    def __len__(self) -> int:
        return self.size

    def push(self, state: ArrayLike, action: int, reward: float, next_state: ArrayLike, done: bool) -> None:
        """Store one transition in slot ``position`` and advance it modulo the capacity."""
        state_arr = np.asarray(state, dtype=np.float32)
        if self.states.shape[1:] != state_arr.shape or self.states.shape[0] != self.capacity:
            if self.size:
                raise ValueError(f"state shape {state_arr.shape} differs from the stored {self.states.shape[1:]}")
            self.states = np.zeros((self.capacity, *state_arr.shape), dtype=np.float32)
            self.next_states = np.zeros_like(self.states)
        slot = self.position
        self.states[slot] = state_arr
        self.actions[slot] = int(action)
        self.rewards[slot] = float(reward)
        self.next_states[slot] = np.asarray(next_state, dtype=np.float32)
        self.dones[slot] = float(done)
        self.position = (slot + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample_indices(
        self, batch_size: int
    ) -> tuple[
        NDArray[np.float32], NDArray[np.int64], NDArray[np.float32], NDArray[np.float32], NDArray[np.float32], list[int]
    ]:
        """A uniform batch without replacement: (states, actions, rewards, next_states, dones, indices)."""
        batch_size = _positive_int("batch_size", batch_size)
        if batch_size > self.size:
            raise ValueError(f"cannot sample {batch_size} transitions: the buffer holds only {self.size}")
        idx = self.rng.choice(self.size, size=batch_size, replace=False)
        return (
            self.states[idx],
            self.actions[idx],
            self.rewards[idx],
            self.next_states[idx],
            self.dones[idx],
            idx.tolist(),
        )
