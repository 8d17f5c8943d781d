"""Exercise 2: experience replay $\\mathcal{D}$ as a ring buffer with slot indices.

Your task: fill in :class:`ReplayBufferWithIndices` below and press Check on
the "2. Replay buffer" page (or save and run
``python -m playground.check replay_buffer``). Stuck? Ask for a hint: the
Hint button on the page, or ``--hint`` in a terminal.

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
        """An empty buffer of ``capacity`` slots; ``ValueError`` when ``capacity <= 0``."""
        raise NotImplementedError("ReplayBufferWithIndices.__init__: set up an empty buffer of `capacity` slots")

    def __len__(self) -> int:
        """How many transitions are stored: it grows with each push up to ``capacity``, then stays there."""
        raise NotImplementedError("ReplayBufferWithIndices.__len__: the number of stored transitions")

    def push(self, state: ArrayLike, action: int, reward: float, next_state: ArrayLike, done: bool) -> None:
        """Store one transition: the $n$-th push (from 0) goes into slot $n \\bmod C$.

        Once the buffer is full, that slot holds the oldest transition, which the
        new one replaces. ``state`` and ``next_state`` may arrive as NumPy
        arrays, lists or tuples.
        """
        raise NotImplementedError("ReplayBufferWithIndices.push: store the transition in its slot")

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
            "ReplayBufferWithIndices.sample_indices: draw a uniform batch of distinct stored transitions"
        )
