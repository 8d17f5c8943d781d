"""Plain-data copies of Q-networks, so trained networks can cross process boundaries.

A learner's network lives in the sandbox; the app may not import its class.
:func:`snapshot_network` reads the ``nn.Linear`` layers of any MLP-shaped
Q-network in order and keeps their weights as NumPy arrays;
:meth:`NetworkSnapshot.to_module` rebuilds the same function as the reference
``CustomQNetwork``, which the app can use freely (evaluate, render, save).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from solutions.q_network import CustomQNetwork


@dataclass(frozen=True)
class NetworkSnapshot:
    """Architecture and weights of an MLP Q-network, as NumPy arrays."""

    state_dim: int
    action_dim: int
    hidden_dims: tuple[int, ...]
    weights: list[NDArray[np.float32]] = field(repr=False)
    biases: list[NDArray[np.float32]] = field(repr=False)

    @property
    def parameter_count(self) -> int:
        return int(sum(w.size for w in self.weights) + sum(b.size for b in self.biases))

    def to_module(self) -> CustomQNetwork:
        """The reference ``CustomQNetwork`` with these weights, in eval mode."""
        net = CustomQNetwork(self.state_dim, self.action_dim, list(self.hidden_dims))
        linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for layer, weight, bias in zip(linears, self.weights, self.biases, strict=True):
                layer.weight.copy_(torch.from_numpy(np.asarray(weight, dtype=np.float32)))
                layer.bias.copy_(torch.from_numpy(np.asarray(bias, dtype=np.float32)))
        return net.eval()


def snapshot_network(module: nn.Module) -> NetworkSnapshot:
    """Copy an MLP's ``nn.Linear`` layers (in registration order) into a snapshot.

    Raises ``ValueError`` when the module is not a chain of Linear layers
    whose sizes connect (the contract's shape), since it could then not be
    rebuilt as a ``CustomQNetwork``.
    """
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("the network has no nn.Linear layers to copy")
    for before, after in itertools.pairwise(linears):
        if before.out_features != after.in_features:
            raise ValueError(
                f"layer sizes do not connect ({before.out_features} -> {after.in_features}): "
                "not a plain chain of Linear layers"
            )
    if any(layer.bias is None for layer in linears):
        raise ValueError("every Linear layer needs a bias to be rebuilt as a CustomQNetwork")
    weights = [layer.weight.detach().cpu().numpy().astype(np.float32, copy=True) for layer in linears]
    biases = [
        layer.bias.detach().cpu().numpy().astype(np.float32, copy=True) for layer in linears if layer.bias is not None
    ]
    return NetworkSnapshot(
        state_dim=linears[0].in_features,
        action_dim=linears[-1].out_features,
        hidden_dims=tuple(layer.out_features for layer in linears[:-1]),
        weights=weights,
        biases=biases,
    )


@dataclass(frozen=True)
class TrainedNetwork:
    """A network trained in this browser session, offered to the other pages."""

    label: str
    snapshot: NetworkSnapshot
    env_id: str
    config: dict[str, Any] | None = None
