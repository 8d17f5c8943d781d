"""Exercise 3: the DQN training loop.

Your loop alternates two things. It *acts*: with probability $\\epsilon_t$ a
random action, otherwise the greedy $a_t = \\arg\\max_a Q_\\theta(s_t, a)$; one
environment step; the transition $(s_t, a_t, r_t, s_{t+1}, d_t)$ pushed into
the replay buffer $\\mathcal{D}$. And it *learns*: every ``train_freq`` steps,
``gradient_steps`` minibatch updates of the online network $Q_\\theta$ towards
the TD target of a target network $Q_{\\bar\\theta}$ that changes only now and then:

$$y_j = r_j + \\gamma (1 - d_j) \\max_{a'} Q_{\\bar\\theta}(s'_j, a'), \\qquad
L(\\theta) = \\frac{1}{B} \\sum_j \\ell\\big(Q_\\theta(s_j, a_j) - y_j\\big)$$

with $\\ell$ the Huber or the squared error. Mind $d_j$: it is ``terminated``
only. When a time limit *truncates* an episode the last state still has a
future, so its target must keep the $\\gamma \\max_{a'} Q_{\\bar\\theta}$ term.

Every setting keeps Stable-Baselines3's meaning, counted in environment
steps (read :mod:`playground.core.config`). Work top-down: the small helpers first,
then :func:`train_dqn` uses them. Press Check on the Training page (or run
``python -m playground.check train_dqn``) to test your loop.

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

from playground.core.config import DQNConfig
from playground.core.results import TrainingProgress, TrainingResult
from solutions.q_network import CustomQNetwork
from solutions.replay_buffer import ReplayBufferWithIndices

__all__ = [
    "LOG_POINTS",
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
# How many points the epsilon and probe-Q curves keep over a run (plus the last step).
LOG_POINTS = 500


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's global generators with ``seed``.

    The reference buffer seeds its private generator from NumPy's global one,
    so it must be built after this call.
    """
    raise NotImplementedError("call random.seed(seed), np.random.seed(seed) and torch.manual_seed(seed)")


def make_optimizer(params: Any, learning_rate: float) -> torch.optim.Optimizer:
    """Adam with step size ``learning_rate`` over ``params`` (the online network's parameters)."""
    raise NotImplementedError("return torch.optim.Adam(params, lr=learning_rate)")


def greedy_action(q_network: nn.Module, state: NDArray[np.float32]) -> int:
    """$\\arg\\max_a Q_\\theta(s, a)$ for one state, without building a graph.

    Turn the float32 state into a batch of one (``torch.from_numpy(state).unsqueeze(0)``),
    run the network under ``torch.no_grad()``, and return the index of the largest
    Q-value as a Python ``int``.
    """
    raise NotImplementedError("under torch.no_grad(), return int(q_network(state as a (1, d) tensor).argmax())")


def td_loss(
    q_network: nn.Module,
    target_network: nn.Module,
    batch: Sequence[Any],
    gamma: float,
    loss: str,
) -> Tensor:
    """The TD loss of one minibatch ``(states, actions, rewards, next_states, dones, ...)``.

    1. Make tensors: states and next states float32 ``(B, d)``, actions int64
       ``(B, 1)`` for ``gather``, rewards and dones float32 ``(B,)``.
    2. Under ``torch.no_grad()`` (the target is a fixed label, not something to
       differentiate): $y_j = r_j + \\gamma (1 - d_j) \\max_{a'} Q_{\\bar\\theta}(s'_j, a')$,
       from the *target* network.
    3. $Q_\\theta(s_j, a_j)$: ``q_network(states).gather(1, actions).squeeze(1)``.
    4. ``F.smooth_l1_loss`` when ``loss == "huber"``, else ``F.mse_loss``.
    """
    raise NotImplementedError("build the TD target with the target network under no_grad, then Huber or MSE loss")


def update_target(target_network: nn.Module, q_network: nn.Module, tau: float) -> None:
    """$\\bar\\theta \\leftarrow \\tau \\theta + (1 - \\tau) \\bar\\theta$: a hard copy when $\\tau = 1$.

    For ``tau == 1`` use ``target_network.load_state_dict(q_network.state_dict())``;
    otherwise blend every parameter in place under ``torch.no_grad()``.
    """
    raise NotImplementedError("copy (tau = 1) or blend (Polyak) the online weights into the target network")


def evaluate(q_network: nn.Module, env_id: str, episodes: int = 20, seed: int = 0) -> list[float]:
    """Undiscounted returns of ``episodes`` greedy episodes ($\\epsilon = 0$).

    Make a *fresh* environment with :func:`playground.core.envs.make_env` (never the
    training one), reset it with ``seed`` for the first episode and without a
    seed after that, play :func:`greedy_action` until ``terminated or
    truncated``, and sum the rewards of each episode. Raise ``ValueError`` when
    ``episodes`` < 1.
    """
    raise NotImplementedError("play `episodes` greedy episodes on a new env reset with `seed`; return their returns")


def gradient_phase(
    q_network: nn.Module,
    target_network: nn.Module,
    optimizer: torch.optim.Optimizer,
    buffer: Any,
    config: DQNConfig,
    updates: int,
) -> list[float]:
    """``updates`` Adam steps on :func:`td_loss`, each on a fresh minibatch from the buffer.

    Per update: ``buffer.sample_indices(config.batch_size)``, the loss,
    ``optimizer.zero_grad()``, ``loss.backward()``,
    ``nn.utils.clip_grad_norm_(q_network.parameters(), config.max_grad_norm)``,
    ``optimizer.step()``. Return the loss values (``loss.item()``), and stop
    after the first one that is NaN or infinite.
    """
    raise NotImplementedError("sample, compute td_loss, zero_grad, backward, clip, step; collect loss.item()")


def train_dqn(
    config: DQNConfig,
    *,
    q_network_cls: type[nn.Module] = CustomQNetwork,
    buffer_cls: type[Any] = ReplayBufferWithIndices,
    callback: Callback | None = None,
) -> TrainingResult:
    """Train a DQN agent on ``config.env_id`` and return everything it recorded.

    Setup: :func:`seed_everything`; ``env = make_env(config.env_id)``;
    ``env.action_space.seed(config.seed)``; build the online network with
    ``q_network_cls(state_dim, action_dim, list(config.hidden_dims))`` and a
    target network of the same class loaded with its weights; the buffer with
    ``buffer_cls(config.buffer_size)`` (after seeding); the optimizer; and a
    ``TrainingResult(q_network=..., config=config)``. Reset the env with
    ``seed=config.seed``; that first state is the probe state $s_0$.

    Then per env step $t = 0, 1, \\dots, T - 1$, with $n = t + 1$ steps done after it:

    1. $\\epsilon_t$ = :func:`playground.core.config.linear_epsilon` ``(config, t)``;
       act $\\epsilon$-greedily; step; push $(s, a, r, s', d)$ with
       $d$ = ``terminated`` (not ``truncated``!); reset when the episode is
       terminated *or* truncated, record its return, length and end step, and
       call ``callback(TrainingProgress(...))``: ``False`` stops the run.
    2. If $n \\bmod$ ``train_freq`` $= 0$ and $n >$ ``learning_starts``:
       :func:`gradient_phase` with ``gradient_steps`` updates (-1: as many as
       ``train_freq``); skip it while the buffer holds fewer than
       ``batch_size`` transitions.
    3. If $n \\bmod$ ``target_update_interval`` $= 0$: :func:`update_target`.
    4. If ``eval_freq`` > 0 and $n \\bmod$ ``eval_freq`` $= 0$: :func:`evaluate`
       ``eval_episodes`` episodes; record the step and the mean; stop once the
       mean reaches ``reward_threshold`` (when it is set).

    Fill every field of the result: the losses with the env step of each update,
    epsilons and probe Q-values now and then (say every ``T // LOG_POINTS``
    steps), ``total_steps``, ``gradient_updates``, ``wall_time`` and a
    ``stop_reason``. If a loss or Q-value becomes NaN or infinite, stop and say
    so in ``stop_reason`` (start it with ``"diverged"``).
    """
    raise NotImplementedError(
        "write the loop: act epsilon-greedily, push (s, a, r, s', terminated), train every train_freq steps "
        "after learning_starts, update the target every target_update_interval steps, record everything"
    )


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
    raise NotImplementedError("make a Figure with the returns and their moving average")
