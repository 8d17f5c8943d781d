"""Exercise 2: experience replay $\\mathcal{D}$ as a ring buffer with slot indices.

Your task: fill in :class:`ReplayBufferWithIndices` below, save, and press
Check on the "2. Replay buffer" page (or run
``python -m playground.check replay_buffer``).

Transitions $(s, a, r, s', d)$ go into a fixed number of slots. The $n$-th
push (counting from 0) writes slot $n \\bmod C$ for capacity $C$, so once the
buffer is full each push overwrites the oldest transition. A minibatch is drawn
uniformly *without replacement* from the stored transitions and returned with
their slot indices, so a caller can find exactly those transitions again.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


class ReplayBufferWithIndices:
    """A fixed-capacity FIFO of transitions with uniform sampling and slot indices.

    Any storage works (NumPy arrays, a list of tuples) as long as slot
    ``n % capacity`` holds the ``n``-th transition pushed. For randomness use
    ``random``, ``np.random`` or a ``np.random.Generator`` seeded from them,
    so that seeding makes runs reproducible.
    """

    def __init__(self, capacity: int) -> None:
        raise NotImplementedError(
            "set up the storage in `ReplayBufferWithIndices.__init__`: raise ValueError when capacity <= 0, remember "
            "the capacity, a write position (starts at 0) and the number of stored transitions (starts at 0)"
        )

    def __len__(self) -> int:
        """How many transitions are stored: it grows with each push up to ``capacity``, then stays there."""
        raise NotImplementedError("return the number of stored transitions in `ReplayBufferWithIndices.__len__`")

    def push(self, state: ArrayLike, action: int, reward: float, next_state: ArrayLike, done: bool) -> None:
        """Store one transition in slot ``position`` and advance it modulo the capacity.

        ``state`` and ``next_state`` may arrive as NumPy arrays, lists or tuples.
        """
        raise NotImplementedError(
            "store the transition in ReplayBufferWithIndices.push: write it into slot `position` (overwriting what "
            "was there), then position = (position + 1) % capacity and size = min(size + 1, capacity)"
        )

    def sample_indices(
        self, batch_size: int
    ) -> tuple[
        NDArray[np.float32], NDArray[np.int64], NDArray[np.float32], NDArray[np.float32], NDArray[np.float32], list[int]
    ]:
        """A uniform batch without replacement: (states, actions, rewards, next_states, dones, indices).

        Each of the five arrays has the batch as its first axis (states: ``(B, state_dim)``,
        the others ``(B,)``); row ``i`` of every array comes from the transition in slot
        ``indices[i]``. Raises ``ValueError`` when ``batch_size > len(self)``.
        """
        raise NotImplementedError(
            "draw a batch in ReplayBufferWithIndices.sample_indices: raise ValueError if batch_size > len(self); "
            "pick batch_size distinct slots among the stored ones (e.g. np.random.choice(len(self), batch_size, "
            "replace=False)), and return the five fields of those slots as NumPy arrays plus the slots as a list "
            "of ints"
        )
