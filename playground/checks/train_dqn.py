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
"""

from __future__ import annotations

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

from playground.checks import CheckFailed, check, require
from playground.core.config import PRESETS, DQNConfig, linear_epsilon
from playground.core.envs import LINEWORLD_ID, LineWorld, make_env
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

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__(state_dim, action_dim, hidden_dims)
        type(self).instances += 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        type(self).forward_calls += 1
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


def small_lineworld(**changes: Any) -> DQNConfig:
    """A LineWorld run of a few hundred steps with a tiny network."""
    base = PRESETS["lineworld"].replace(
        total_timesteps=600, learning_starts=100, hidden_dims=(16,), eval_freq=0, reward_threshold=None
    )
    return base.replace(**changes)


def train(mod: ModuleType, config: DQNConfig, **kwargs: Any) -> TrainingResult:
    """Call the learner's ``train_dqn`` and insist on a ``TrainingResult`` back."""
    result = mod.train_dqn(config, **kwargs)
    if not isinstance(result, TrainingResult):
        raise CheckFailed(
            f"train_dqn returned {type(result).__name__}; expected a playground.core.results.TrainingResult "
            "(build one with TrainingResult(q_network=..., config=config) and fill its lists)"
        )
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


# --- The checks -------------------------------------------------------------------------------


@check("train_dqn", "result is well formed", timeout=60)
def result_well_formed(mod: ModuleType) -> str:
    config = small_lineworld(seed=0)
    result = train(mod, config)
    n = len(result.episode_rewards)
    require(n > 0, "no episode was recorded in 600 LineWorld steps: append each finished episode's return")
    require(
        len(result.episode_lengths) == n and len(result.episode_end_steps) == n,
        f"episode_rewards has {n} entries but episode_lengths has {len(result.episode_lengths)} and "
        f"episode_end_steps {len(result.episode_end_steps)}: record all three when an episode ends",
    )
    lengths = [int(x) for x in result.episode_lengths]
    require(
        all(1 <= x <= 50 for x in lengths),
        f"LineWorld episodes last 1 to 50 steps, got lengths {lengths[:10]}...: is the length reset per episode?",
    )
    require(
        sum(lengths) <= config.total_timesteps,
        f"episode lengths add up to {sum(lengths)}, more than the {config.total_timesteps} steps of the run",
    )
    ends = np.cumsum(lengths)
    end_steps = np.asarray(result.episode_end_steps)
    require(
        bool(np.array_equal(end_steps, ends) or np.array_equal(end_steps, ends - 1)),
        f"episode_end_steps {end_steps[:5].tolist()}... do not match the running total of episode lengths "
        f"{ends[:5].tolist()}...: record the env-step count when each episode ends",
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
        f"total_steps is {result.total_steps}; the run had {config.total_timesteps} env steps",
    )
    _check_epsilons(result, config)
    require(
        len(result.losses) == len(result.loss_steps) and len(result.losses) > 0,
        f"losses ({len(result.losses)}) and loss_steps ({len(result.loss_steps)}) must be non-empty and "
        "of the same length: record loss.item() and the env step of every update",
    )
    require(
        all(math.isfinite(float(x)) for x in result.losses),
        "some recorded losses are NaN or infinite on LineWorld, where a correct loop stays finite",
    )
    require(
        min(result.loss_steps) >= config.learning_starts,
        f"the first update was at env step {min(result.loss_steps)}, before learning_starts = "
        f"{config.learning_starts}: no update until the buffer has learning_starts transitions",
    )
    require(
        len(result.probe_steps) == len(result.probe_q_values) and len(result.probe_steps) >= 2,
        "probe_steps and probe_q_values must have the same length, with at least two records "
        "(Q-values of the probe state at the start and during training)",
    )
    require(
        all(len(row) == 2 for row in result.probe_q_values),
        "each probe_q_values entry should hold one Q-value per action (2 on LineWorld)",
    )
    require(len(result.probe_state) == 8, f"probe_state should be an 8-cell LineWorld state, got {result.probe_state}")
    require(result.gradient_updates > 0, "gradient_updates is 0: count the updates you make")
    require(result.wall_time > 0, "wall_time is not set: record the seconds the run took")
    require(bool(result.stop_reason), "stop_reason is empty: say why the run ended (e.g. 'finished')")
    return f"{n} episodes, {result.gradient_updates} updates, every field filled and consistent"


def _check_epsilons(result: TrainingResult, config: DQNConfig) -> None:
    require(
        len(result.epsilons) == len(result.epsilon_steps) and len(result.epsilons) >= 2,
        "epsilons and epsilon_steps must have the same length, with at least two records",
    )
    for step, eps in zip(result.epsilon_steps, result.epsilons, strict=True):
        # Accept an off-by-one step convention: the value of step t-1, t or t+1.
        low = linear_epsilon(config, int(step) + 1) - 1e-6
        high = linear_epsilon(config, max(0, int(step) - 1)) + 1e-6
        require(
            low <= float(eps) <= high,
            f"at env step {step} epsilon was {float(eps):.4f}, expected {linear_epsilon(config, int(step)):.4f}: "
            "use playground.core.config.linear_epsilon(config, t) (linear from exploration_initial_eps to "
            "exploration_final_eps over exploration_fraction * total_timesteps steps)",
        )
    late = [
        eps
        for step, eps in zip(result.epsilon_steps, result.epsilons, strict=True)
        if step > 0.6 * config.total_timesteps
    ]
    require(
        bool(late) and math.isclose(float(late[-1]), config.exploration_final_eps, abs_tol=1e-6),
        "epsilon should have reached exploration_final_eps by the end of the run (and be recorded there)",
    )


@check("train_dqn", "follows the update schedule", timeout=60)
def update_schedule(mod: ModuleType) -> str:
    seen: list[str] = []
    for train_freq, gradient_steps in ((4, 2), (3, -1)):
        config = small_lineworld(train_freq=train_freq, gradient_steps=gradient_steps, learning_starts=99, seed=1)
        RecordingBuffer.reset_log()
        result = train(mod, config, buffer_cls=RecordingBuffer)
        per_phase = train_freq if gradient_steps == -1 else gradient_steps
        expected = per_phase * (config.total_timesteps // train_freq - config.learning_starts // train_freq)
        sampled = len(RecordingBuffer.batch_sizes)
        require(
            sampled > 0,
            "the buffer was never sampled: does train_dqn use buffer_cls and call sample_indices(batch_size)?",
        )
        require(
            abs(sampled - expected) <= per_phase,
            f"with train_freq={train_freq}, gradient_steps={gradient_steps}, learning_starts=99 and "
            f"{config.total_timesteps} steps, a DQN makes {expected} updates ({per_phase} every {train_freq} "
            f"steps once past learning_starts; -1 means as many as train_freq); yours sampled {sampled} batches",
        )
        require(
            set(RecordingBuffer.batch_sizes) == {config.batch_size},
            f"batches were sampled with sizes {sorted(set(RecordingBuffer.batch_sizes))}; "
            f"config.batch_size is {config.batch_size}",
        )
        require(
            result.gradient_updates == sampled,
            f"result.gradient_updates is {result.gradient_updates} but {sampled} batches were drawn: "
            "count one update per sampled batch",
        )
        seen.append(f"{sampled} updates for train_freq={train_freq}, gradient_steps={gradient_steps}")
    return "; ".join(seen)


@check("train_dqn", "uses the given network and buffer classes", timeout=60)
def uses_injected_classes(mod: ModuleType) -> str:
    config = small_lineworld(total_timesteps=400, buffer_size=777, seed=2)
    RecordingNetwork.instances = 0
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


@check("train_dqn", "learns LineWorld", timeout=90)
def learns_lineworld(mod: ModuleType) -> str:
    optimal = LineWorld().optimal_return()
    returns: list[float] = []
    for seed in (0, 1):
        config = PRESETS["lineworld"].replace(seed=seed, total_timesteps=2_500)
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
    return f"greedy return {optimal:.1f} (optimal) on seeds 0 and 1"


@check("train_dqn", "bootstraps through truncation", timeout=60)
def bootstraps_through_truncation(mod: ModuleType) -> str:
    config = DQNConfig(
        env_id=TRUNCATING_ENV_ID,
        total_timesteps=2_000,
        learning_rate=1e-2,
        buffer_size=2_000,
        learning_starts=100,
        batch_size=32,
        gamma=TRUNCATING_GAMMA,
        train_freq=1,
        gradient_steps=1,
        target_update_interval=25,
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
        total_timesteps=2_000,
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


@check("train_dqn", "honours the target network", timeout=90)
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


@check("train_dqn", "same seed, same run", timeout=60)
def same_seed_same_run(mod: ModuleType) -> str:
    config = small_lineworld(total_timesteps=800, seed=5)
    first = train(mod, config)
    second = train(mod, config)
    require(
        list(first.episode_rewards) == list(second.episode_rewards),
        "two runs with the same seed gave different episode returns: seed everything at the start of train_dqn "
        "(random.seed, np.random.seed, torch.manual_seed), reset the env with seed=config.seed and call "
        "env.action_space.seed(config.seed)",
    )
    require(
        np.allclose(first.losses, second.losses, rtol=0, atol=1e-9),
        "the same seed gave the same episodes but different losses: the minibatches or the network weights are "
        "not seeded. Call np.random.seed(config.seed) and torch.manual_seed(config.seed) before building the "
        "network and the buffer",
    )
    other = train(mod, config.replace(seed=6))
    require(
        list(other.episode_rewards) != list(first.episode_rewards) or list(other.losses) != list(first.losses),
        "seeds 5 and 6 gave identical runs: train_dqn ignores config.seed",
    )
    return f"seed 5 twice: identical ({len(first.episode_rewards)} episodes); seed 6 differs"


@check("train_dqn", "callback sees episodes and can stop", timeout=60)
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
        [p.episode for p in seen] in ([1, 2, 3], [0, 1, 2]),
        f"TrainingProgress.episode should count the episodes, got {[p.episode for p in seen]}",
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


@check("train_dqn", "evaluate plays greedy episodes", timeout=30)
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
