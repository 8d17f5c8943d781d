"""Exercise 4: save a trained Q-network to a file and load it back safely.

A ``state_dict`` (``q_network.state_dict()``) maps parameter names such as
``net.0.weight`` to tensors: the numbers $\\theta$, but not the sizes of the
layers they came from. ``load_state_dict`` can only copy them into a network
that already has exactly those sizes, so a file that is meant to be loaded by
itself must carry the architecture (``state_dim``, ``action_dim``,
``hidden_dims``) next to the weights.

Safety: a checkpoint is a pickle. ``torch.load(path, weights_only=False)`` (or
``pickle.load``) rebuilds any object the file names, and rebuilding can call
any function, so a file from someone else could run code on your machine.
``torch.load(path, weights_only=True)`` only rebuilds tensors and plain
containers (dict, list, str, int, float, None) and refuses the rest.

Press Check (or run ``python -m playground.check save_load``) when done.
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
    raise NotImplementedError(
        "save_model: torch.save a dict holding state_dim, action_dim, hidden_dims and q_network.state_dict()"
    )


def load_model(path: StrPath | BinaryIO) -> CustomQNetwork:
    """Rebuild the network that :func:`save_model` wrote to ``path``, in eval mode.

    1. ``checkpoint = torch.load(path, weights_only=True)`` (never
       ``weights_only=False``: that can run code from the file).
    2. Build ``CustomQNetwork(state_dim, action_dim, hidden_dims)`` from the
       sizes in the file, not from defaults.
    3. ``load_state_dict`` the saved weights into it, call ``.eval()``, return it.

    Any bad file must raise ``ValueError`` with a message saying what is wrong:
    a file torch cannot read (random bytes, an empty file, a zip of something
    else, a refused pickle: wrap ``torch.load`` in ``try``/``except``), a
    checkpoint without the sizes (a bare ``state_dict``, a single tensor), or
    sizes that do not match the weights (``load_state_dict`` raises
    ``RuntimeError``).
    """
    raise NotImplementedError(
        "load_model: torch.load(path, weights_only=True), build CustomQNetwork from the saved sizes, "
        "load_state_dict, .eval(); turn every failure into ValueError"
    )
