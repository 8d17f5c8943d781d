"""Learners' versions of exercise 3, written differently from the reference, with switchable bugs.

``make_loop()`` is a correct learner's module: every public function of the
exercise, written in its own way (a 1-based step counter, ``deepcopy`` for the
target, its own NumPy generator for exploration, a log entry at every step,
NumPy's argmax, a cumulative-sum moving average). Three loop shapes (a flat
step loop, an episode loop with an inner step loop, an agent class), two ways
to write Huber (``F.smooth_l1_loss`` or by hand) and four ways to write Polyak
averaging (a blend copied in, ``lerp_``, ``mul_``/``add_``, a blended state
dict) can be combined: the checks must pass them all. Each ``make_loop(bug)``
plants one mistake a learner makes; some check must catch it and name it.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn
from torch.nn import functional as F  # noqa: N812

from playground.core.config import DQNConfig, linear_epsilon
from playground.core.envs import make_env
from playground.core.results import TrainingProgress, TrainingResult
from solutions.q_network import CustomQNetwork
from solutions.replay_buffer import ReplayBufferWithIndices

BUGS: tuple[str, ...] = (
    "truncation",  # pushes done = terminated or truncated
    "online_target",  # bootstraps from the online network
    "no_sync",  # never updates the target network
    "ignore_classes",  # builds CustomQNetwork and the reference buffer whatever it is given
    "unseeded",  # seeds nothing
    "unseeded_reset",  # seeds everything but resets the env without the seed at the start
    "huber_ignored",  # td_loss always takes the squared error
    "tau_swapped",  # Polyak with tau and 1 - tau swapped
    "eval_explores",  # evaluate keeps exploring with epsilon = 0.01
    "eval_reseeds",  # evaluate resets every episode with the same seed
    "lr_ignored",  # Adam with its default learning rate
    "no_clip",  # no gradient clipping
    "no_zero_grad",  # gradients accumulate across updates
    "gamma_ignored",  # the loop's TD target uses gamma = 0.99 whatever the config says
    "final_eps_ignored",  # epsilon decays to 0.05 whatever exploration_final_eps says
    "starts_at_learning_starts",  # trains at n >= learning_starts instead of n > learning_starts
    "hidden_dims_ignored",  # builds the networks with [64]
    "argmin",  # greedy_action takes the argmin
    "loss_sum",  # td_loss sums over the batch instead of averaging
    "plot_cumulative_mean",  # plot_rewards averages over all episodes so far, not the window
    "waits_past_batch",  # trains only once the buffer holds more than batch_size transitions
    "late_sync",  # updates the target network one env step late (n % interval == 1)
    "invisible_returns",  # draws the returns with linewidth=0
    "eps_per_episode",  # epsilon decays with the episode count, not the env step
    "return_not_reset",  # the episode return is not reset between episodes (flat loop)
    "seed_misses_random",  # seed_everything leaves Python's random unseeded
    "eps_next_step",  # acts with linear_epsilon(config, t + 1)
    "reset_before_push",  # resets the env before pushing an episode's last transition (flat loop)
    "aliased_target",  # target_network = q_network: one network under two names, not a copy
    "inline_no_zero_grad",  # the loop updates without gradient_phase (which is right) and never zeroes gradients
    "gym_make",  # the loop builds its env with gym.make(config.env_id), not the stub's make_env
    "no_done",  # the TD target bootstraps after terminal transitions too: no (1 - done)
)
SHAPES: tuple[str, ...] = ("flat", "episodes", "agent")
HUBERS: tuple[str, ...] = ("torch", "hand")
POLYAKS: tuple[str, ...] = ("copy", "lerp", "mul_add", "state_dict")


def make_loop(bug: str | None = None, *, shape: str = "flat", huber: str = "torch", polyak: str = "copy") -> ModuleType:
    """A module with every public function of exercise 3, correct or with one planted ``bug``."""
    if bug is not None and bug not in BUGS:
        raise ValueError(f"unknown bug {bug!r}")
    if shape not in SHAPES or huber not in HUBERS or polyak not in POLYAKS:
        raise ValueError(f"unknown variant {shape!r}, {huber!r}, {polyak!r}")

    def seed_everything(seed: int) -> None:
        torch.manual_seed(seed)
        np.random.seed(seed)
        if bug != "seed_misses_random":
            random.seed(seed)

    def make_optimizer(params: Any, learning_rate: float) -> torch.optim.Optimizer:
        if bug == "lr_ignored":
            return torch.optim.Adam(params)
        return torch.optim.Adam(params, lr=learning_rate)

    def greedy_action(q_network: nn.Module, state: Any) -> int:
        with torch.no_grad():
            values = q_network(torch.as_tensor(state, dtype=torch.float32)[None])[0].numpy()
        return int(np.argmin(values) if bug == "argmin" else np.argmax(values))

    def td_loss(q_network: nn.Module, target_network: nn.Module, batch: Sequence[Any], gamma: float, loss: str) -> Any:
        s, a, r, s2, d = (torch.as_tensor(np.asarray(x)) for x in batch[:5])
        bootstrap = q_network if bug == "online_target" else target_network
        with torch.no_grad():
            best = bootstrap(s2.float()).max(1)[0]
            y = r.float() + gamma * best * (1 if bug == "no_done" else 1 - d.float())
        q = q_network(s.float()).gather(1, a.long().view(-1, 1)).view(-1)
        reduce = torch.sum if bug == "loss_sum" else torch.mean
        if loss == "huber" and bug != "huber_ignored":
            if huber == "hand":
                error = q - y
                size = error.abs()
                return reduce(torch.where(size <= 1.0, 0.5 * error**2, size - 0.5))
            return F.smooth_l1_loss(q, y, reduction="sum" if bug == "loss_sum" else "mean")
        return reduce((q - y) ** 2)

    def update_target(target_network: nn.Module, q_network: nn.Module, tau: float) -> None:
        keep, take = (tau, 1 - tau) if bug == "tau_swapped" else (1 - tau, tau)
        if polyak == "state_dict":
            online = q_network.state_dict()
            blend = {k: keep * v + take * online[k] for k, v in target_network.state_dict().items()}
            target_network.load_state_dict(blend)
            return
        with torch.no_grad():
            for t_param, o_param in zip(target_network.parameters(), q_network.parameters(), strict=True):
                if polyak == "copy":
                    t_param.copy_(take * o_param + keep * t_param)
                elif polyak == "lerp":
                    t_param.lerp_(o_param, take)
                else:
                    t_param.mul_(keep).add_(o_param, alpha=take)

    def evaluate(q_network: nn.Module, env_id: str, episodes: int = 20, seed: int = 0) -> list[float]:
        if episodes < 1:
            raise ValueError("episodes must be >= 1")
        env = make_env(env_id)
        explore = np.random.default_rng(123)
        scores: list[float] = []
        obs, _ = env.reset(seed=seed)
        for _ in range(episodes):
            score = 0.0
            while True:
                if bug == "eval_explores" and explore.random() < 0.01:
                    action = int(env.action_space.sample())
                else:
                    action = greedy_action(q_network, obs)
                obs, reward, terminated, truncated, _ = env.step(action)
                score += float(reward)
                if terminated or truncated:
                    obs, _ = env.reset(seed=seed if bug == "eval_reseeds" else None)
                    break
            scores.append(score)
        env.close()
        return scores

    def learn_once(
        q_network: nn.Module,
        target_network: nn.Module,
        optimizer: Any,
        batch: Sequence[Any],
        config: DQNConfig,
        zero_grad: bool = bug != "no_zero_grad",
    ) -> float:
        gamma = 0.99 if bug == "gamma_ignored" else config.gamma
        loss = td_loss(q_network, target_network, batch, gamma, config.loss)
        if zero_grad:
            optimizer.zero_grad()
        loss.backward()
        if bug != "no_clip":
            nn.utils.clip_grad_norm_(q_network.parameters(), config.max_grad_norm)
        optimizer.step()
        return float(loss.item())

    def gradient_phase(
        q_network: nn.Module,
        target_network: nn.Module,
        optimizer: torch.optim.Optimizer,
        buffer: Any,
        config: DQNConfig,
        updates: int,
    ) -> list[float]:
        out: list[float] = []
        while len(out) < updates:
            out.append(
                learn_once(q_network, target_network, optimizer, buffer.sample_indices(config.batch_size), config)
            )
            if not np.isfinite(out[-1]):
                break
        return out

    def plot_rewards(
        episode_rewards: Any, window: int = 20, *, title: str = "Reward per episode", threshold: float | None = None
    ) -> Figure:
        rewards = np.asarray(
            episode_rewards.episode_rewards if isinstance(episode_rewards, TrainingResult) else episode_rewards,
            dtype=float,
        )
        sums = np.concatenate([[0.0], np.cumsum(rewards)])
        ends = np.arange(1, len(rewards) + 1)
        starts = np.zeros_like(ends) if bug == "plot_cumulative_mean" else np.maximum(0, ends - window)
        figure = Figure()
        ax = figure.add_subplot()
        ax.plot(ends, rewards, alpha=0.4, linewidth=0 if bug == "invisible_returns" else 1)
        ax.plot(ends, (sums[ends] - sums[starts]) / (ends - starts), label="average")
        if threshold is not None:
            ax.axhline(threshold, linestyle=":")
        ax.set_title(title)
        return figure

    def epsilon(config: DQNConfig, t: int) -> float:
        if bug == "final_eps_ignored":
            return float(module.linear_epsilon(config.replace(exploration_final_eps=0.05), t))
        return float(module.linear_epsilon(config, t + 1 if bug == "eps_next_step" else t))

    def train_dqn(
        config: DQNConfig,
        *,
        q_network_cls: type[nn.Module] = CustomQNetwork,
        buffer_cls: type[Any] = ReplayBufferWithIndices,
        callback: Any = None,
    ) -> TrainingResult:
        loop = {"flat": _flat_loop, "episodes": _episode_loop, "agent": _agent_loop}[shape]
        return loop(config, q_network_cls, buffer_cls, callback)

    def setup(config: DQNConfig, q_network_cls: type[nn.Module], buffer_cls: type[Any]) -> dict[str, Any]:
        seed = None if bug == "unseeded" else config.seed
        if seed is not None:
            seed_everything(seed)
        if bug == "ignore_classes":
            q_network_cls, buffer_cls = CustomQNetwork, ReplayBufferWithIndices
        env = gym.make(config.env_id) if bug == "gym_make" else make_env(config.env_id)
        if seed is not None:
            env.action_space.seed(seed)
        n_obs = int(env.observation_space.shape[0])  # type: ignore[index]
        n_act = int(env.action_space.n)  # type: ignore[attr-defined]
        dims = [64] if bug == "hidden_dims_ignored" else list(config.hidden_dims)
        online = q_network_cls(n_obs, n_act, dims)
        return {
            "seed": seed,
            "env": env,
            "n_act": n_act,
            "online": online,
            "target": online if bug == "aliased_target" else copy.deepcopy(online),
            "memory": buffer_cls(config.buffer_size),
            "optim": make_optimizer(online.parameters(), config.learning_rate),
            "rng": np.random.default_rng(seed),
            "out": TrainingResult(q_network=online, config=config),
            "per_phase": config.train_freq if config.gradient_steps == -1 else config.gradient_steps,
            "first_reset_seed": None if bug == "unseeded_reset" else seed,
        }

    def act(parts: dict[str, Any], config: DQNConfig, t: int, obs: Any) -> tuple[int, float]:
        eps = epsilon(config, len(parts["out"].episode_rewards) if bug == "eps_per_episode" else t)
        if parts["rng"].random() < eps:
            return int(parts["env"].action_space.sample()), eps
        return greedy_action(parts["online"], obs), eps

    def after_step(parts: dict[str, Any], config: DQNConfig, step: int) -> bool:
        """Train and sync after env step ``step`` (1-based); True to stop."""
        memory, out = parts["memory"], parts["out"]
        due = step >= config.learning_starts if bug == "starts_at_learning_starts" else step > config.learning_starts
        enough = len(memory) > config.batch_size if bug == "waits_past_batch" else len(memory) >= config.batch_size
        if due and step % config.train_freq == 0 and enough:
            if bug == "inline_no_zero_grad":  # its own update loop in place of gradient_phase
                batches = [memory.sample_indices(config.batch_size) for _ in range(parts["per_phase"])]
                values = [
                    learn_once(parts["online"], parts["target"], parts["optim"], batch, config, zero_grad=False)
                    for batch in batches
                ]
            else:
                values = gradient_phase(
                    parts["online"], parts["target"], parts["optim"], memory, config, parts["per_phase"]
                )
            out.losses.extend(values)
            out.loss_steps.extend([step] * len(values))
        if bug != "no_sync" and step % config.target_update_interval == (1 if bug == "late_sync" else 0):
            update_target(parts["target"], parts["online"], config.tau)
        return False

    def end_episode(parts: dict[str, Any], config: DQNConfig, step: int, ret: float, length: int, eps: float) -> bool:
        out = parts["out"]
        out.episode_rewards.append(ret)
        out.episode_lengths.append(length)
        out.episode_end_steps.append(step)
        if parts["callback"] is None:
            return False
        return bool(parts["callback"](TrainingProgress(step, ret, length)) is False)

    def finish(parts: dict[str, Any], step: int, began: float) -> TrainingResult:
        out: TrainingResult = parts["out"]
        out.total_steps = step
        out.stop_reason = out.stop_reason or "done"
        out.wall_time = time.time() - began
        parts["env"].close()
        return out

    def push(
        parts: dict[str, Any], obs: Any, action: int, reward: Any, nxt: Any, terminated: bool, truncated: bool
    ) -> None:
        done = (terminated or truncated) if bug == "truncation" else terminated
        parts["memory"].push(obs, action, float(reward), nxt, done)

    def _flat_loop(config: DQNConfig, q_cls: Any, b_cls: Any, callback: Any) -> TrainingResult:
        began = time.time()
        parts = setup(config, q_cls, b_cls)
        parts["callback"] = callback
        env, out = parts["env"], parts["out"]
        obs, _ = env.reset(seed=parts["first_reset_seed"])
        out.probe_state = [float(x) for x in obs]
        ret, length, step = 0.0, 0, 0
        for step in range(1, config.total_timesteps + 1):
            action, eps = act(parts, config, step - 1, obs)
            out.epsilon_steps.append(step - 1)
            out.epsilons.append(eps)
            nxt, reward, terminated, truncated, _ = env.step(action)
            if bug == "reset_before_push" and (terminated or truncated):
                nxt, _ = env.reset()
            push(parts, obs, action, reward, nxt, terminated, truncated)
            obs = nxt
            ret += float(reward)
            length += 1
            stop = False
            if terminated or truncated:
                stop = end_episode(parts, config, step, ret, length, eps)
                if stop:
                    out.stop_reason = "callback asked to stop"
                if bug != "reset_before_push":
                    obs, _ = env.reset()
                ret, length = (ret if bug == "return_not_reset" else 0.0), 0
            if after_step(parts, config, step) or stop:
                break
        return finish(parts, step, began)

    def _episode_loop(config: DQNConfig, q_cls: Any, b_cls: Any, callback: Any) -> TrainingResult:
        began = time.time()
        parts = setup(config, q_cls, b_cls)
        parts["callback"] = callback
        env, out = parts["env"], parts["out"]
        steps, first, stop = 0, True, False
        while steps < config.total_timesteps and not stop:
            obs, _ = env.reset(seed=parts["first_reset_seed"]) if first else env.reset()
            if first:
                out.probe_state = [float(x) for x in obs]
                first = False
            ret, length, done = 0.0, 0, False
            while not done and steps < config.total_timesteps:
                action, eps = act(parts, config, steps, obs)
                if steps % 2 == 0:
                    out.epsilon_steps.append(steps)
                    out.epsilons.append(eps)
                nxt, reward, terminated, truncated, _ = env.step(action)
                steps += 1
                push(parts, obs, action, reward, nxt, terminated, truncated)
                obs, ret, length = nxt, ret + float(reward), length + 1
                done = bool(terminated or truncated)
                if done and end_episode(parts, config, steps, ret, length, eps):
                    out.stop_reason, stop = "stopped", True
                if after_step(parts, config, steps) or stop:
                    stop = True
                    break
        out.epsilon_steps.append(steps)
        out.epsilons.append(epsilon(config, steps))
        return finish(parts, steps, began)

    class Agent:
        """The loop as an object: act, remember, learn, sync."""

        def __init__(self, config: DQNConfig, q_cls: Any, b_cls: Any, callback: Any) -> None:
            self.config = config
            self.parts = setup(config, q_cls, b_cls)
            self.parts["callback"] = callback
            self.t = 0

        def run(self) -> TrainingResult:
            began = time.time()
            env, out, config = self.parts["env"], self.parts["out"], self.config
            obs, _ = env.reset(seed=self.parts["first_reset_seed"])
            out.probe_state = [float(x) for x in obs]
            ret, length = 0.0, 0
            while self.t < config.total_timesteps:
                action, eps = act(self.parts, config, self.t, obs)
                out.epsilon_steps.append(self.t)
                out.epsilons.append(eps)
                nxt, reward, terminated, truncated, _ = env.step(action)
                push(self.parts, obs, action, reward, nxt, terminated, truncated)
                self.t += 1
                obs, ret, length = nxt, ret + float(reward), length + 1
                stop = False
                if terminated or truncated:
                    stop = end_episode(self.parts, config, self.t, ret, length, eps)
                    obs, _ = env.reset()
                    ret, length = 0.0, 0
                if after_step(self.parts, config, self.t) or stop:
                    break
            return finish(self.parts, self.t, began)

    def _agent_loop(config: DQNConfig, q_cls: Any, b_cls: Any, callback: Any) -> TrainingResult:
        return Agent(config, q_cls, b_cls, callback).run()

    module = ModuleType(f"dqn_variant_{bug or 'correct'}_{shape}_{huber}_{polyak}")
    for name, value in {
        "seed_everything": seed_everything,
        "make_optimizer": make_optimizer,
        "greedy_action": greedy_action,
        "td_loss": td_loss,
        "update_target": update_target,
        "evaluate": evaluate,
        "gradient_phase": gradient_phase,
        "train_dqn": train_dqn,
        "plot_rewards": plot_rewards,
        "linear_epsilon": linear_epsilon,
    }.items():
        setattr(module, name, value)
    return module
