"""Exercise 3 (reference): the DQN training loop.

The loop alternates two things. It *acts*: an $\\epsilon$-greedy action
$a_t = \\arg\\max_a Q_\\theta(s_t, a)$ (or a random one with probability
$\\epsilon_t$), one environment step, and the transition $(s_t, a_t, r_t,
s_{t+1}, d_t)$ pushed into the replay buffer $\\mathcal{D}$. And it *learns*:
every ``train_freq`` steps, ``gradient_steps`` minibatch updates of the online
network towards the TD target of a slowly moving target network $Q_{\\bar\\theta}$:

$$y_j = r_j + \\gamma (1 - d_j) \\max_{a'} Q_{\\bar\\theta}(s'_j, a'), \\qquad
L(\\theta) = \\frac{1}{B} \\sum_j \\ell\\big(Q_\\theta(s_j, a_j) - y_j\\big)$$

with $\\ell$ the Huber or the squared error. Here $d_j$ is ``terminated`` only:
when an episode is *truncated* by a time limit the state still has a future,
so the target keeps bootstrapping from $s'_j$.

Time is counted in environment steps, with Stable-Baselines3's meaning of
every setting (see :mod:`playground.core.config`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from numpy.typing import NDArray
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812 - the usual PyTorch alias

from playground.core.config import DQNConfig, linear_epsilon
from playground.core.curves import moving_average
from playground.core.envs import make_env
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
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_optimizer(params: Any, learning_rate: float) -> torch.optim.Optimizer:
    """Adam with step size ``learning_rate`` over ``params`` (the online network's parameters).

    ``fused=True`` asks for PyTorch's one-kernel Adam: the same update rule as the
    default loop over tensors, rounded differently in the last bits, and about a
    tenth faster on a whole CPU training run (the update is most of its time).
    """
    return torch.optim.Adam(params, lr=learning_rate, fused=True)


def greedy_action(q_network: nn.Module, state: NDArray[np.float32]) -> int:
    """$\\arg\\max_a Q_\\theta(s, a)$ for one state, without building a graph."""
    with torch.no_grad():
        q_values = q_network(torch.from_numpy(state).unsqueeze(0))
    return int(q_values.argmax())


def td_loss(
    q_network: nn.Module,
    target_network: nn.Module,
    batch: Sequence[Any],
    gamma: float,
    loss: str,
) -> Tensor:
    """The TD loss of one minibatch.

    $y_j = r_j + \\gamma (1 - d_j) \\max_{a'} Q_{\\bar\\theta}(s'_j, a')$ is computed
    without gradient (the target is a fixed label), and the loss compares it with
    $Q_\\theta(s_j, a_j)$: Huber (``smooth_l1``) or squared error.
    """
    states, actions, rewards, next_states, dones = (np.asarray(x) for x in batch[:5])
    s = torch.from_numpy(states.astype(np.float32, copy=False))
    a = torch.from_numpy(actions.astype(np.int64, copy=False)).reshape(-1, 1)
    r = torch.from_numpy(rewards.astype(np.float32, copy=False)).reshape(-1)
    s_next = torch.from_numpy(next_states.astype(np.float32, copy=False))
    d = torch.from_numpy(dones.astype(np.float32, copy=False)).reshape(-1)
    with torch.no_grad():
        target = r + gamma * (1.0 - d) * target_network(s_next).max(dim=1).values
    predicted = q_network(s).gather(1, a).squeeze(1)
    if loss == "huber":
        return F.smooth_l1_loss(predicted, target)
    return F.mse_loss(predicted, target)


def update_target(target_network: nn.Module, q_network: nn.Module, tau: float) -> None:
    """$\\bar\\theta \\leftarrow \\tau \\theta + (1 - \\tau) \\bar\\theta$: a hard copy when $\\tau = 1$."""
    if tau >= 1.0:
        target_network.load_state_dict(q_network.state_dict())
        return
    with torch.no_grad():
        for target_param, param in zip(target_network.parameters(), q_network.parameters(), strict=True):
            target_param.lerp_(param, tau)


def evaluate(q_network: nn.Module, env_id: str, episodes: int = 20, seed: int = 0) -> list[float]:
    """Undiscounted returns of ``episodes`` greedy episodes ($\\epsilon = 0$).

    A fresh environment is made and reset with ``seed`` for the first episode
    (the next ones continue its random stream), so an evaluation never touches
    the training environment and the same seed gives the same returns.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes!r}")
    env = make_env(env_id)
    was_training = q_network.training
    q_network.eval()
    returns: list[float] = []
    try:
        for episode in range(episodes):
            state, _ = env.reset(seed=seed if episode == 0 else None)
            total, done = 0.0, False
            while not done:
                action = greedy_action(q_network, np.asarray(state, dtype=np.float32))
                state, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
    finally:
        q_network.train(was_training)
        env.close()
    return returns


def gradient_phase(
    q_network: nn.Module,
    target_network: nn.Module,
    optimizer: torch.optim.Optimizer,
    buffer: Any,
    config: DQNConfig,
    updates: int,
) -> list[float]:
    """``updates`` Adam steps on :func:`td_loss`, each on a fresh uniform minibatch from the buffer.

    Gradients are clipped to a global L2 norm of ``max_grad_norm`` before each
    step. Returns the loss values; stops after the first one that is not finite.
    """
    values: list[float] = []
    parameters = [p for group in optimizer.param_groups for p in group["params"]]  # the online network's
    for _ in range(updates):
        batch = buffer.sample_indices(config.batch_size)
        loss = td_loss(q_network, target_network, batch, config.gamma, config.loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(parameters, config.max_grad_norm)
        optimizer.step()
        values.append(loss.item())
        if not math.isfinite(values[-1]):
            break
    return values


def train_dqn(
    config: DQNConfig,
    *,
    q_network_cls: type[nn.Module] = CustomQNetwork,
    buffer_cls: type[Any] = ReplayBufferWithIndices,
    callback: Callback | None = None,
) -> TrainingResult:
    """Train a DQN agent on ``config.env_id``: the trained network, the episodes and the TD losses.

    Per env step $t = 0, 1, \\dots, T - 1$, with $n = t + 1$ steps done after it:

    1. $\\epsilon_t$ from :func:`playground.core.config.linear_epsilon`; act
       $\\epsilon$-greedily; step; push $(s, a, r, s', d = \\text{terminated})$;
       when the episode is terminated *or* truncated, record its return and
       length, call ``callback`` (``False`` stops the run at once) and reset.
    2. If $n \\bmod$ ``train_freq`` $= 0$ and $n >$ ``learning_starts``:
       :func:`gradient_phase` with ``gradient_steps`` updates (-1: as many as
       ``train_freq``), its losses recorded at step $n$. No update while the
       buffer holds fewer than ``batch_size`` transitions.
    3. If $n \\bmod$ ``target_update_interval`` $= 0$: :func:`update_target`.

    Same config and seed, same result: Python, NumPy and PyTorch are seeded,
    and so are the environment and its action space. What else a page shows of
    the run (timing, epsilon and probe curves, evaluations during training,
    why it stopped) the app measures around this loop.
    """
    seed_everything(config.seed)
    env = make_env(config.env_id)
    state_dim = int(np.prod(env.observation_space.shape or (1,)))
    action_dim = int(env.action_space.n)  # type: ignore[attr-defined]
    env.action_space.seed(config.seed)
    explore_rng = random.Random(config.seed)

    q_network = q_network_cls(state_dim, action_dim, list(config.hidden_dims))
    target_network = q_network_cls(state_dim, action_dim, list(config.hidden_dims))
    target_network.load_state_dict(q_network.state_dict())
    target_network.requires_grad_(False)
    buffer = buffer_cls(config.buffer_size)
    optimizer = make_optimizer(q_network.parameters(), config.learning_rate)
    updates_per_phase = config.train_freq if config.gradient_steps == -1 else config.gradient_steps

    result = TrainingResult(q_network=q_network)
    state = np.asarray(env.reset(seed=config.seed)[0], dtype=np.float32)
    episode_reward, episode_length = 0.0, 0
    for t in range(config.total_timesteps):
        n = t + 1
        epsilon = linear_epsilon(config, t)
        explore = explore_rng.random() < epsilon
        action = int(env.action_space.sample()) if explore else greedy_action(q_network, state)
        next_state, reward, terminated, truncated, _ = env.step(action)
        next_state = np.asarray(next_state, dtype=np.float32)
        # Only a real terminal state ends the bootstrap; a time limit does not.
        buffer.push(state, action, float(reward), next_state, bool(terminated))
        state = next_state
        episode_reward += float(reward)
        episode_length += 1

        if terminated or truncated:
            result.episode_rewards.append(episode_reward)
            result.episode_lengths.append(episode_length)
            if callback is not None and callback(TrainingProgress(n, episode_reward, episode_length)) is False:
                break
            state = np.asarray(env.reset()[0], dtype=np.float32)
            episode_reward, episode_length = 0.0, 0

        if n % config.train_freq == 0 and n > config.learning_starts and len(buffer) >= config.batch_size:
            values = gradient_phase(q_network, target_network, optimizer, buffer, config, updates_per_phase)
            result.losses.extend(values)
            result.loss_steps.extend([n] * len(values))
        if n % config.target_update_interval == 0:
            update_target(target_network, q_network, config.tau)

    env.close()
    return result


def plot_rewards(
    episode_rewards: Sequence[float] | TrainingResult,
    window: int = 20,
    *,
    title: str = "Reward per episode",
    threshold: float | None = None,
) -> Figure:
    """Episode returns (faint) and their ``window``-episode moving average; optional solved line.

    ``episode_rewards`` may also be a whole :class:`TrainingResult`.
    """
    if isinstance(episode_rewards, TrainingResult):
        episode_rewards = episode_rewards.episode_rewards
    figure = Figure(figsize=(7, 3.5), layout="constrained")
    ax = figure.add_subplot()
    episodes = np.arange(1, len(episode_rewards) + 1)
    ax.plot(episodes, episode_rewards, color="tab:blue", alpha=0.3, linewidth=1, label="episode return")
    if len(episode_rewards):
        ax.plot(
            episodes, moving_average(episode_rewards, window), color="tab:blue", linewidth=2, label=f"mean of {window}"
        )
    if threshold is not None:
        ax.axhline(threshold, color="tab:green", linestyle="--", linewidth=1, label=f"solved ({threshold:.4g})")
    ax.set_xlabel("episode")
    ax.set_ylabel("return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return figure
