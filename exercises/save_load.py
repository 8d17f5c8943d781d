"""Exercise 4: save a trained Q-network to a file and load it back safely.

A ``state_dict`` (``q_network.state_dict()``) maps parameter names such as
``net.0.weight`` to tensors: the numbers $\\theta$, but not the sizes of the
layers they came from. ``load_state_dict`` can only copy them into a network
that already has exactly those sizes, so a file that is meant to be loaded by
itself must carry the architecture (``state_dim``, ``action_dim``,
``hidden_dims``) next to the weights.

Safety: a checkpoint is a pickle. Unpickling rebuilds any object the file
names, and rebuilding can call any function, so a file from someone else could
run code on your machine. ``torch.load`` has a restricted mode that only
rebuilds tensors and plain containers (dict, list, str, int, float, None) and
refuses the rest; a loader of untrusted files uses nothing else.

Press Check (or run ``python -m playground.check save_load``) when done.
Stuck? Ask for a hint: the Hint button on the page, or ``--hint`` in a terminal.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, BinaryIO

from playground.core.config import DQNConfig

# The reference network, so this exercise does not depend on exercise 1.
# Once your own network passes its checks you may switch to:
#     from exercises.q_network import CustomQNetwork
from solutions.q_network import CustomQNetwork

StrPath = str | os.PathLike[str]
# Written into every file so a reader can tell what it is (and which layout it has).
FORMAT = "dqn-playground-checkpoint"
FORMAT_VERSION = 1


def save_model(
    q_network: CustomQNetwork,
    path: StrPath | BinaryIO,
    *,
    config: DQNConfig | Mapping[str, Any] | None = None,
) -> None:
    """Write ``q_network``'s architecture and weights to ``path``.

    Save one dict with ``torch.save``: the sizes ``q_network.state_dim``,
    ``q_network.action_dim`` and ``list(q_network.hidden_dims)``, and the
    weights ``q_network.state_dict()``. Adding ``FORMAT`` and
    ``FORMAT_VERSION`` makes the file self-describing. ``config`` (optional,
    may be ignored) is the training configuration: if you keep it, store it as
    plain values (``config.to_dict()``) so ``weights_only=True`` can read it.
    Saving must not change the network (no ``.eval()``, no moving it to
    another device).
    """
    raise NotImplementedError("save_model: write the network's sizes and weights to `path`")


def load_model(path: StrPath | BinaryIO) -> CustomQNetwork:
    """Rebuild the network that :func:`save_model` wrote to ``path``, in eval mode.

    The network has the sizes stored in the file (not defaults) and the saved
    weights. Reading the file must never run code from it (see the module
    docstring).

    Any bad file must raise ``ValueError`` with a message saying what is wrong:
    a file torch cannot read (random bytes, an empty file, a zip of something
    else, a refused pickle), a checkpoint without the sizes (a bare
    ``state_dict``, a single tensor), or sizes that do not match the weights.
    """
    raise NotImplementedError("load_model: rebuild the saved network from `path` (a bad file: ValueError)")
