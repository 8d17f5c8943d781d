"""Checks for exercise 3: a learner's ``train_dqn`` loop (and ``evaluate``).

Every check trains briefly on a tiny environment, with tiny networks, and
looks at *behaviour*: what the result records, what the injected network and
buffer saw, and what the trained network believes. Two small environments make
the classic bugs visible:

* ``LineWorld-v0`` (8 cells, goal +1 at cell 7) with a network whose output
  layer starts at zero, so $Q \\equiv 0$ at first: with the target network
  frozen the goal reward can reach cell 6 (one step) but never cell 5.
* A one-state environment that pays +1 per step and only ever *truncates*
  (a time limit of 5 steps): its true value is $1 / (1 - \\gamma)$; a loop that
  treats truncation as the end of the future learns a much smaller value.
* "Arms": one state, four actions, +1 for action 2 only, never terminating, each
  instance logging the seeds of its resets. A greedy policy scores the time limit
  exactly, so one exploring step in a thousand shows, and the log shows how
  ``evaluate`` seeds and reuses environments. Variants pay more in each fresh
  instance (every evaluation has its own mean) or turn every reward infinite after
  60 steps (a run the app must stop as "diverged": ``tests/test_monitor.py``).

Loops run as the app runs them (:func:`playground.core.monitor.train_monitored`):
the app measures the env steps and episode ends of the env the loop makes, so a
check can compare them with what the loop recorded.

The helpers (``td_loss``, ``update_target``, ``greedy_action``, ``evaluate``,
``gradient_phase``, ...) are called directly on inputs whose right answer is
computed here. The loop itself is *traced*: the injected network and buffer and
global optimizer-step hooks record every batch, every gradient the optimizer
stepped with and the weights before and after, so each recorded loss, each
clipped gradient, Adam's step size and the target network's Polyak averaging
are compared with the config the loop was given, whatever shape the loop has.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from numpy.typing import NDArray
from torch import nn

from playground.checks import CauseHint, CheckFailed, CheckNotRun, check, describe_exception, plain, require
from playground.core.config import PRESETS, DQNConfig, linear_epsilon
from playground.core.envs import LINEWORLD_ID, LineWorld, make_env
from playground.core.monitor import MonitorError, train_monitored
from playground.core.results import TrainingProgress, TrainingResult
from solutions.q_network import CustomQNetwork
from solutions.replay_buffer import ReplayBufferWithIndices

TRUNCATING_ENV_ID = "PlaygroundCheckTruncatingOnly-v0"
TRUNCATING_STEPS = 5
TRUNCATING_GAMMA = 0.9


class AlwaysTruncated(gym.Env[NDArray[np.float32], np.int64]):
    """One state, two actions that do the same, reward +1 per step; never terminates.

    Registered with a time limit of ``TRUNCATING_STEPS`` steps, so every episode
    ends by truncation and $Q(s, a) = \\sum_k \\gamma^k = 1 / (1 - \\gamma)$.
    """

    def __init__(self, render_mode: str | None = None) -> None:
        self.observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.render_mode = render_mode

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        return np.ones(1, dtype=np.float32), {}

    def step(self, action: np.int64 | int) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        return np.ones(1, dtype=np.float32), 1.0, False, False, {}


if TRUNCATING_ENV_ID not in gym.registry:
    gym.register(id=TRUNCATING_ENV_ID, entry_point=f"{__name__}:AlwaysTruncated", max_episode_steps=TRUNCATING_STEPS)


# --- Recording classes: the reference network and buffer, counting how they are used ---------


class RecordingNetwork(CustomQNetwork):
    """The reference network; counts the instances made and the forward calls."""

    instances = 0
    forward_calls = 0
    built_with: list[list[int]] = []  # noqa: RUF012 - a class-level log, reset by each check

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__(state_dim, action_dim, hidden_dims)
        RecordingNetwork.instances += 1
        RecordingNetwork.built_with.append([int(w) for w in hidden_dims])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        RecordingNetwork.forward_calls += 1
        return super().forward(x)


class ZeroHeadNetwork(CustomQNetwork):
    """The reference network with its output layer zeroed: $Q \\equiv 0$ until it learns."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__(state_dim, action_dim, hidden_dims)
        output = self.net[-1]
        assert isinstance(output, nn.Linear)
        with torch.no_grad():
            output.weight.zero_()
            output.bias.zero_()


class RecordingBuffer(ReplayBufferWithIndices):
    """The reference buffer; records capacities, pushed ``done`` flags and batch sizes."""

    capacities: list[int] = []  # noqa: RUF012 - a class-level log, reset by each check
    done_flags: list[bool] = []  # noqa: RUF012
    batch_sizes: list[int] = []  # noqa: RUF012

    @classmethod
    def reset_log(cls) -> None:
        cls.capacities, cls.done_flags, cls.batch_sizes = [], [], []

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        type(self).capacities.append(capacity)

    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        type(self).done_flags.append(bool(done))
        super().push(state, action, reward, next_state, done)

    def sample_indices(self, batch_size: int) -> Any:
        type(self).batch_sizes.append(batch_size)
        return super().sample_indices(batch_size)


# --- Helpers ------------------------------------------------------------------------------------


MAKE_ENV_FIX = (
    "The docstring's setup makes it with env = make_env(config.env_id), imported from playground.core.envs at "
    "the top of the stub: the app measures the run (steps, time, evaluations) through that env. gym.make or an "
    "env built by hand trains the same but hides the run from the app."
)


def small_lineworld(**changes: Any) -> DQNConfig:
    """A LineWorld run of a few hundred steps with a tiny network."""
    base = PRESETS["lineworld"].replace(
        total_timesteps=600, learning_starts=100, train_freq=2, hidden_dims=(16,), eval_freq=0, reward_threshold=None
    )
    return base.replace(**changes)


def train(mod: ModuleType, config: DQNConfig, **kwargs: Any) -> TrainingResult:
    """Run the learner's ``train_dqn`` as the app runs it (measured around it) and insist on a result back."""
    try:
        result = train_monitored(mod.train_dqn, config, **kwargs)
    except MonitorError as err:  # a RuntimeError too: caught first
        if "TrainingResult" in str(err):
            raise CheckFailed(
                f"{err}: build one with TrainingResult(q_network=online_network) and fill its episode and loss lists",
                function="train_dqn",
            ) from None
        raise CheckFailed(f"{err}. {MAKE_ENV_FIX}", function="train_dqn") from None
    except RuntimeError as err:
        if "does not require grad" not in str(err):
            raise
        # gradient_phase passed its own check (else this check is not run): the loop froze the online network.
        raise CheckFailed(
            f"the TD loss had no gradient ({plain(str(err)).strip()}): the online network's parameters do not "
            "require grad when gradient_phase runs. Is target_network the online network itself (target_network "
            "= q_network gives one network two names), so that freezing the target froze the online network too? "
            "Build the target as a second network loaded with the online weights (or copy.deepcopy the online one)",
            function="train_dqn",
        ) from None
    if not isinstance(result.q_network, nn.Module):
        raise CheckFailed(f"result.q_network is a {type(result.q_network).__name__}; expected the trained nn.Module")
    return result


def q_values(network: nn.Module, state: Sequence[float]) -> NDArray[np.float64]:
    """$Q(s, \\cdot)$ of one state as float64 NumPy."""
    with torch.no_grad():
        out = network(torch.tensor([list(state)], dtype=torch.float32))
    return np.asarray(out.detach().cpu().numpy(), dtype=np.float64).reshape(-1)


def lineworld_q_table(network: nn.Module, size: int = 8) -> NDArray[np.float64]:
    """$Q(s, a)$ of every LineWorld cell: shape (size, 2)."""
    return np.stack([q_values(network, np.eye(size, dtype=np.float32)[cell].tolist()) for cell in range(size)])


def greedy_return(network: nn.Module, env_id: str = LINEWORLD_ID, seed: int = 0) -> float:
    """The return of one greedy episode, played here (not with the learner's ``evaluate``)."""
    env = make_env(env_id)
    try:
        state, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            action = int(q_values(network, np.asarray(state, dtype=np.float32).tolist()).argmax())
            state, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = bool(terminated or truncated)
        return total
    finally:
        env.close()


def fmt(values: Sequence[float] | NDArray[np.float64]) -> str:
    return "[" + ", ".join(f"{float(v):.2f}" for v in values) + "]"


# --- Direct checks of the helpers -------------------------------------------------------------


def _table_network(table: Sequence[Sequence[float]]) -> nn.Linear:
    """A network whose Q-values are ``table[s]`` for the one-hot state ``s`` (a Linear layer, no bias)."""
    values = torch.tensor(table, dtype=torch.float32)
    net = nn.Linear(values.shape[0], values.shape[1], bias=False)
    with torch.no_grad():
        net.weight.copy_(values.T)
    return net


# Q-tables of the online and the target network for the td_loss check: 4 one-hot states, 2 actions.
TD_ONLINE = [[0.0, 1.0], [2.0, -1.0], [0.5, 0.5], [3.0, 0.0]]
TD_TARGET = [[1.0, 4.0], [0.0, 2.0], [-1.0, 1.0], [10.0, 0.0]]


def _td_batch() -> tuple[Any, ...]:
    """Five transitions, one terminal, whose TD errors range from 0.6 to 12.6 (as the reference buffer returns them)."""
    eye = np.eye(4, dtype=np.float32)
    states = eye[[0, 1, 2, 3, 0]]
    actions = np.array([1, 0, 1, 0, 0], dtype=np.int64)
    rewards = np.array([1.0, 0.5, -2.0, 12.0, 0.0], dtype=np.float32)
    next_states = eye[[1, 2, 3, 0, 3]]
    dones = np.array([0.0, 0.0, 1.0, 0.0, 0.0], dtype=np.float32)
    return states, actions, rewards, next_states, dones, [0, 1, 2, 3, 4]


def _huber(errors: NDArray[np.float64]) -> NDArray[np.float64]:
    absolute = np.abs(errors)
    return np.where(absolute <= 1.0, 0.5 * errors**2, absolute - 0.5)


def _td_errors(
    q_online: NDArray[np.float64],
    q_target_next: NDArray[np.float64],
    batch: Sequence[Any],
    gamma: float,
    use_dones: bool = True,
) -> NDArray[np.float64]:
    """$Q(s_j, a_j) - (r_j + \\gamma (1 - d_j) \\max_{a'} Q_{target}(s'_j, a'))$ from Q-value rows."""
    actions = np.asarray(batch[1]).reshape(-1).astype(int)
    rewards = np.asarray(batch[2], dtype=np.float64).reshape(-1)
    dones = np.asarray(batch[4], dtype=np.float64).reshape(-1) if use_dones else 0.0
    target = rewards + gamma * (1.0 - dones) * q_target_next.max(axis=1)
    return np.asarray(q_online[np.arange(len(actions)), actions] - target, dtype=np.float64)


def _reduce(errors: NDArray[np.float64], loss: str) -> float:
    return float(np.mean(_huber(errors) if loss == "huber" else errors**2))


def _rows(network: nn.Module, states: Any) -> NDArray[np.float64]:
    with torch.no_grad():
        out = network(torch.as_tensor(np.asarray(states, dtype=np.float32)))
    return np.asarray(out.detach().numpy(), dtype=np.float64)


def _call_td_loss(mod: ModuleType, online: nn.Module, target: nn.Module, gamma: float, loss: str) -> torch.Tensor:
    value = mod.td_loss(online, target, _td_batch(), gamma, loss)
    require(
        isinstance(value, torch.Tensor) and value.numel() == 1,
        f"td_loss should return a scalar tensor (the mean loss of the batch), got {value!r}",
    )
    assert isinstance(value, torch.Tensor)
    return value


# The functions a run of the loop calls: its checks report `not_run` while one of these fails its own.
LOOP_HELPERS = ("seed_everything", "make_optimizer", "greedy_action", "td_loss", "update_target", "gradient_phase")


@check(
    "train_dqn",
    "seed_everything seeds random, NumPy and torch",
    timeout=20,
    tests="seed_everything",
    enforces=("Seed Python's, NumPy's and PyTorch's global generators with ``seed``.",),
)
def seeds_three_generators(mod: ModuleType) -> str:
    import random

    def draw(seed: int) -> tuple[float, float, float]:
        mod.seed_everything(seed)
        return random.random(), float(np.random.rand()), float(torch.rand(1).item())

    first, again, other = draw(7), draw(7), draw(8)
    names = ("random", "numpy", "torch")
    unseeded = [name for name, a, b in zip(names, first, again, strict=True) if a != b]
    require(
        not unseeded,
        f"after seed_everything(7) twice, {', '.join(unseeded)} gave different numbers: seed random, "
        "np.random and torch (random.seed, np.random.seed, torch.manual_seed)",
    )
    constant = [name for name, a, b in zip(names, first, other, strict=True) if a == b]
    require(not constant, f"seeds 7 and 8 gave the same {', '.join(constant)} numbers: seed with the given seed")
    return "seed_everything(7) twice repeats random, NumPy and torch; seed 8 differs"


@check(
    "train_dqn",
    "make_optimizer: Adam at learning_rate",
    timeout=20,
    tests="make_optimizer",
    enforces=("Adam with step size ``learning_rate`` over ``params``",),
)
def adam_at_learning_rate(mod: ModuleType) -> str:
    net = _small_net(0)
    optimizer = mod.make_optimizer(net.parameters(), 0.0123)
    require(
        isinstance(optimizer, torch.optim.Adam),
        f"make_optimizer returned {type(optimizer).__name__}; expected torch.optim.Adam",
    )
    lrs = [float(group["lr"]) for group in optimizer.param_groups]
    covered = {id(p) for group in optimizer.param_groups for p in group["params"]}
    require(lrs == [0.0123], f"make_optimizer(params, 0.0123) made an Adam with lr {lrs}: use lr=learning_rate")
    require(
        covered == {id(p) for p in net.parameters()},
        "make_optimizer's Adam does not hold exactly the parameters it was given",
    )
    return "Adam over the given parameters with the given learning rate"


@check(
    "train_dqn",
    "greedy_action picks the argmax",
    timeout=20,
    tests="greedy_action",
    enforces=(
        "for one state, without building an autograd graph.",
        "Returns the action as a Python ``int``.",
    ),
)
def greedy_action_argmax(mod: ModuleType) -> str:
    table = [[0.1, 0.9, -1.0], [2.0, -3.0, 1.5], [-0.5, -0.2, -0.1], [0.0, 5.0, 4.9]]
    net = _GradModeNetwork(table)
    picks = []
    for state in range(4):
        action = mod.greedy_action(net, np.eye(4, dtype=np.float32)[state])
        require(
            isinstance(action, int) and not isinstance(action, bool),
            f"greedy_action returned {action!r} ({type(action).__name__}); expected a Python int "
            "(int(q_values.argmax()))",
        )
        picks.append(action)
    want = [int(np.argmax(row)) for row in table]
    require(
        picks == want,
        f"for Q-values {table} greedy_action chose {picks}; the argmax per state is {want}"
        + (": it takes the argmin" if picks == [int(np.argmin(row)) for row in table] else ""),
    )
    require(
        not any(net.grad_modes),
        "greedy_action ran the network with gradients enabled: wrap the forward pass in torch.no_grad(), "
        "acting needs no graph",
    )
    return f"argmax {want}, no graph built"


@check(
    "train_dqn",
    "td_loss matches the math",
    timeout=20,
    tests="td_loss",
    enforces=(
        "$y_j = r_j + \\\\gamma (1 - d_j) \\\\max_{a'} Q_{\\\\bar\\\\theta}(s'_j, a')$ comes from the *target* network",
        "is a fixed label: no gradient flows through it.",
        "The loss is the mean over the batch of",
        'the Huber loss (``loss == "huber"``, PyTorch\'s smooth L1) or the squared error (``"mse"``).',
    ),
    hint=(
        "The stub's target is y_j = r_j + gamma (1 - d_j) max_a' Q_target(s'_j, a'): the next-state values come "
        "from target_network (not q_network), the factor (1 - d_j) drops them after a terminal transition, and y "
        "is a fixed label (computed under torch.no_grad()). The loss is the mean over the batch of the Huber loss "
        "or the squared error of Q(s_j, a_j) - y_j, as `loss` says."
    ),
    cause_hints=(
        CauseHint(
            "the next-state value comes from the online network",
            "In the stub's y_j = r_j + gamma (1 - d_j) max_a' Q_theta-bar(s'_j, a'), theta-bar are the *target* "
            "network's weights: take the next-state values from target_network(next_states), not from q_network. "
            "The online network changes with every gradient step, so a target built from it moves with each "
            "update; the target network holds it still between target updates.",
        ),
        CauseHint(
            "the terminal flag is ignored",
            "In the stub's y_j = r_j + gamma (1 - d_j) max_a' Q_target(s'_j, a'), the factor (1 - d_j) is 0 after a "
            "terminal transition: nothing follows the end of an episode, so y_j = r_j there. Multiply the "
            "bootstrap term by (1 - dones), with dones as float32 0/1.",
        ),
    ),
)
def td_loss_matches_math(mod: ModuleType) -> str:
    batch = _td_batch()
    online, target = _table_network(TD_ONLINE), _table_network(TD_TARGET)
    q_s = _rows(online, batch[0])
    seen: list[str] = []
    for gamma in (0.9, 0.5):
        q_next, q_next_online = _rows(target, batch[3]), _rows(online, batch[3])
        errors = _td_errors(q_s, q_next, batch, gamma)
        for loss in ("huber", "mse"):
            # A loss name built at run time (from a form or a JSON file) is equal, not identical, to the literal.
            name = "".join(list(loss))
            got = float(_call_td_loss(mod, online, target, gamma, name).item())
            want = _reduce(errors, loss)
            if math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6):
                continue
            other = "mse" if loss == "huber" else "huber"
            wrong_name = "squared error" if loss == "huber" else "Huber loss"
            big = float(np.max(np.abs(errors)))
            causes = {
                f"your loss ignores `loss`: asked for {loss!r} it computed the {wrong_name}"
                f" (for a TD error of {big:.1f} Huber gives {float(_huber(np.array(big))):.1f} and the squared error "
                f"{big**2:.1f}); use F.smooth_l1_loss for 'huber' and F.mse_loss for 'mse'": _reduce(errors, other),
                "the loss is summed over the batch instead of averaged (the mean over the B transitions)": float(
                    np.sum(_huber(errors) if loss == "huber" else errors**2)
                ),
                "the next-state value comes from the online network: max_a' Q(s', a') must use target_network": (
                    _reduce(_td_errors(q_s, q_next_online, batch, gamma), loss)
                ),
                "the terminal flag is ignored: multiply the bootstrap term by (1 - done)": _reduce(
                    _td_errors(q_s, q_next, batch, gamma, use_dones=False), loss
                ),
                "gamma is not the one passed in (it looks like 0.99)": _reduce(
                    _td_errors(q_s, q_next, batch, 0.99), loss
                ),
            }
            cause = next(
                (text for text, value in causes.items() if math.isclose(got, value, rel_tol=1e-4, abs_tol=1e-6)),
                "check y = r + gamma * (1 - done) * max_a' Q_target(s', a') and the loss of Q(s, a) - y",
            )
            raise CheckFailed(
                f"td_loss(loss={loss!r}, gamma={gamma}) on a batch with TD errors {fmt(errors)} returned {got:.4f}; "
                f"expected {want:.4f}: {cause}"
            )
        seen.append(f"gamma={gamma}")
    # The target is a fixed label: with the same network on both sides, the gradient is the semi-gradient.
    net = _table_network(TD_ONLINE)
    value = _call_td_loss(mod, net, net, 0.9, "mse")
    require(value.requires_grad, "td_loss returned a tensor without gradient: compute Q(s, a) with grad enabled")
    value.backward()  # type: ignore[no-untyped-call]
    grad = net.weight.grad
    require(grad is not None, "td_loss gave the online network no gradient")
    assert grad is not None
    errors = _td_errors(q_s, _rows(net, batch[3]), batch, 0.9)
    expected = np.zeros((4, 2))
    for j, (state, action) in enumerate(zip(np.argmax(batch[0], axis=1), batch[1], strict=True)):
        expected[int(state), int(action)] += 2.0 * errors[j] / len(errors)
    got_grad = grad.detach().numpy().T.astype(np.float64)
    require(
        bool(np.allclose(got_grad, expected, atol=1e-4)),
        "with the same network as online and target, the gradient of td_loss flows through the TD target too: "
        "compute y under torch.no_grad() (or .detach() it), the target is a fixed label",
    )
    return f"Huber and squared error match the math for {' and '.join(seen)}; the target carries no gradient"


def _small_net(seed: int) -> CustomQNetwork:
    torch.manual_seed(seed)
    return CustomQNetwork(3, 2, [5])


def _flat(network: nn.Module) -> NDArray[np.float64]:
    return np.concatenate([p.detach().numpy().astype(np.float64).reshape(-1) for p in network.parameters()])


@check(
    "train_dqn",
    "update_target blends by tau",
    timeout=20,
    tests="update_target",
    enforces=(
        "a hard copy when $\\\\tau = 1$.",
        "Changes ``target_network`` in place (every parameter) and leaves ``q_network`` as it is.",
    ),
)
def update_target_blends(mod: ModuleType) -> str:
    for tau in (0.3, 0.8):
        online, target = _small_net(1), _small_net(2)
        theta, theta_bar = _flat(online), _flat(target)
        mod.update_target(target, online, tau)
        got = _flat(target)
        require(
            bool(np.allclose(_flat(online), theta, atol=1e-7)),
            "update_target changed the online network: only the target network may change",
        )
        want = tau * theta + (1 - tau) * theta_bar
        if not np.allclose(got, want, atol=1e-6):
            if np.allclose(got, (1 - tau) * theta + tau * theta_bar, atol=1e-6):
                cause = (
                    f"tau and 1 - tau are swapped: the target kept {tau} of itself and took {1 - tau:.1f} of the online"
                )
            elif np.allclose(got, theta, atol=1e-6):
                cause = "it copied the online weights: a hard copy is right only for tau = 1"
            elif np.allclose(got, theta_bar, atol=1e-6):
                cause = "the target did not change: blend it in place (under torch.no_grad()) or load the blend"
            else:
                cause = "check the blend target <- tau * online + (1 - tau) * target, parameter by parameter"
            raise CheckFailed(
                f"after update_target(target, online, tau={tau}) the target's first weights are {fmt(got[:3])}; "
                f"expected tau * online + (1 - tau) * target = {fmt(want[:3])}: {cause}"
            )
    online, target = _small_net(3), _small_net(4)
    mod.update_target(target, online, 1.0)
    require(
        bool(np.allclose(_flat(target), _flat(online), atol=1e-7)),
        "update_target with tau = 1 should copy the online weights into the target exactly",
    )
    return "tau = 0.3 and 0.8 blend, tau = 1 copies"


class _GradModeNetwork(nn.Module):
    """Q-values ``s @ W`` that remembers whether gradients were enabled in its forward passes."""

    def __init__(self, table: Sequence[Sequence[float]]) -> None:
        super().__init__()
        self.inner = _table_network(table)
        self.grad_modes: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.grad_modes.append(torch.is_grad_enabled())
        return self.inner(x)  # type: ignore[no-any-return]


# An environment for evaluate: 4 actions, +1 for action 2 and 0 otherwise, never terminates, and
# each instance logs the seeds of its resets. With the time limit every greedy episode scores the
# limit exactly; one random action in a thousand steps shows.
ARMS_ENV_ID = "PlaygroundCheckArms-v0"
ARMS_EVAL_ENV_ID = "PlaygroundCheckArmsLong-v0"
ARMS_STEPS = 20
ARMS_EVAL_STEPS = 250
ARMS_BEST = 2


class Arms(gym.Env[NDArray[np.float32], np.int64]):
    """One state, four actions; action 2 pays +1, the others 0. Every instance logs its resets."""

    resets: list[tuple[int, int | None]] = []  # noqa: RUF012 - (instance number, seed): a class-level log
    instances = 0

    def __init__(self, render_mode: str | None = None) -> None:
        self.observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = spaces.Discrete(4)
        self.render_mode = render_mode
        Arms.instances += 1  # one count for every kind of Arms
        self.number = Arms.instances

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        Arms.resets.append((self.number, seed))
        return np.ones(1, dtype=np.float32), {}

    def step(self, action: np.int64 | int) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        return np.ones(1, dtype=np.float32), float(int(action) == ARMS_BEST), False, False, {}

    @classmethod
    def reset_log(cls) -> None:
        cls.resets, cls.instances = [], 0


class BlowUp(Arms):
    """The Arms environment, except that from env step ``BLOW_UP_AT`` on every reward is infinite."""

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        if not hasattr(self, "steps"):
            self.steps = 0
        return super().reset(seed=seed, options=options)

    def step(self, action: np.int64 | int) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        self.steps = getattr(self, "steps", 0) + 1
        state, reward, terminated, truncated, info = super().step(action)
        return state, (math.inf if self.steps >= BLOW_UP_AT else reward), terminated, truncated, info


class GrowingArms(Arms):
    """The Arms environment whose good arm pays the instance's number: each fresh environment pays more."""

    def step(self, action: np.int64 | int) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        state, reward, terminated, truncated, info = super().step(action)
        return state, reward * self.number, terminated, truncated, info


GROWING_ENV_ID = "PlaygroundCheckGrowingArms-v0"
if GROWING_ENV_ID not in gym.registry:
    gym.register(id=GROWING_ENV_ID, entry_point=f"{__name__}:GrowingArms", max_episode_steps=ARMS_STEPS)

BLOW_UP_ENV_ID = "PlaygroundCheckBlowUp-v0"
BLOW_UP_AT = 60
if BLOW_UP_ENV_ID not in gym.registry:
    gym.register(id=BLOW_UP_ENV_ID, entry_point=f"{__name__}:BlowUp", max_episode_steps=ARMS_STEPS)

for _id, _steps in ((ARMS_ENV_ID, ARMS_STEPS), (ARMS_EVAL_ENV_ID, ARMS_EVAL_STEPS)):
    if _id not in gym.registry:
        gym.register(id=_id, entry_point=f"{__name__}:Arms", max_episode_steps=_steps)


class _FavouringNetwork(CustomQNetwork):
    """The reference network with zero weights and an output bias of 1 on one action: greedy always picks it."""

    def favoured(self, action_dim: int) -> int:
        raise NotImplementedError

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__(state_dim, action_dim, hidden_dims)
        with torch.no_grad():
            for param in self.parameters():
                param.zero_()
            output = self.net[-1]
            assert isinstance(output, nn.Linear)
            output.bias[self.favoured(action_dim)] = 1.0


class ArmsNetwork(_FavouringNetwork):
    """Greedy picks action 2, the best arm of the Arms environment."""

    def favoured(self, action_dim: int) -> int:
        return ARMS_BEST % action_dim


@check(
    "train_dqn",
    "evaluate: greedy, seeded, fresh env",
    timeout=30,
    tests="evaluate",
    uses=("greedy_action",),
    enforces=(
        "Make a *fresh* environment with ``make_env(env_id)`` (never the training one), reset it with "
        "``seed`` for the first episode and without a seed after that",
        "Raise ``ValueError`` when ``episodes`` < 1.",
    ),
)
def evaluate_seeded_greedy(mod: ModuleType) -> str:
    Arms.reset_log()
    episodes = 4
    returns = mod.evaluate(ArmsNetwork(1, 4, [4]), ARMS_EVAL_ENV_ID, episodes, 17)
    require(
        isinstance(returns, list) and len(returns) == episodes,
        f"evaluate(network, env_id, episodes={episodes}, seed=17) should return a list of {episodes} returns, "
        f"got {returns!r}",
    )
    expected = float(ARMS_EVAL_STEPS)
    off = [float(r) for r in returns if not math.isclose(float(r), expected)]
    require(
        not off,
        f"a network whose greedy action always pays +1 should score {expected:.0f} in each {ARMS_EVAL_STEPS}-step "
        f"episode, got {fmt(returns)}: {expected * episodes - sum(map(float, returns)):.0f} of "
        f"{ARMS_EVAL_STEPS * episodes} actions were not greedy. evaluate must not explore (epsilon = 0): "
        "always play argmax_a Q(s, a)",
    )
    seeds = [seed for _, seed in Arms.resets]
    require(
        bool(seeds) and seeds[0] == 17,
        f"the evaluation environment was reset with seeds {seeds[:4]}: reset it with seed=seed (17 here) for the "
        "first episode, so the same seed gives the same returns",
    )
    require(
        all(seed != 17 for seed in seeds[1:]),
        f"the evaluation environment was reset with seeds {seeds[:6]}: seed only the first reset (with the same "
        "seed every episode would start the same way); reset the later ones without a seed",
    )
    Arms.reset_log()
    defaults = mod.evaluate(ArmsNetwork(1, 4, [4]), ARMS_ENV_ID)
    require(
        isinstance(defaults, list) and len(defaults) == 20 and [s for _, s in Arms.resets][:1] == [0],
        f"evaluate(network, env_id) with the defaults should play episodes=20 episodes from seed=0; it returned "
        f"{len(defaults) if isinstance(defaults, list) else defaults!r} returns and first reset with seed "
        f"{[s for _, s in Arms.resets][:1]}: keep the signature's defaults (episodes: int = 20, seed: int = 0)",
    )
    one = mod.evaluate(ArmsNetwork(1, 4, [4]), ARMS_EVAL_ENV_ID, 1, 0)
    require(isinstance(one, list) and len(one) == 1, f"evaluate(..., episodes=1) should return 1 return, got {one!r}")
    try:
        mod.evaluate(ArmsNetwork(1, 4, [4]), ARMS_EVAL_ENV_ID, 0, 0)
    except ValueError:
        pass
    else:
        raise CheckFailed("evaluate(..., episodes=0) should raise ValueError (at least one episode is needed)")
    return f"{episodes} x {ARMS_EVAL_STEPS} greedy steps, first reset seeded; episodes=0 raises ValueError"


class _StepLog:
    """Every optimizer step: the gradient seen (after clipping) and the parameters before and after."""

    def __init__(self) -> None:
        self.grads: list[NDArray[np.float64]] = []
        self.before: list[NDArray[np.float64]] = []
        self.after: list[NDArray[np.float64]] = []
        self.lrs: list[list[float]] = []
        self.pushes: list[int] = []
        self.handles: list[Any] = []
        self.params: list[torch.Tensor] = []
        self.push_count: Callable[[], int] = lambda: 0

    def watch(self, network: nn.Module) -> None:
        self.params = list(network.parameters())

    def _mine(self, optimizer: torch.optim.Optimizer) -> bool:
        ids = {id(p) for group in optimizer.param_groups for p in group["params"]}
        return bool(self.params) and id(self.params[0]) in ids

    def pre(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        if not self._mine(optimizer):
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        self.grads.append(np.concatenate([g.detach().numpy().astype(np.float64).reshape(-1) for g in grads]))
        self.before.append(np.concatenate([p.detach().numpy().astype(np.float64).reshape(-1) for p in self.params]))
        self.lrs.append([float(group["lr"]) for group in optimizer.param_groups])
        self.pushes.append(self.push_count())

    def post(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        if self._mine(optimizer):
            self.after.append(np.concatenate([p.detach().numpy().astype(np.float64).reshape(-1) for p in self.params]))

    def __enter__(self) -> _StepLog:
        from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

        self.handles = [register_optimizer_step_pre_hook(self.pre), register_optimizer_step_post_hook(self.post)]
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self.handles:
            handle.remove()


def _set_flat(network: nn.Module, flat: NDArray[np.float64]) -> None:
    with torch.no_grad():
        start = 0
        for param in network.parameters():
            size = param.numel()
            param.copy_(torch.from_numpy(flat[start : start + size].reshape(param.shape)).to(param.dtype))
            start += size


def _oracle(
    online: nn.Module, target: nn.Module, batch: Sequence[Any], gamma: float, loss: str
) -> tuple[float, NDArray[np.float64]]:
    """The TD loss of ``batch`` and its gradient w.r.t. the online parameters, computed here."""
    s = torch.as_tensor(np.asarray(batch[0], dtype=np.float32))
    a = torch.as_tensor(np.asarray(batch[1]).astype(np.int64)).reshape(-1, 1)
    r = torch.as_tensor(np.asarray(batch[2], dtype=np.float32)).reshape(-1)
    s2 = torch.as_tensor(np.asarray(batch[3], dtype=np.float32))
    d = torch.as_tensor(np.asarray(batch[4], dtype=np.float32)).reshape(-1)
    with torch.no_grad():
        y = r + gamma * (1 - d) * target(s2).max(dim=1).values
    with torch.enable_grad():
        q = online(s).gather(1, a).squeeze(1)
        value = torch.nn.functional.smooth_l1_loss(q, y) if loss == "huber" else torch.nn.functional.mse_loss(q, y)
        grads = torch.autograd.grad(value, list(online.parameters()))
    return float(value.item()), np.concatenate([g.numpy().astype(np.float64).reshape(-1) for g in grads])


class _PhaseBuffer(ReplayBufferWithIndices):
    """The reference buffer; logs every batch it hands out (and can poison one with an infinite reward)."""

    def __init__(self, capacity: int, poison_at: int | None = None) -> None:
        super().__init__(capacity)
        self.batches: list[tuple[Any, ...]] = []
        self.poison_at = poison_at

    def sample_indices(self, batch_size: int) -> Any:
        batch = tuple(super().sample_indices(batch_size))
        if self.poison_at is not None and len(self.batches) == self.poison_at:
            rewards = np.array(batch[2], dtype=np.float32)
            rewards[0] = np.inf
            batch = (batch[0], batch[1], rewards, *batch[3:])
        self.batches.append(tuple(np.array(x, copy=True) for x in batch))
        return batch


def _filled_buffer(poison_at: int | None = None) -> _PhaseBuffer:
    rng = np.random.default_rng(0)
    np.random.seed(0)
    buffer = _PhaseBuffer(200, poison_at)
    for _ in range(100):
        state = rng.normal(size=3).astype(np.float32)
        buffer.push(state, int(rng.integers(2)), float(rng.normal() * 3), rng.normal(size=3), bool(rng.random() < 0.2))
    return buffer


def _clip(vector: NDArray[np.float64], max_norm: float) -> NDArray[np.float64]:
    return vector * min(1.0, max_norm / (float(np.linalg.norm(vector)) + 1e-6))


def _piled_up(
    seen: NDArray[np.float64], before: NDArray[np.float64], raw: NDArray[np.float64], max_norm: float
) -> bool:
    """Whether ``seen`` is this update's gradient added to the last one (no ``zero_grad``), clipped or not."""
    return any(
        np.allclose(seen, candidate, rtol=1e-3, atol=1e-6)
        for candidate in (before + raw, _clip(before + raw, max_norm))
    )


def _wrong_gradient(
    seen: NDArray[np.float64], previous: NDArray[np.float64] | None, raw: NDArray[np.float64], max_norm: float
) -> str:
    """What differs between the gradient a step used (``seen``) and this batch's loss gradient ``raw`` clipped.

    ``previous`` is the gradient the step before used (None at the first step). The cause is named by what
    differs: no clipping, the last step's gradient added in (no ``zero_grad``), the direction at the right
    norm, or the norm.
    """
    norm = float(np.linalg.norm(raw))
    clipped = _clip(raw, max_norm)
    seen_norm = float(np.linalg.norm(seen))
    if np.allclose(seen, raw, rtol=1e-3, atol=1e-6):
        return (
            f"it was not clipped: its norm is {norm:.3f}, above max_grad_norm = {max_norm}; "
            "call nn.utils.clip_grad_norm_(q_network.parameters(), config.max_grad_norm) before the step"
        )
    if previous is not None and _piled_up(seen, previous, raw, max_norm):
        return (
            "gradients pile up from update to update: it is this batch's gradient plus the one the step before "
            "used. Call optimizer.zero_grad() before backward()"
        )
    if math.isclose(seen_norm, float(np.linalg.norm(clipped)), rel_tol=1e-2):
        cosine = float(seen @ clipped) / (seen_norm * float(np.linalg.norm(clipped)) + 1e-12)
        return (
            f"its norm is right ({seen_norm:.4f}) but it points elsewhere (cosine {cosine:.2f} with this batch's "
            "gradient): it holds gradients of other batches or losses. Call optimizer.zero_grad() before "
            "loss.backward(), and backward() only this batch's loss"
        )
    return (
        f"expected the gradient of this batch's loss clipped to a norm of {max_norm}, i.e. "
        f"{min(norm, max_norm):.4f} (unclipped {norm:.4f}), saw a norm of {seen_norm:.4f}: clip with "
        "nn.utils.clip_grad_norm_(q_network.parameters(), config.max_grad_norm) after backward() and before "
        "optimizer.step()"
    )


@check(
    "train_dqn",
    "evaluate plays greedy episodes",
    timeout=30,
    tests="evaluate",
    uses=("greedy_action",),
    enforces=("play :func:`greedy_action` until ``terminated or truncated``, and sum the rewards of each episode.",),
)
def evaluate_greedy(mod: ModuleType) -> str:
    go_right: Callable[..., Any] = mod.evaluate
    right = go_right(_constant_policy_network(1), LINEWORLD_ID, 3, 0)
    require(
        isinstance(right, list) and len(right) == 3,
        f"evaluate(network, env_id, episodes=3, seed=0) should return a list of 3 returns, got {right!r}",
    )
    require(
        np.allclose(right, [0.4] * 3),
        f"a network that always picks 'right' should return 0.4 per LineWorld episode, got {fmt(right)}: "
        "play argmax_a Q(s, a) (no exploration) until terminated or truncated, summing the rewards",
    )
    left = go_right(_constant_policy_network(0), LINEWORLD_ID, 2, 0)
    require(
        np.allclose(left, [-5.0] * 2),
        f"a network that always picks 'left' never reaches the goal: each episode should end at the 50-step time "
        f"limit with return -5.0, got {fmt(left)}: stop an episode on truncated as well as terminated",
    )
    return "always-right scores 0.4 per episode, always-left -5.0"


@check(
    "train_dqn",
    "gradient_phase: sample, loss, clip, step",
    timeout=30,
    tests="gradient_phase",
    uses=("td_loss",),
    enforces=(
        "Each minibatch is ``buffer.sample_indices(config.batch_size)``; before each step the gradient is "
        "clipped to a global L2 norm of ``config.max_grad_norm``.",
        "stops after the first one that is NaN or infinite.",
    ),
    hint=(
        "One update, in order: optimizer.zero_grad(), loss = td_loss(...) on a fresh batch of "
        "config.batch_size, loss.backward(), torch.nn.utils.clip_grad_norm_(q_network.parameters(), "
        "config.max_grad_norm), optimizer.step(), and keep loss.item(). backward() adds to .grad, so "
        "without zero_grad every step also carries the gradients of the updates before it."
    ),
)
def gradient_phase_steps(mod: ModuleType) -> str:
    updates = 3
    for loss, gamma in (("huber", 0.8), ("mse", 0.6)):
        config = small_lineworld(batch_size=16, gamma=gamma, loss=loss, max_grad_norm=0.05, learning_rate=0.01)
        online, target = _small_net(5), _small_net(6)
        buffer = _filled_buffer()
        optimizer = torch.optim.Adam(online.parameters(), lr=config.learning_rate)
        with _StepLog() as log:
            log.watch(online)
            values = mod.gradient_phase(online, target, optimizer, buffer, config, updates)
        require(
            isinstance(values, list) and len(values) == updates,
            f"gradient_phase(..., updates={updates}) should return a list of {updates} loss values, got {values!r}",
        )
        require(
            len(buffer.batches) == updates and all(len(b[0]) == config.batch_size for b in buffer.batches),
            f"gradient_phase drew {len(buffer.batches)} batches of sizes {[len(b[0]) for b in buffer.batches]} for "
            f"{updates} updates with batch_size {config.batch_size}: one fresh batch per update",
        )
        require(
            len(log.grads) == updates,
            f"the optimizer stepped {len(log.grads)} times for {updates} updates: "
            "call optimizer.step() once per update",
        )
        probe_online, probe_target = _small_net(5), _small_net(6)
        _set_flat(probe_target, _flat(target))
        for k in range(updates):
            _set_flat(probe_online, log.before[k])
            want, raw = _oracle(probe_online, probe_target, buffer.batches[k], gamma, loss)
            got = float(values[k])
            if not math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6):
                batch = buffer.batches[k]
                causes = {
                    "it uses the other loss: pass config.loss to td_loss": _oracle(
                        probe_online, probe_target, batch, gamma, "mse" if loss == "huber" else "huber"
                    )[0],
                    "it matches gamma = 0.99: pass config.gamma to td_loss": _oracle(
                        probe_online, probe_target, batch, 0.99, loss
                    )[0],
                    "it bootstraps from the online network: pass target_network to td_loss": _oracle(
                        probe_online, probe_online, batch, gamma, loss
                    )[0],
                }
                cause = next(
                    (text for text, value in causes.items() if math.isclose(got, value, rel_tol=1e-4, abs_tol=1e-6)),
                    "return loss.item() of td_loss(q_network, target_network, batch, config.gamma, config.loss) "
                    "for each batch",
                )
                raise CheckFailed(
                    f"update {k + 1} (loss={loss!r}, gamma={gamma}) returned the loss {got:.4f}; the TD loss of the "
                    f"batch it drew is {want:.4f}: {cause}"
                )
            seen = log.grads[k]
            if not np.allclose(seen, _clip(raw, config.max_grad_norm), rtol=1e-3, atol=1e-6):
                cause = _wrong_gradient(seen, log.grads[k - 1] if k else None, raw, config.max_grad_norm)
                raise CheckFailed(f"at update {k + 1} the optimizer stepped with a wrong gradient: {cause}")
    online, target = _small_net(7), _small_net(8)
    buffer = _filled_buffer(poison_at=1)
    optimizer = torch.optim.Adam(online.parameters(), lr=0.01)
    values = mod.gradient_phase(online, target, optimizer, buffer, small_lineworld(batch_size=16), 4)
    require(
        isinstance(values, list) and len(values) == 2 and not math.isfinite(float(values[-1])),
        f"the 2nd batch of 4 had an infinite reward, so its loss is not finite; gradient_phase should stop "
        f"right after it and return 2 values (the last not finite), got {values!r}",
    )
    return f"{updates} updates: each loss and clipped gradient match the batch drawn; stops after a non-finite loss"


def _drawn(line: Any) -> bool:
    """Whether a Line2D leaves ink: visible, not fully transparent, with a width or markers."""
    alpha = line.get_alpha()
    marked = line.get_marker() not in (None, "", " ", "None", "none")
    return bool(line.get_visible()) and (alpha is None or alpha > 0) and (line.get_linewidth() > 0 or marked)


@check(
    "train_dqn",
    "plot_rewards draws returns and their average",
    timeout=20,
    tests="plot_rewards",
    enforces=(
        "Episode returns (faint) and their ``window``-episode moving average; optional solved line.",
        "draw a dashed line at ``threshold`` if given.",
    ),
)
def plot_rewards_draws(mod: ModuleType) -> str:
    from matplotlib.figure import Figure

    rewards = [1.0, 3.0, 2.0, 6.0, 4.0, 8.0]
    window = 3
    averages = [float(np.mean(rewards[max(0, i - window + 1) : i + 1])) for i in range(len(rewards))]
    for source in (rewards, TrainingResult(q_network=_small_net(0), config=small_lineworld(), episode_rewards=rewards)):
        if isinstance(source, TrainingResult):
            figure = mod.plot_rewards(source, window, threshold=5.0)
        else:  # by keyword, as the signature names them
            figure = mod.plot_rewards(episode_rewards=source, window=window, threshold=5.0)
        require(isinstance(figure, Figure), f"plot_rewards returned {type(figure).__name__}; expected a Figure")
        artists = [line for ax in figure.axes for line in ax.get_lines()]
        lines = [np.asarray(line.get_ydata(), dtype=float) for line in artists]
        shown = [y.tolist() for y in lines]
        kind = "a TrainingResult" if isinstance(source, TrainingResult) else "a list"
        missing = {
            "returns": f"given {kind} of returns {rewards} the figure has no line through them (lines: {shown})",
            "moving average": f"with window={window} the moving average of {rewards} is {fmt(averages)} (over "
            f"min(window, i + 1) episodes); the figure's lines are {shown}",
        }
        for values, what in ((rewards, "returns"), (averages, "moving average")):
            through = [
                a for a, y in zip(artists, lines, strict=True) if len(y) == len(values) and np.allclose(y, values)
            ]
            require(bool(through), missing[what])
            require(
                any(_drawn(line) for line in through),
                f"the line of the {what} is drawn invisible (zero width and no markers, zero alpha, or hidden): "
                "a faint line for the returns still needs a width, e.g. alpha=0.3, linewidth=1",
            )
        flat = [
            line
            for ax in figure.axes
            for line in ax.get_lines()
            if len(line.get_ydata()) >= 1 and np.allclose(np.asarray(line.get_ydata(), dtype=float), 5.0)
        ]
        require(bool(flat), "plot_rewards(..., threshold=5.0) should draw a horizontal line at 5.0 (ax.axhline)")
        require(
            any(_drawn(line) for line in flat),
            "the threshold line at 5.0 is drawn invisible (zero width, zero alpha or hidden): give it a width",
        )
    many = [float((i * 7) % 11) for i in range(30)]
    default = mod.plot_rewards(many)
    want = [float(np.mean(many[max(0, i - 19) : i + 1])) for i in range(len(many))]
    drawn = [np.asarray(line.get_ydata(), dtype=float) for ax in default.axes for line in ax.get_lines()]
    require(
        any(len(y) == len(many) and np.allclose(y, want) for y in drawn),
        "plot_rewards(rewards) without a window should average over the signature's default window=20",
    )
    return "returns, their moving average (window 20 by default) and the threshold line"


# --- The checks -------------------------------------------------------------------------------


class CountedNetwork(CustomQNetwork):
    """The reference network, noting every instance made of it: by its class or by ``copy.deepcopy``."""

    made: list[nn.Module] = []  # noqa: RUF012

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__(state_dim, action_dim, hidden_dims)
        CountedNetwork.made.append(self)

    def __setstate__(self, state: dict[str, Any]) -> None:  # copy.deepcopy and pickle build a copy through here
        super().__setstate__(state)  # type: ignore[no-untyped-call]
        CountedNetwork.made.append(self)


def _shares_parameters(one: nn.Module, other: nn.Module) -> bool:
    return bool({id(p) for p in one.parameters()} & {id(p) for p in other.parameters()})


@check(
    "train_dqn",
    "makes its env with make_env",
    timeout=20,
    precondition=True,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=(
        "``env = make_env(config.env_id)`` (from ``playground.core.envs``: the app measures the run through this env);",
    ),
    hint=(
        "The app follows your run through the environment your loop makes: it counts the steps and episodes, "
        "times the run and evaluates the network on the side. It can only see an env made by make_env (already "
        "imported at the top of the stub), so build the training env with env = make_env(config.env_id), not "
        "gym.make(config.env_id), once at the start of train_dqn."
    ),
)
def makes_env_with_make_env(mod: ModuleType) -> str:
    """A short run (no update) that the app can follow: its env comes from ``make_env``."""
    config = small_lineworld(total_timesteps=30, learning_starts=1_000)
    try:
        result = train_monitored(mod.train_dqn, config)
    except MonitorError as err:
        if "make_env" not in str(err):
            return f"not judged: {err} (the result check says why)"
        raise CheckFailed(
            f"train_dqn ran, but made no environment with make_env(config.env_id), so the app could not follow "
            f"the run. {MAKE_ENV_FIX}"
        ) from None
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - learner code may raise anything; the later checks say why
        return f"not judged: the loop {describe_exception(err, mod.__name__.split('.')[0])} (the later checks say why)"
    return f"the app followed the run through the env make_env made: {result.total_steps} env steps"


@check(
    "train_dqn",
    "keeps a separate target network",
    timeout=30,
    precondition=True,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=("then a target network of the same class loaded with its weights",),
    hint=(
        "The target network is a second network: the same class and sizes, loaded with the online weights at "
        "the start, that changes only when update_target runs. `target_network = q_network` does not copy: it "
        "gives one network two names, so every update moves the targets too (and freezing the target freezes "
        "the online network). Build a second one with q_network_cls and load_state_dict, or copy.deepcopy the "
        "online network."
    ),
)
def separate_target(mod: ModuleType) -> str:
    """The loop makes a second network for the targets: not the online one under a second name, no shared weights."""
    config = small_lineworld(total_timesteps=200, learning_starts=50, target_update_interval=10)
    CountedNetwork.made = []
    failure: CheckFailed | None = None
    online: nn.Module | None
    try:
        online = train(mod, config, q_network_cls=CountedNetwork).q_network
    except CheckFailed as err:  # a frozen online network: judge the aliasing first, it is the likely cause
        online, failure = (CountedNetwork.made[0] if CountedNetwork.made else None), err
    made = list(CountedNetwork.made)
    if online is None or not made:
        if failure is not None:
            raise failure
        return "not judged: the loop built no network with q_network_cls (the network-classes check says why)"
    others = [network for network in made if network is not online]
    require(
        bool(others) and not all(_shares_parameters(online, network) for network in others),
        "the loop made only the online network"
        + ("" if not others else " and networks that share its parameters")
        + ": target_network = q_network does not copy a network, it gives it a second name, so the targets move "
        "with every update (and update_target blends the network with itself). Build the target as a second "
        "network of the same class loaded with the online weights, or copy.deepcopy the online one",
    )
    if failure is not None:
        raise failure
    return f"{len(made)} networks: the online one and a separate target network"


@check(
    "train_dqn",
    "result is well formed",
    timeout=60,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=(
        "append its return (the sum of its rewards) to ``result.episode_rewards`` and its length (its number "
        "of steps) to ``result.episode_lengths``",
        "Extend ``result.losses`` with the loss values it returns, and ``result.loss_steps`` with $n$ once per value.",
    ),
    hint=(
        "This check runs your loop for 600 LineWorld steps and compares the result with the episodes the env "
        "played. Keep two running counters for the current episode, its return (the sum of its rewards) and "
        "its length (its env steps); when the episode ends (terminated or truncated) append both, then set "
        "both back to 0 before the next episode's first step. Extend losses and loss_steps together, once per "
        "update."
    ),
)
def result_well_formed(mod: ModuleType) -> str:
    config = small_lineworld(seed=0)
    result = train(mod, config)
    n = len(result.episode_rewards)
    require(n > 0, "no episode was recorded in 600 LineWorld steps: append each finished episode's return")
    require(
        len(result.episode_lengths) == n,
        f"episode_rewards has {n} entries but episode_lengths has {len(result.episode_lengths)}: record both "
        "when an episode ends",
    )
    ended = len(result.episode_end_steps)  # episode ends the app saw in the env your loop made
    require(
        n == ended,
        f"the env ended {ended} episodes (terminated or truncated) but the result records {n}: append each "
        "finished episode's return and length, once, when it ends",
    )
    lengths = [int(x) for x in result.episode_lengths]
    require(
        all(1 <= x <= 50 for x in lengths),
        f"LineWorld episodes last 1 to 50 steps, got lengths {lengths[:10]}...: is the length reset per episode?",
    )
    ends = np.cumsum(lengths)
    end_steps = np.asarray(result.episode_end_steps)
    require(
        bool(np.array_equal(end_steps, ends)),
        f"the episodes ended at env steps {end_steps[:5].tolist()}..., but the recorded lengths add up to "
        f"{ends[:5].tolist()}...: an episode's length is its number of env steps, counted from 0 after each reset",
    )
    for i, (reward, length) in enumerate(zip(result.episode_rewards, lengths, strict=True)):
        # On LineWorld a return is fixed by the length: -0.1 per step and +1 instead on reaching the goal,
        # or -0.1 on every one of the 50 steps when the time limit truncates.
        reached = -0.1 * (length - 1) + 1.0
        timed_out = -0.1 * length
        ok = math.isclose(reward, reached, abs_tol=1e-3) or (
            length == 50 and math.isclose(reward, timed_out, abs_tol=1e-3)
        )
        require(
            ok,
            f"episode {i + 1} lasted {length} steps but its return is {reward:.3f}; on LineWorld it must be "
            f"{reached:.1f} (goal reached) or -5.0 (50 steps, time out): sum every reward of the episode, "
            "and start the sum at 0 for each new episode",
        )
    require(
        result.total_steps == config.total_timesteps,
        f"the loop made {result.total_steps} env steps; config.total_timesteps is {config.total_timesteps}",
    )
    require(
        len(result.losses) == len(result.loss_steps) and len(result.losses) > 0,
        f"losses ({len(result.losses)}) and loss_steps ({len(result.loss_steps)}) must be non-empty and "
        "of the same length: extend losses with the values gradient_phase returns, and loss_steps with n once "
        "per value",
    )
    require(
        all(math.isfinite(float(x)) for x in result.losses),
        "some recorded losses are NaN or infinite on LineWorld, where a correct loop stays finite",
    )
    return f"{n} episodes, {len(result.losses)} updates: returns, lengths and losses filled and consistent"


@check(
    "train_dqn",
    "follows the update schedule",
    timeout=60,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=(
        "``config.train_freq`` $= 0$ and $n >$ ``config.learning_starts``",
        "skip it while the buffer holds fewer than ``config.batch_size`` transitions.",
    ),
    hint=(
        "This check watches when your loop calls gradient_phase. Count n = t + 1, the env steps done so far "
        "over all episodes (never reset per episode). After the step's transition is pushed, train when n % "
        "train_freq == 0 and n > learning_starts (strictly greater) and the buffer holds at least batch_size "
        "transitions; a gradient phase makes gradient_steps updates (train_freq of them when it is -1)."
    ),
)
def update_schedule(mod: ModuleType) -> str:
    seen: list[str] = []
    # The last setting starts learning before the buffer holds a batch: the first update waits for it.
    for train_freq, gradient_steps, learning_starts in ((4, 2, 99), (3, -1, 99), (1, 1, 0)):
        config = small_lineworld(
            total_timesteps=400 if learning_starts else 120,
            train_freq=train_freq,
            gradient_steps=gradient_steps,
            learning_starts=learning_starts,
            seed=1,
        )
        TraceBuffer.reset_log()
        result = train(mod, config, buffer_cls=TraceBuffer)
        per_phase = train_freq if gradient_steps == -1 else gradient_steps
        total = config.total_timesteps
        setting = f"train_freq={train_freq}, gradient_steps={gradient_steps}, learning_starts={learning_starts}"
        require(
            len(TraceBuffer.batches) > 0,
            "the buffer was never sampled: does train_dqn use buffer_cls and call sample_indices(batch_size)?",
        )
        sizes = sorted({len(batch[0]) for batch in TraceBuffer.batches})
        require(
            sizes == [config.batch_size],
            f"batches were sampled with sizes {sizes}; config.batch_size is {config.batch_size}",
        )
        # The env steps done (transitions pushed) when each batch was drawn, grouped into phases.
        phases: dict[int, int] = {}
        for pushes in TraceBuffer.batch_pushes:
            phases[pushes] = phases.get(pushes, 0) + 1
        steps = sorted(phases)
        require(
            steps[0] > learning_starts,
            f"with {setting} the first update came after {steps[0]} env steps; learning starts only once more "
            f"than learning_starts = {learning_starts} transitions are in (n > learning_starts)",
        )
        offsets = {step % train_freq for step in steps}
        batch = config.batch_size
        first_due = min(n for n in range(max(learning_starts + 1, batch), total + 1) if n % train_freq == 0)
        require(
            learning_starts >= batch or steps[0] == first_due,
            f"with {setting} and batch_size={batch} the first update should come as soon as the buffer holds "
            f"{batch} transitions, after env step {first_due}; it came after {steps[0]}: skip a phase only while "
            "len(buffer) < batch_size",
        )
        require(
            len(offsets) == 1 and all(b - a == train_freq for a, b in itertools.pairwise(steps)),
            f"with {setting} updates should come every {train_freq} env steps; they came after "
            f"{steps[:8]}... env steps: train when the step count is a multiple of train_freq",
        )
        require(
            steps[0] <= first_due + 1 and steps[-1] >= total - train_freq + 1,
            f"with {setting} and {total} steps the updates should run from env step {first_due} to the end; "
            f"they ran from {steps[0]} to {steps[-1]}",
        )
        wrong = {step: count for step, count in phases.items() if count != per_phase}
        require(
            not wrong,
            f"with {setting} each training phase should make {per_phase} updates "
            f"({'-1 means as many as train_freq' if gradient_steps == -1 else 'gradient_steps'}); "
            f"some made {sorted(set(wrong.values()))}",
        )
        sampled = len(TraceBuffer.batches)
        require(
            len(result.losses) == sampled,
            f"result.losses holds {len(result.losses)} values but {sampled} batches were drawn: "
            "record one loss per update",
        )
        require(
            list(result.loss_steps) == [p for p in steps for _ in range(phases[p])]
            or list(result.loss_steps) == [p - 1 for p in steps for _ in range(phases[p])],
            f"loss_steps should hold the env step of each update ({steps[:3]}..., {per_phase} times each); "
            f"got {list(result.loss_steps)[:6]}...",
        )
        seen.append(f"{sampled} updates for {setting}")
    return "; ".join(seen)


@check(
    "train_dqn",
    "uses the given network and buffer classes",
    timeout=60,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=(
        "``q_network_cls(state_dim, action_dim, list(config.hidden_dims))``",
        "``buffer_cls(config.buffer_size)``",
    ),
)
def uses_injected_classes(mod: ModuleType) -> str:
    config = small_lineworld(total_timesteps=400, buffer_size=777, hidden_dims=(12, 6), seed=2)
    RecordingNetwork.instances = 0
    RecordingNetwork.built_with = []
    RecordingNetwork.forward_calls = 0
    RecordingBuffer.reset_log()
    result = train(mod, config, q_network_cls=RecordingNetwork, buffer_cls=RecordingBuffer)
    require(
        RecordingNetwork.instances >= 1 and RecordingNetwork.forward_calls > 0,
        "train_dqn never built or ran the q_network_cls it was given: build the networks with "
        "q_network_cls(state_dim, action_dim, list(config.hidden_dims)), not CustomQNetwork(...) directly",
    )
    require(
        isinstance(result.q_network, RecordingNetwork),
        f"result.q_network is a {type(result.q_network).__name__}, not the q_network_cls that was passed in",
    )
    wrong = [dims for dims in RecordingNetwork.built_with if dims != list(config.hidden_dims)]
    require(
        not wrong,
        f"a network was built with hidden layers {wrong[0] if wrong else ''} but config.hidden_dims is "
        f"{list(config.hidden_dims)}: build with q_network_cls(state_dim, action_dim, list(config.hidden_dims))",
    )
    require(
        RecordingBuffer.capacities == [config.buffer_size],
        f"buffer_cls should be built once with config.buffer_size = {config.buffer_size}; "
        f"saw capacities {RecordingBuffer.capacities} (does train_dqn ignore buffer_cls?)",
    )
    pushes = len(RecordingBuffer.done_flags)
    require(
        pushes == config.total_timesteps,
        f"{pushes} transitions were pushed in {config.total_timesteps} env steps: push every transition exactly once",
    )
    return f"{RecordingNetwork.instances} networks built, {pushes} pushes, {len(RecordingBuffer.batch_sizes)} batches"


def _cell(observation: Sequence[float]) -> int:
    """The LineWorld cell of a one-hot observation."""
    return int(np.argmax(observation))


@check(
    "train_dqn",
    "stores each step's transition",
    timeout=30,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=("step; push the transition $(s, a, r, s', d)$",),
    hint=(
        "The buffer gets one transition per env step, (s, a, r, s', d), and s' is exactly the observation "
        "env.step returned for that step, also on the last step of an episode. Push it before anything else "
        "happens to the env: reset only after the push, and use the reset's observation as the s of the next "
        "episode's first transition."
    ),
)
def stores_each_transition(mod: ModuleType) -> str:
    """One push per env step, and its s' is what env.step returned: one LineWorld move from s."""
    # No update ever (learning_starts = total_timesteps): only the stored transitions are looked at. Greedy is
    # 'right', so many episodes reach the goal; random early steps let others run into the time limit. The d
    # of each transition is "bootstraps through truncation"'s business, not this check's.
    config = small_lineworld(
        total_timesteps=600,
        learning_starts=600,
        exploration_fraction=0.5,
        exploration_initial_eps=1.0,
        exploration_final_eps=0.3,
        seed=5,
    )
    TraceBuffer.reset_log()
    result = train(mod, config, q_network_cls=RightNetwork, buffer_cls=TraceBuffer)
    pushed = TraceBuffer.pushed
    require(
        len(pushed) == config.total_timesteps,
        f"{len(pushed)} transitions were pushed in {config.total_timesteps} env steps: push one per env step",
    )
    ends = {int(step) for step in result.episode_end_steps}
    for number, (state, after, _) in enumerate(pushed, start=1):
        if abs(_cell(after) - _cell(state)) <= 1:
            continue
        where = "the last transition of an episode" if number in ends else f"transition {number}"
        cause = (
            "the env was reset before the transition was pushed, so its s' became the reset state: push "
            "(s, a, r, s', d) first, then reset"
            if number in ends
            else "push the next_state env.step returned, and make it the state of the next step"
        )
        raise CheckFailed(
            f"{where} was pushed with s' in cell {_cell(after)} after s in cell {_cell(state)}, but a LineWorld "
            f"step moves at most one cell: s' must be the observation env.step returned for that step; {cause}"
        )
    return f"{len(pushed)} pushes, one per env step, each s' one LineWorld move from its s"


@check(
    "train_dqn",
    "learns LineWorld",
    timeout=90,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=("Train a DQN agent on ``config.env_id``",),
)
def learns_lineworld(mod: ModuleType) -> str:
    optimal = LineWorld().optimal_return()
    returns: list[float] = []
    for seed in (0,):
        config = PRESETS["lineworld"].replace(
            seed=seed,
            total_timesteps=1_000,
            learning_starts=100,
            learning_rate=3e-3,
            target_update_interval=50,
            exploration_fraction=0.4,
        )
        result = train(mod, config)
        value = greedy_return(result.q_network)
        returns.append(value)
        if not math.isclose(value, optimal, abs_tol=1e-6):
            table = lineworld_q_table(result.q_network)
            raise CheckFailed(
                f"after {config.total_timesteps} steps (seed {seed}) the greedy agent's return is {value:.1f}, "
                f"expected the optimal {optimal:.1f} (walk right 7 times). Learned Q(s, right) = {fmt(table[:, 1])}, "
                f"Q(s, left) = {fmt(table[:, 0])}. Look for: a target network that is never updated, "
                "a sign error in the TD target, a missing optimizer step, or no exploration"
            )
    return f"greedy return {optimal:.1f} (optimal) after {config.total_timesteps:,} steps"


@check(
    "train_dqn",
    "bootstraps through truncation",
    timeout=60,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=("push the transition $(s, a, r, s', d)$ with $d$ = ``terminated`` into the buffer.",),
    hint=(
        "An episode ends in two ways: terminated (the task itself ended: the state after it has no future "
        "reward) or truncated (a time limit cut it short: the state after it still has a future). The d of "
        "the pushed transition is what stops the TD target from bootstrapping, so it must say terminated "
        "only; the episode still ends, and the env is reset, on either."
    ),
)
def bootstraps_through_truncation(mod: ModuleType) -> str:
    config = DQNConfig(
        env_id=TRUNCATING_ENV_ID,
        total_timesteps=600,
        learning_rate=1e-2,
        buffer_size=2_000,
        learning_starts=100,
        batch_size=32,
        gamma=TRUNCATING_GAMMA,
        train_freq=1,
        gradient_steps=1,
        target_update_interval=20,
        exploration_fraction=0.1,
        hidden_dims=(8,),
        loss="mse",
        seed=0,
    )
    RecordingBuffer.reset_log()
    result = train(mod, config, buffer_cls=RecordingBuffer)
    true_value = 1.0 / (1.0 - TRUNCATING_GAMMA)
    # If every 5th transition is stored as terminal, Q = 1 + gamma * (4/5) * Q.
    truncated_value = 1.0 / (1.0 - TRUNCATING_GAMMA * (TRUNCATING_STEPS - 1) / TRUNCATING_STEPS)
    if RecordingBuffer.done_flags:
        marked = sum(RecordingBuffer.done_flags)
        require(
            marked == 0,
            f"{marked} of {len(RecordingBuffer.done_flags)} transitions were pushed with done=True on an env that "
            "never terminates, only truncates (time limit): your loop treats truncated as terminal. "
            "Push done=terminated, and reset the env on terminated or truncated",
        )
    q = q_values(result.q_network, [1.0])
    learned = float(q.mean())
    if abs(learned - true_value) >= 0.25 * true_value:
        seen = (
            f"Q(s, .) = {fmt(q)}; the true value is 1/(1-gamma) = {true_value:.1f}, because a time limit "
            "does not end the future. "
        )
        if not RecordingBuffer.done_flags and abs(learned - truncated_value) < 1.0:
            cause = (
                f"It is close to {truncated_value:.1f}, the value when truncation stops the bootstrap: your loop "
                "treats truncated as terminal (use done = terminated in the TD target, not terminated or truncated)"
            )
        else:
            cause = (
                "The value did not grow towards it: check the TD target r + gamma * (1 - terminated) * "
                "max_a' Q_target(s', a') and that the target network is updated every target_update_interval steps"
            )
        raise CheckFailed(seen + cause)
    return (
        f"Q(s, .) = {fmt(q)}, close to 1/(1-gamma) = {true_value:.0f} "
        f"(treating truncation as the end would give ~{truncated_value:.1f})"
    )


def _frozen_target_run(mod: ModuleType, interval: int) -> NDArray[np.float64]:
    """Q-table after uniform-random LineWorld play with a network that starts at $Q \\equiv 0$."""
    config = PRESETS["lineworld"].replace(
        total_timesteps=600,
        train_freq=2,
        learning_starts=100,
        learning_rate=3e-3,
        exploration_initial_eps=1.0,
        exploration_final_eps=1.0,
        target_update_interval=interval,
        hidden_dims=(32,),
        seed=3,
    )
    result = train(mod, config, q_network_cls=ZeroHeadNetwork)
    return lineworld_q_table(result.q_network)


@check(
    "train_dqn",
    "honours the target network",
    timeout=90,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=(
        "then a target network of the same class loaded with its weights",
        "``config.target_update_interval`` $= 0$: :func:`update_target` with ``config.tau``.",
    ),
    hint=(
        "The TD targets must come from a second network that changes only when update_target runs. Two names "
        "for one object (target_network = q_network) are not two networks: build a second network of the same "
        "class and load the online weights into it (or copy.deepcopy the online network), then pass it to "
        "gradient_phase and update_target."
    ),
)
def honours_target_network(mod: ModuleType) -> str:
    # Target updates disabled: the target stays Q = 0, so every TD target is r (+ gamma * 0).
    frozen = _frozen_target_run(mod, interval=10_000_000)
    require(
        frozen[6, 1] > 0.6,
        f"the goal reward was not learned even one step away: Q(6, right) = {frozen[6, 1]:.2f}, expected about 1.0 "
        "(the terminal transition's target is just r = 1). Is the terminal flag or the reward wrong in the target?",
    )
    require(
        frozen[5, 1] < 0.3,
        f"with target updates disabled (target_update_interval larger than the run) the target network keeps its "
        f"initial Q = 0, so the goal reward can only reach cell 6; yet Q(5, right) = {frozen[5, 1]:.2f} "
        f"(row Q(s, right) = {fmt(frozen[:, 1])}): the targets come from the online network. "
        "Compute max_a' Q(s', a') with the target network",
    )
    # Target updates every 50 steps: the reward must now travel back along the corridor.
    synced = _frozen_target_run(mod, interval=50)
    require(
        synced[5, 1] > 0.5 and synced[4, 1] > 0.4,
        f"with target_update_interval=50, Q(s, right) = {fmt(synced[:, 1])}: the goal reward did not travel "
        "back (expected about 0.89 at cell 5 and 0.78 at cell 4): the target network is never updated. Copy "
        "the online weights into it every target_update_interval env steps",
    )
    return (
        f"frozen target: Q(6, right) = {frozen[6, 1]:.2f}, Q(5, right) = {frozen[5, 1]:.2f}; "
        f"synced every 50 steps: Q(5, right) = {synced[5, 1]:.2f}"
    )


@check(
    "train_dqn",
    "callback sees episodes and can stop",
    timeout=60,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=(
        "``callback(TrainingProgress(timestep=n, episode_reward=..., episode_length=...))`` and stop the run "
        "at once when it returns ``False``",
    ),
)
def callback_stops(mod: ModuleType) -> str:
    seen: list[TrainingProgress] = []

    def stop_after_three(progress: TrainingProgress) -> bool:
        seen.append(progress)
        return len(seen) < 3

    config = small_lineworld(seed=4)
    result = train(mod, config, callback=stop_after_three)
    require(bool(seen), "the callback was never called: call it with a TrainingProgress at every episode end")
    require(
        all(isinstance(p, TrainingProgress) for p in seen),
        "the callback should receive playground.core.results.TrainingProgress objects",
    )
    require(
        len(seen) == 3,
        f"the callback returned False at the 3rd episode end, but it was called {len(seen)} times: "
        "stop the run as soon as the callback returns False",
    )
    require(
        len(result.episode_rewards) == 3 and result.total_steps < config.total_timesteps,
        f"after a stop at the 3rd episode the result has {len(result.episode_rewards)} episodes and "
        f"total_steps {result.total_steps}: return what was done up to the stop",
    )
    rewards = [p.episode_reward for p in seen]
    require(
        np.allclose(rewards, result.episode_rewards),
        f"the callback saw returns {fmt(rewards)} but the result holds {fmt(result.episode_rewards)}",
    )
    require(
        [p.timestep for p in seen] == list(result.episode_end_steps[:3]),
        f"the episodes ended at env steps {list(result.episode_end_steps[:3])}, but the callback was told "
        f"timestep={[p.timestep for p in seen]}: pass n, the number of env steps done, counting the episode's last",
    )
    require(
        [p.episode_length for p in seen] == [int(x) for x in result.episode_lengths[:3]],
        f"the callback was told episode_length={[p.episode_length for p in seen]}, the result holds "
        f"{[int(x) for x in result.episode_lengths[:3]]}",
    )
    return f"stopped after 3 episodes at env step {result.total_steps}"


def _constant_policy_network(action: int) -> nn.Module:
    """A 1-layer reference network on LineWorld that always prefers ``action``."""
    net = CustomQNetwork(8, 2, [4])
    with torch.no_grad():
        for param in net.parameters():
            param.zero_()
        output = net.net[-1]
        assert isinstance(output, nn.Linear)
        output.bias[action] = 1.0
    return net


# --- The loop reads its config ----------------------------------------------------------------


class TraceNetwork(CustomQNetwork):
    """The reference network; remembers every instance (built or deep-copied) and their batch inputs."""

    instances: list[TraceNetwork] = []  # noqa: RUF012 - a class-level log, reset by each check
    built_with: list[list[int]] = []  # noqa: RUF012
    batch_size = 0
    # per forward pass on a whole batch: (instance number, optimizer steps done, flat weights)
    target_views: list[tuple[int, int, NDArray[np.float64]]] = []  # noqa: RUF012
    online: TraceNetwork | None = None
    steps_done: Callable[[], int] = staticmethod(lambda: 0)

    @classmethod
    def reset_log(cls, batch_size: int = 0) -> None:
        cls.instances, cls.built_with, cls.target_views, cls.online = [], [], [], None
        cls.batch_size = batch_size

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__(state_dim, action_dim, hidden_dims)
        type(self).built_with.append([int(w) for w in hidden_dims])
        self._remember()

    def _remember(self) -> int:
        known = type(self).instances
        for number, network in enumerate(known):
            if network is self:
                return number
        known.append(self)
        return len(known) - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        number = self._remember()
        cls = type(self)
        if x.dim() == 2 and x.shape[0] == cls.batch_size > 1:
            cls.target_views.append((number, cls.steps_done(), _flat(self)))
        return super().forward(x)


class TraceBuffer(ReplayBufferWithIndices):
    """The reference buffer; logs pushes and, per batch drawn, a copy of it and the pushes done by then."""

    pushes = 0
    pushed_actions: list[int] = []  # noqa: RUF012
    pushed: list[tuple[list[float], list[float], bool]] = []  # noqa: RUF012 - (state, next_state, done)
    batches: list[tuple[Any, ...]] = []  # noqa: RUF012
    batch_pushes: list[int] = []  # noqa: RUF012

    @classmethod
    def reset_log(cls) -> None:
        cls.pushes, cls.pushed_actions, cls.pushed, cls.batches, cls.batch_pushes = 0, [], [], [], []

    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        TraceBuffer.pushes += 1
        TraceBuffer.pushed_actions.append(int(action))
        flat = [float(x) for x in np.asarray(state, dtype=np.float64).reshape(-1)]
        TraceBuffer.pushed.append((flat, [float(x) for x in np.asarray(next_state).reshape(-1)], bool(done)))
        super().push(state, action, reward, next_state, done)

    def sample_indices(self, batch_size: int) -> Any:
        batch = super().sample_indices(batch_size)
        TraceBuffer.batches.append(tuple(np.array(x, copy=True) for x in batch))
        TraceBuffer.batch_pushes.append(TraceBuffer.pushes)
        return batch


def _polyak_targets(
    start: NDArray[np.float64], log: _StepLog, tau: float, interval: int, total: int, sync_first: bool
) -> list[NDArray[np.float64]]:
    """The target weights each update should have seen: Polyak every ``interval`` env steps."""
    target, online = start.copy(), start.copy()
    seen: list[NDArray[np.float64]] = []
    k = 0
    for step in range(1, total + 1):
        if sync_first and step % interval == 0:
            target = tau * online + (1 - tau) * target
        while k < len(log.pushes) and log.pushes[k] == step:
            seen.append(target.copy())
            online = log.after[k] if k < len(log.after) else online
            k += 1
        if not sync_first and step % interval == 0:
            target = tau * online + (1 - tau) * target
    return seen


def _trace_config(tau: float) -> DQNConfig:
    return small_lineworld(
        total_timesteps=160,
        learning_starts=40,
        train_freq=3,  # odd: some updates fall one step after a target update, so a late sync shows
        gradient_steps=1,
        batch_size=16,
        buffer_size=1_000,
        target_update_interval=10,
        tau=tau,
        gamma=0.8,
        learning_rate=0.0037,
        max_grad_norm=0.05,
        hidden_dims=(8,),
        exploration_final_eps=1.0,
        seed=11,
    )


@check(
    "train_dqn",
    "the loop uses learning_rate, gamma, loss, max_grad_norm and tau",
    timeout=40,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=(
        ":func:`make_optimizer` ``(..., config.learning_rate)``",
        ":func:`update_target` with ``config.tau``.",
    ),
    hint=(
        "This check replays your updates against the config: every setting must come from config (the "
        "optimizer from make_optimizer with config.learning_rate, gamma, loss and max_grad_norm through "
        "gradient_phase, tau through update_target every target_update_interval env steps), never a number "
        "written into the loop."
    ),
)
def loop_reads_config(mod: ModuleType) -> str:
    config = _trace_config(tau=0.3)
    TraceNetwork.reset_log(config.batch_size)
    TraceBuffer.reset_log()
    with _StepLog() as log:
        log.push_count = lambda: TraceBuffer.pushes
        TraceNetwork.steps_done = staticmethod(lambda: len(log.after))

        def spot_online(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
            if log.params:
                return
            ids = {id(p) for group in optimizer.param_groups for p in group["params"]}
            for network in TraceNetwork.instances:
                if id(next(network.parameters())) in ids:
                    TraceNetwork.online = network
                    log.watch(network)
                    log.pre(optimizer, args, kwargs)

        from torch.optim.optimizer import register_optimizer_step_pre_hook

        handle = register_optimizer_step_pre_hook(spot_online)
        try:
            result = train(mod, config, q_network_cls=TraceNetwork, buffer_cls=TraceBuffer)
        finally:
            handle.remove()
    online = TraceNetwork.online
    require(
        online is not None and len(log.grads) > 0,
        "no optimizer stepped a network built with q_network_cls: build the online network with q_network_cls, "
        "and make its torch.optim.Adam with make_optimizer (or torch.optim.Adam) on its parameters",
    )
    assert online is not None
    require(
        result.q_network is online,
        "the network returned in result.q_network is not the one the optimizer trained",
    )
    updates = len(log.grads)
    require(
        len(TraceBuffer.batches) == updates,
        f"{len(TraceBuffer.batches)} batches were drawn for {updates} optimizer steps: one batch per update",
    )
    # learning_rate: Adam's first step moves every parameter with a gradient by about lr.
    first_move = np.abs(log.after[0] - log.before[0]) if log.after else np.zeros(1)
    moved = first_move[np.abs(log.grads[0]) > 1e-6]
    biggest = float(moved.max()) if moved.size else 0.0
    require(
        math.isclose(biggest, config.learning_rate, rel_tol=0.02),
        f"Adam's first step moves each weight by about the learning rate, so with learning_rate = "
        f"{config.learning_rate} the largest change should be {config.learning_rate}; it was {biggest:.5f}: "
        "build the optimizer with lr=config.learning_rate",
    )
    # gamma, loss and the clip: each update's loss and gradient against this batch's true TD loss.
    probe_online = CustomQNetwork(8, 2, list(config.hidden_dims))
    probe_target = CustomQNetwork(8, 2, list(config.hidden_dims))
    losses = [float(x) for x in result.losses]
    require(len(losses) == updates, f"{len(losses)} losses were recorded for {updates} updates: record each one")
    online_number = next(n for n, network in enumerate(TraceNetwork.instances) if network is online)
    per_update: list[NDArray[np.float64]] = []
    for k in range(updates):
        views = [w for n, step, w in TraceNetwork.target_views if n != online_number and step == k]
        require(
            bool(views),
            f"at update {k + 1} no network other than the online one evaluated the batch's next states: the "
            "targets come from the online network. Compute max_a' Q(s', a') with a separate target network "
            "(built with q_network_cls, or a deepcopy of the online one)",
        )
        per_update.append(views[-1])
    for k in range(updates):
        _set_flat(probe_online, log.before[k])
        _set_flat(probe_target, per_update[k])
        want, raw = _oracle(probe_online, probe_target, TraceBuffer.batches[k], config.gamma, config.loss)
        if not math.isclose(losses[k], want, rel_tol=1e-3, abs_tol=1e-6):
            mse, _ = _oracle(probe_online, probe_target, TraceBuffer.batches[k], config.gamma, "mse")
            default_gamma, _ = _oracle(probe_online, probe_target, TraceBuffer.batches[k], 0.99, config.loss)
            if math.isclose(losses[k], mse, rel_tol=1e-3):
                cause = (
                    "it is the squared error: the loop ignores config.loss ('huber' asks for F.smooth_l1_loss; "
                    "for TD errors of 10 Huber gives 9.5 and the squared error 50)"
                )
            elif math.isclose(losses[k], default_gamma, rel_tol=1e-3):
                cause = "it matches gamma = 0.99: the loop ignores config.gamma"
            else:
                cause = "check the TD target r + gamma * (1 - terminated) * max_a' Q_target(s', a') and the loss"
            raise CheckFailed(
                f"with loss='huber' and gamma={config.gamma}, update {k + 1} recorded the loss {losses[k]:.5f}; "
                f"the Huber TD loss of the batch it drew is {want:.5f}: {cause}"
            )
        if not np.allclose(log.grads[k], _clip(raw, config.max_grad_norm), rtol=1e-3, atol=1e-6):
            cause = _wrong_gradient(log.grads[k], log.grads[k - 1] if k else None, raw, config.max_grad_norm)
            raise CheckFailed(
                f"update {k + 1} of the loop stepped the optimizer with a wrong gradient (max_grad_norm = "
                f"{config.max_grad_norm}): {cause}"
            )
    # tau: the targets the updates used follow Polyak averaging every target_update_interval steps.
    start = log.before[0]
    interval, total = config.target_update_interval, config.total_timesteps
    got = per_update

    def matches(tau: float) -> bool:
        return any(
            len(want) == len(got) and all(np.allclose(a, b, atol=1e-5) for a, b in zip(got, want, strict=True))
            for want in (_polyak_targets(start, log, tau, interval, total, first) for first in (True, False))
        )

    if not matches(config.tau):
        if matches(1 - config.tau):
            cause = f"tau and 1 - tau are swapped (the target keeps {config.tau} of itself)"
        elif matches(1.0):
            cause = "the loop ignores tau: it copies the online weights (right only for tau = 1)"
        else:
            cause = "check update_target and that it runs every target_update_interval env steps"
        raise CheckFailed(
            f"with tau = {config.tau} and target_update_interval = {interval} the target network should become "
            f"tau * online + (1 - tau) * target every {interval} env steps; the targets your updates used differ: "
            + cause
        )
    return (
        f"{updates} updates: Adam with lr {config.learning_rate}, Huber loss with gamma {config.gamma}, "
        f"gradients clipped to {config.max_grad_norm}, Polyak tau {config.tau}"
    )


class RightNetwork(_FavouringNetwork):
    """Greedy picks the last action (right on LineWorld)."""

    def favoured(self, action_dim: int) -> int:
        return action_dim - 1


@check(
    "train_dqn",
    "explores on the epsilon schedule",
    timeout=40,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=(
        "= ``linear_epsilon(config, t)``",
        "probability $\\\\epsilon_t$, else :func:`greedy_action`",
    ),
    hint=(
        "This check counts the random actions your loop takes on a schedule with known values. Epsilon "
        "depends on the env step, not the episode: before the action of env step t (0 for the first action of "
        "the run, counting every step of every episode) take linear_epsilon(config, t), then act at random "
        "with exactly that probability and greedily otherwise."
    ),
)
def explores_on_schedule(mod: ModuleType) -> str:
    # No update ever (learning_starts = total_timesteps): the greedy action is always 'right', so every
    # 'left' pushed is exploration, drawn with probability epsilon_t / 2.
    config = small_lineworld(
        total_timesteps=1_600,
        learning_starts=1_600,
        exploration_fraction=0.5,
        exploration_initial_eps=0.6,
        exploration_final_eps=0.2,
        seed=12,
    )
    TraceBuffer.reset_log()
    asked: list[tuple[int, int]] = []  # (t passed to linear_epsilon, env steps done by then)
    original = getattr(mod, "linear_epsilon", None)
    if callable(original):

        def traced(config: DQNConfig, t: int) -> float:
            asked.append((int(t), TraceBuffer.pushes))
            return float(original(config, t))

        setattr(mod, "linear_epsilon", traced)  # noqa: B010 - a module attribute mypy cannot see
    try:
        online = train(mod, config, q_network_cls=RightNetwork, buffer_cls=TraceBuffer).q_network
    finally:
        if callable(original):
            setattr(mod, "linear_epsilon", original)  # noqa: B010
    ahead = sum(t == done + 1 for t, done in asked)
    require(
        ahead <= sum(t == done for t, done in asked),
        f"linear_epsilon was asked for step t + 1 (t={asked[0][0]} before the first env step): the action of env "
        "step t uses epsilon_t = linear_epsilon(config, t), with t counted from 0",
    )
    actions = TraceBuffer.pushed_actions
    if len(actions) != config.total_timesteps:  # "stores each step's transition" names this
        raise CheckNotRun(
            "not run: the loop does not push one transition per env step, so its actions cannot be counted "
            '("stores each step\'s transition" says why)'
        )
    with torch.no_grad():
        values = online(torch.eye(8))  # every LineWorld cell
    if not bool((values[:, 1] > values[:, 0]).all()):
        raise CheckNotRun(
            "not run: the online network changed in a run where no update was due (learning_starts = "
            "total_timesteps), so its greedy action moved and exploration cannot be told from it; the target "
            "network and update schedule checks say why"
        )
    windows = ((0, 400), (400, 800), (800, 1_600))
    for low, high in windows:
        p = np.array([linear_epsilon(config, t) / 2 for t in range(low, high)])
        expected = float(p.sum())
        spread = 4.5 * math.sqrt(float((p * (1 - p)).sum())) + 2
        seen = sum(1 for a in actions[low:high] if a == 0)
        if abs(seen - expected) > spread:
            eps_seen = 2 * seen / (high - low)
            eps_want = 2 * expected / (high - low)
            raise CheckFailed(
                f"over env steps {low}-{high} the agent explored with epsilon about {eps_seen:.2f}; the schedule "
                f"(exploration_initial_eps={config.exploration_initial_eps}, exploration_final_eps="
                f"{config.exploration_final_eps}, exploration_fraction={config.exploration_fraction}) gives "
                f"{eps_want:.2f} on average there (a random action is the greedy one half of the time, so "
                f"{seen} non-greedy actions where about {expected:.0f} were expected): act with probability "
                "linear_epsilon(config, t) at random, else greedily"
            )
    return "non-greedy actions follow epsilon from 0.6 to 0.2 over the first 800 steps, then 0.2"


@check(
    "train_dqn",
    "same seed, same CartPole run",
    timeout=40,
    tests="train_dqn",
    uses=LOOP_HELPERS,
    enforces=(
        ":func:`seed_everything` ``(config.seed)``",
        "``env.action_space.seed(config.seed)``",
        "Reset the env with ``seed=config.seed``.",
    ),
    hint=(
        "Two runs with the same config must be identical: at the start of train_dqn call "
        "seed_everything(config.seed), seed env.action_space with it, and pass it to the first env.reset; a "
        "generator you make yourself for exploration must be seeded from config.seed too."
    ),
)
def same_seed_same_cartpole(mod: ModuleType) -> str:
    # CartPole's reset is random unless seeded, so here an unseeded reset or action space shows.
    config = small_lineworld(
        env_id="CartPole-v1",
        total_timesteps=300,
        learning_starts=100,
        train_freq=4,
        batch_size=32,
        target_update_interval=50,
        exploration_fraction=0.5,
        seed=21,
    )
    first, second = train(mod, config), train(mod, config)
    require(
        list(first.probe_state) == list(second.probe_state),
        f"two CartPole runs with seed {config.seed} started from different states ({fmt(first.probe_state)} and "
        f"{fmt(second.probe_state)}): reset the env with env.reset(seed=config.seed) at the start",
    )
    require(
        list(first.episode_rewards) == list(second.episode_rewards),
        "two CartPole runs with the same seed gave different episode returns: seed random, numpy and torch, "
        "reset the env with seed=config.seed and call env.action_space.seed(config.seed) (random actions come "
        "from the action space)",
    )
    require(
        np.allclose(first.losses, second.losses, rtol=0, atol=1e-9),
        "two CartPole runs with the same seed played the same episodes but had different losses: build the "
        "network and the buffer after seeding",
    )
    other = train(mod, config.replace(seed=22))
    require(
        list(other.probe_state) != list(first.probe_state),
        "seeds 21 and 22 started CartPole from the same state: reset with seed=config.seed",
    )
    return f"seed 21 twice: identical ({len(first.episode_rewards)} episodes); seed 22 starts elsewhere"
