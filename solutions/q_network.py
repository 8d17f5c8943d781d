"""Exercise 1 (reference): the Q-network $Q_\\theta(s, \\cdot) \\in \\mathbb{R}^{|\\mathcal{A}|}$.

One forward pass maps a batch of states to one Q-value per action, so the
greedy action is an ``argmax`` over the last axis and the TD target needs only
one pass over the next states.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from torch import Tensor, nn


def _positive_int(name: str, value: object) -> int:
    """``value`` as a Python ``int`` >= 1 (NumPy integers such as ``env.action_space.n`` are fine)."""
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        number = 0
    if isinstance(value, bool) or number < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return number


class CustomQNetwork(nn.Module):
    """A multilayer perceptron $\\mathbb{R}^{d_s} \\to \\mathbb{R}^{|\\mathcal{A}|}$.

    For hidden widths $h_1, \\dots, h_k$ it computes
    $z_0 = s$, $z_i = \\mathrm{ReLU}(W_i z_{i-1} + b_i)$, and
    $Q_\\theta(s, \\cdot) = W_{k+1} z_k + b_{k+1}$: no activation on the output,
    because Q-values are unbounded returns that can be negative.
    """

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        state_dim = _positive_int("state_dim", state_dim)
        action_dim = _positive_int("action_dim", action_dim)
        widths = [_positive_int("every hidden width", width) for width in hidden_dims]
        self.state_dim = state_dim
        self.action_dim = action_dim
        self.hidden_dims = tuple(widths)
        layers: list[nn.Module] = []
        in_features = state_dim
        for width in widths:
            layers += [nn.Linear(in_features, width), nn.ReLU()]
            in_features = width
        layers.append(nn.Linear(in_features, action_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Q-values: ``(B, state_dim) -> (B, action_dim)``; a single ``(state_dim,)`` state gives ``(action_dim,)``."""
        result: Tensor = self.net(x)
        return result


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars: $\\sum_i (h_{i-1} h_i + h_i)$ for an MLP."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
