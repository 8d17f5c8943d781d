"""A second DQN loop, written differently from the reference, with switchable classic bugs.

``make_loop(None)`` is a correct learner's loop (1-based step counter,
``deepcopy`` target, its own NumPy generator for exploration, a log entry at
every step): the checks must pass it. Each ``make_loop(bug)`` plants one
classic mistake that some check must catch and name.
"""

from __future__ import annotations

import copy
import random
import time
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from playground.core.config import DQNConfig, linear_epsilon
from playground.core.envs import make_env
from playground.core.results import TrainingProgress, TrainingResult
from solutions.q_network import CustomQNetwork
from solutions.replay_buffer import ReplayBufferWithIndices

BUGS: tuple[str, ...] = ("truncation", "online_target", "no_sync", "ignore_classes", "unseeded")


def _evaluate(q_network: nn.Module, env_id: str, episodes: int, seed: int) -> list[float]:
    env = make_env(env_id)
    scores: list[float] = []
    obs, _ = env.reset(seed=seed)
    for _ in range(episodes):
        score = 0.0
        while True:
            with torch.no_grad():
                action = int(q_network(torch.as_tensor(obs, dtype=torch.float32)[None])[0].argmax())
            obs, reward, terminated, truncated, _ = env.step(action)
            score += float(reward)
            if terminated or truncated:
                obs, _ = env.reset()
                break
        scores.append(score)
    env.close()
    return scores


def make_loop(bug: str | None = None) -> ModuleType:
    """A module with ``train_dqn`` and ``evaluate``, correct or with one planted ``bug``."""
    if bug is not None and bug not in BUGS:
        raise ValueError(f"unknown bug {bug!r}")

    def train_dqn(
        config: DQNConfig,
        *,
        q_network_cls: type[nn.Module] = CustomQNetwork,
        buffer_cls: type[Any] = ReplayBufferWithIndices,
        callback: Any = None,
    ) -> TrainingResult:
        began = time.time()
        seed = None if bug == "unseeded" else config.seed
        if seed is not None:
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)
        if bug == "ignore_classes":
            q_network_cls, buffer_cls = CustomQNetwork, ReplayBufferWithIndices
        env = make_env(config.env_id)
        n_obs = int(env.observation_space.shape[0])  # type: ignore[index]
        n_act = int(env.action_space.n)  # type: ignore[attr-defined]
        online = q_network_cls(n_obs, n_act, list(config.hidden_dims))
        target = copy.deepcopy(online)
        memory = buffer_cls(config.buffer_size)
        optim = torch.optim.Adam(online.parameters(), lr=config.learning_rate)
        rng = np.random.default_rng(seed)
        out = TrainingResult(q_network=online, config=config)
        obs, _ = env.reset(seed=seed)
        out.probe_state = [float(x) for x in obs]
        ret, length = 0.0, 0
        per_phase = config.train_freq if config.gradient_steps == -1 else config.gradient_steps
        step = 0
        for step in range(1, config.total_timesteps + 1):
            eps = linear_epsilon(config, step - 1)
            out.epsilon_steps.append(step - 1)
            out.epsilons.append(eps)
            if rng.random() < eps:
                action = int(rng.integers(n_act))
            else:
                with torch.no_grad():
                    action = int(online(torch.as_tensor(obs, dtype=torch.float32)[None]).argmax())
            nxt, reward, terminated, truncated, _ = env.step(action)
            memory.push(
                obs, action, float(reward), nxt, (terminated or truncated) if bug == "truncation" else terminated
            )
            obs = nxt
            ret += float(reward)
            length += 1
            stop = False
            if terminated or truncated:
                out.episode_rewards.append(ret)
                out.episode_lengths.append(length)
                out.episode_end_steps.append(step)
                if callback is not None:
                    info = TrainingProgress(step, config.total_timesteps, len(out.episode_rewards), ret, length, eps)
                    stop = callback(info) is False
                obs, _ = env.reset()
                ret, length = 0.0, 0
            if step > config.learning_starts and step % config.train_freq == 0 and len(memory) >= config.batch_size:
                for _ in range(per_phase):
                    s, a, r, s2, d, _ = memory.sample_indices(config.batch_size)
                    bootstrap = online if bug == "online_target" else target
                    with torch.no_grad():
                        best = bootstrap(torch.as_tensor(s2, dtype=torch.float32)).max(1)[0]
                        y = torch.as_tensor(r, dtype=torch.float32) + config.gamma * best * (
                            1 - torch.as_tensor(d, dtype=torch.float32)
                        )
                    q = online(torch.as_tensor(s, dtype=torch.float32))
                    q = q.gather(1, torch.as_tensor(a, dtype=torch.int64).view(-1, 1)).view(-1)
                    loss = F.mse_loss(q, y) if config.loss == "mse" else F.smooth_l1_loss(q, y)
                    optim.zero_grad()
                    loss.backward()  # type: ignore[no-untyped-call]
                    nn.utils.clip_grad_norm_(online.parameters(), config.max_grad_norm)
                    optim.step()
                    out.losses.append(loss.item())
                    out.loss_steps.append(step)
                    out.gradient_updates += 1
            if bug != "no_sync" and step % config.target_update_interval == 0:
                with torch.no_grad():
                    for t_param, o_param in zip(target.parameters(), online.parameters(), strict=True):
                        t_param.copy_(config.tau * o_param + (1 - config.tau) * t_param)
            if step % 25 == 0 or step == 1:
                with torch.no_grad():
                    values = online(torch.as_tensor(out.probe_state, dtype=torch.float32)[None])[0]
                out.probe_steps.append(step)
                out.probe_q_values.append([float(v) for v in values])
            if stop:
                out.stop_reason = "callback asked to stop"
                break
        out.total_steps = step
        out.stop_reason = out.stop_reason or "done"
        out.wall_time = time.time() - began
        env.close()
        return out

    module = ModuleType(f"dqn_variant_{bug or 'correct'}")
    module.train_dqn = train_dqn  # type: ignore[attr-defined]
    module.evaluate = _evaluate  # type: ignore[attr-defined]
    return module
