"""Exercise 3: the DQN training loop.

Your loop alternates two things. It *acts*: with probability $\\epsilon_t$ a
random action, otherwise the greedy $a_t = \\arg\\max_a Q_\\theta(s_t, a)$; one
environment step; the transition $(s_t, a_t, r_t, s_{t+1}, d_t)$ pushed into
the replay buffer $\\mathcal{D}$. And it *learns*: every ``train_freq`` steps,
``gradient_steps`` minibatch updates of the online network $Q_\\theta$ towards
the TD target of a target network $Q_{\\bar\\theta}$ that changes only now and then:

$$y_j = r_j + \\gamma (1 - d_j) \\max_{a'} Q_{\\bar\\theta}(s'_j, a'), \\qquad
L(\\theta) = \\frac{1}{B} \\sum_j \\ell\\big(Q_\\theta(s_j, a_j) - y_j\\big)$$

with $\\ell$ the Huber or the squared error, and $d_j = 1$ when transition $j$
leaves nothing to bootstrap from.

Every setting of :class:`DQNConfig` keeps Stable-Baselines3's meaning, counted in
environment steps; the ones your code reads are named where they are used below
(``config.<name>``). Work top-down: the small helpers first,
then :func:`train_dqn` uses them. Press Check on the Training page (or run
``python -m playground.check train_dqn``) to test your loop. Stuck? Ask for a
hint: the Hint button on the page, or ``--hint`` in a terminal.

The defaults use the *reference* network and buffer, so this exercise does not
depend on your answers to exercises 1 and 2; pass your own classes as
``q_network_cls`` / ``buffer_cls`` to try them together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from numpy.typing import NDArray
from torch import Tensor, nn

from playground.core.config import DQNConfig, linear_epsilon  # noqa: F401 - linear_epsilon: for your loop
from playground.core.envs import make_env  # noqa: F401 - for your loop and evaluate
from playground.core.results import TrainingProgress, TrainingResult
from solutions.q_network import CustomQNetwork
from solutions.replay_buffer import ReplayBufferWithIndices

__all__ = [
    "Callback",
    "evaluate",
    "gradient_phase",
    "greedy_action",
    "make_optimizer",
    "plot_rewards",
    "seed_everything",
    "td_loss",
    "train_dqn",
    "update_target",
]

Callback = Callable[[TrainingProgress], bool | None]


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's global generators with ``seed``.

    The reference buffer seeds its private generator from NumPy's global one,
    so it must be built after this call.
    """
    raise NotImplementedError("seed_everything: seed the three global random number generators")


def make_optimizer(params: Any, learning_rate: float) -> torch.optim.Optimizer:
    """Adam with step size ``learning_rate`` over ``params`` (the online network's parameters)."""
    raise NotImplementedError("make_optimizer: the Adam optimizer of the online network")


def greedy_action(q_network: nn.Module, state: NDArray[np.float32]) -> int:
    """$\\arg\\max_a Q_\\theta(s, a)$ for one state, without building an autograd graph.

    ``state`` is one float32 observation of shape ``(state_dim,)``; the network
    takes batches ``(B, state_dim)``. Returns the action as a Python ``int``.
    """
    raise NotImplementedError("greedy_action: the action with the largest Q-value in `state`")


def td_loss(
    q_network: nn.Module,
    target_network: nn.Module,
    batch: Sequence[Any],
    gamma: float,
    loss: str,
) -> Tensor:
    """The TD loss of one minibatch ``(states, actions, rewards, next_states, dones, ...)``.

    The batch holds NumPy arrays: states and next states ``(B, state_dim)``,
    actions, rewards and dones ``(B,)``. The target
    $y_j = r_j + \\gamma (1 - d_j) \\max_{a'} Q_{\\bar\\theta}(s'_j, a')$ comes from
    the *target* network and is a fixed label: no gradient flows through it.
    The loss is the mean over the batch of $\\ell(Q_\\theta(s_j, a_j) - y_j)$, with
    $\\ell$ the Huber loss (``loss == "huber"``, PyTorch's smooth L1) or the
    squared error (``"mse"``). Returns a scalar tensor that ``backward()`` can
    differentiate with respect to the online network's parameters.
    """
    raise NotImplementedError("td_loss: the TD loss of one minibatch")


def update_target(target_network: nn.Module, q_network: nn.Module, tau: float) -> None:
    """$\\bar\\theta \\leftarrow \\tau \\theta + (1 - \\tau) \\bar\\theta$: a hard copy when $\\tau = 1$.

    Changes ``target_network`` in place (every parameter) and leaves
    ``q_network`` as it is.
    """
    raise NotImplementedError("update_target: move the target network's weights towards the online network's")


def evaluate(q_network: nn.Module, env_id: str, episodes: int = 20, seed: int = 0) -> list[float]:
    """Undiscounted returns of ``episodes`` greedy episodes ($\\epsilon = 0$).

    Make a *fresh* environment with ``make_env(env_id)`` (never the
    training one), reset it with ``seed`` for the first episode and without a
    seed after that, play :func:`greedy_action` until ``terminated or
    truncated``, and sum the rewards of each episode. Raise ``ValueError`` when
    ``episodes`` < 1.
    """
    raise NotImplementedError("evaluate: the returns of `episodes` greedy episodes")


def gradient_phase(
    q_network: nn.Module,
    target_network: nn.Module,
    optimizer: torch.optim.Optimizer,
    buffer: Any,
    config: DQNConfig,
    updates: int,
) -> list[float]:
    """``updates`` optimizer steps on :func:`td_loss`, each on a fresh minibatch from the buffer.

    Each minibatch is ``buffer.sample_indices(config.batch_size)``; before each
    step the gradient is clipped to a global L2 norm of
    ``config.max_grad_norm``. Returns the loss value of every update as a
    float, and stops after the first one that is NaN or infinite.
    """
    raise NotImplementedError("gradient_phase: `updates` gradient steps, each on a fresh minibatch")


def train_dqn(
    config: DQNConfig,
    *,
    q_network_cls: type[nn.Module] = CustomQNetwork,
    buffer_cls: type[Any] = ReplayBufferWithIndices,
    callback: Callback | None = None,
) -> TrainingResult:
    """Train a DQN agent on ``config.env_id``: return the trained network, the episodes and the TD losses.

    Setup: :func:`seed_everything` ``(config.seed)``; ``env = make_env(config.env_id)``
    (from ``playground.core.envs``: the app measures the run through this env);
    ``env.action_space.seed(config.seed)``; ``state_dim`` is the size of
    ``env.observation_space.shape`` and ``action_dim`` is ``env.action_space.n``;
    build the online network first, with
    ``q_network_cls(state_dim, action_dim, list(config.hidden_dims))``, then a
    target network of the same class loaded with its weights; the buffer with
    ``buffer_cls(config.buffer_size)`` (after seeding); the optimizer with
    :func:`make_optimizer` ``(..., config.learning_rate)``; and
    ``result = TrainingResult(q_network=online_network)``. Reset the env with
    ``seed=config.seed``.

    Then per env step $t = 0, 1, \\dots, T - 1$ (``T = config.total_timesteps``),
    with $n = t + 1$ steps done after it:

    1. $\\epsilon_t$ = ``linear_epsilon(config, t)`` (from ``playground.core.config``);
       act $\\epsilon$-greedily (a random ``env.action_space.sample()`` with
       probability $\\epsilon_t$, else :func:`greedy_action`); step; push the
       transition $(s, a, r, s', d)$ with $d$ = ``terminated`` into the buffer.
       When the episode is terminated *or* truncated: append its return (the sum
       of its rewards) to ``result.episode_rewards`` and its length (its number
       of steps) to ``result.episode_lengths``; if there is a callback, call
       ``callback(TrainingProgress(timestep=n, episode_reward=..., episode_length=...))``
       and stop the run at once when it returns ``False``; then reset the env
       (without a seed).
    2. If $n \\bmod$ ``config.train_freq`` $= 0$ and $n >$ ``config.learning_starts``:
       :func:`gradient_phase` with ``config.gradient_steps`` updates (-1: as many
       as ``train_freq``); skip it while the buffer holds fewer than
       ``config.batch_size`` transitions. Extend ``result.losses`` with the loss
       values it returns, and ``result.loss_steps`` with $n$ once per value.
    3. If $n \\bmod$ ``config.target_update_interval`` $= 0$:
       :func:`update_target` with ``config.tau``.

    Return ``result``. Those five fields (``q_network``, ``episode_rewards``,
    ``episode_lengths``, ``losses``, ``loss_steps``) are all your loop fills:
    timing, the exploration and probe curves, evaluations during training and
    the reason a run stopped are measured by the app around your loop.
    """
    raise NotImplementedError("train_dqn: the training loop described in the docstring")


def plot_rewards(
    episode_rewards: Sequence[float] | TrainingResult,
    window: int = 20,
    *,
    title: str = "Reward per episode",
    threshold: float | None = None,
) -> Figure:
    """Episode returns (faint) and their ``window``-episode moving average; optional solved line.

    Build a ``matplotlib.figure.Figure`` (not pyplot), plot the returns against
    the episode number, overlay $\\bar r_i = \\frac{1}{k}\\sum_{j=i-k+1}^{i} r_j$
    with $k = \\min(w, i + 1)$, and draw a dashed line at ``threshold`` if given.
    ``episode_rewards`` may also be a whole :class:`TrainingResult` (use its
    ``episode_rewards``).
    """
    raise NotImplementedError("plot_rewards: a Figure with the returns and their moving average")
