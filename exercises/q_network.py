"""Exercise 1: the Q-network $Q_\\theta(s, \\cdot) \\in \\mathbb{R}^{|\\mathcal{A}|}$.

Your task: fill in :class:`CustomQNetwork` below and press Check on the
"1. Q-network" page (or save and run ``python -m playground.check q_network``).
Stuck? Ask for a hint: the Hint button on the page, or ``--hint`` in a terminal.

One forward pass maps a batch of states to one Q-value per action, so the
greedy action is an ``argmax`` over the last axis and the TD target needs only
one pass over the next states.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn


class CustomQNetwork(nn.Module):
    """A multilayer perceptron $\\mathbb{R}^{d_s} \\to \\mathbb{R}^{|\\mathcal{A}|}$.

    For hidden widths $h_1, \\dots, h_k$ it computes
    $z_0 = s$, $z_i = \\mathrm{ReLU}(W_i z_{i-1} + b_i)$, and
    $Q_\\theta(s, \\cdot) = W_{k+1} z_k + b_{k+1}$: no activation on the output,
    because Q-values are unbounded returns that can be negative.

    Raise ``ValueError`` unless ``state_dim``, ``action_dim`` and every hidden
    width are positive integers (``nn.Linear`` accepts 0 without complaint).
    Every layer's parameters must be registered with the module, so that
    ``parameters()`` (and so the optimizer) sees them. ``hidden_dims`` may be a
    list or a tuple, and may be empty.

    Keep the sizes as attributes ``self.state_dim``, ``self.action_dim`` and
    ``self.hidden_dims`` (the widths as a tuple of ints): exercise 4 saves them.

    Example: ``CustomQNetwork(4, 2, [64, 64])`` is
    ``Linear(4, 64) -> ReLU -> Linear(64, 64) -> ReLU -> Linear(64, 2)``, and
    ``CustomQNetwork(4, 2, [])`` is a single ``Linear(4, 2)``.
    """

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        raise NotImplementedError("CustomQNetwork.__init__: build the layers the class docstring describes")

    def forward(self, x: Tensor) -> Tensor:
        """Q-values: ``(B, state_dim) -> (B, action_dim)``; a single ``(state_dim,)`` state gives ``(action_dim,)``."""
        raise NotImplementedError("CustomQNetwork.forward: return the Q-values of the states in x")


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars: $\\sum_i (h_{i-1} h_i + h_i)$ for an MLP.

    Given (nothing to do here): the page uses it to compare your network's size
    with the formula.
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
