"""Environments: ``LineWorld-v0``, a one-hot corridor small enough to draw whole.

LineWorld is a real :class:`gymnasium.Env`. The agent starts in the leftmost
cell of a corridor of ``size`` cells and must walk right to the goal in the
last cell. Every step costs ``step_reward`` (a small penalty); entering the
goal pays ``goal_reward`` and terminates the episode. With ``slip_prob`` > 0
the chosen move is reversed with that probability. The registered id adds a
time limit (``max_episode_steps``) that *truncates* the episode: the agent did
not fail, time just ran out, which is why a correct DQN still bootstraps there.

The observation is the one-hot vector of the agent's cell, so a Q-network sees
exactly one input at 1.0 and its full table $Q(s, a)$ has ``size x 2`` entries.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

LINEWORLD_ID = "LineWorld-v0"
LINEWORLD_MAX_STEPS = 50
LEFT, RIGHT = 0, 1
ACTION_NAMES: dict[str, tuple[str, ...]] = {
    "LineWorld-v0": ("left", "right"),
    "CartPole-v1": ("push left", "push right"),
}


class LineWorld(gym.Env[NDArray[np.float32], np.int64]):
    """A corridor of ``size`` cells; start at cell 0, goal at cell ``size - 1``."""

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4}  # noqa: RUF012 - gymnasium's name

    def __init__(
        self,
        size: int = 8,
        step_reward: float = -0.1,
        goal_reward: float = 1.0,
        slip_prob: float = 0.0,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(size, int) or size < 2:
            raise ValueError(f"LineWorld size must be an integer >= 2, got {size!r}")
        if not 0.0 <= slip_prob <= 1.0:
            raise ValueError(f"slip_prob must be in [0, 1], got {slip_prob!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.size = size
        self.step_reward = float(step_reward)
        self.goal_reward = float(goal_reward)
        self.slip_prob = float(slip_prob)
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.position = 0

    @property
    def goal(self) -> int:
        return self.size - 1

    def one_hot(self, position: int) -> NDArray[np.float32]:
        """The observation of ``position``: a one-hot float32 vector."""
        obs = np.zeros(self.size, dtype=np.float32)
        obs[position] = 1.0
        return obs

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        self.position = 0
        return self.one_hot(self.position), {"position": self.position}

    def step(self, action: np.int64 | int) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(np.int64(action)):
            raise ValueError(f"LineWorld actions are 0 (left) and 1 (right), got {action!r}")
        move = 1 if int(action) == RIGHT else -1
        if self.slip_prob > 0 and self.np_random.random() < self.slip_prob:
            move = -move
        self.position = int(np.clip(self.position + move, 0, self.goal))
        terminated = self.position == self.goal
        reward = self.goal_reward if terminated else self.step_reward
        return self.one_hot(self.position), reward, terminated, False, {"position": self.position}

    def optimal_return(self) -> float:
        """Undiscounted return of walking straight right without slips."""
        return (self.goal - 1) * self.step_reward + self.goal_reward

    def render(self) -> Any:
        if self.render_mode == "ansi":
            cells = ["A" if i == self.position else ("G" if i == self.goal else ".") for i in range(self.size)]
            return "".join(cells)
        if self.render_mode == "rgb_array":
            return self._frame()
        return None

    def _frame(self, cell: int = 48) -> NDArray[np.uint8]:
        """A simple picture: grey cells, a green goal, the agent as a blue square."""
        height, width = cell, cell * self.size
        frame = np.full((height, width, 3), 235, dtype=np.uint8)
        for i in range(self.size):
            x0 = i * cell
            frame[:, x0 : x0 + 1] = 120
            if i == self.goal:
                frame[2:-2, x0 + 2 : x0 + cell - 2] = (80, 190, 100)
        pad = cell // 5
        x0 = self.position * cell
        frame[pad:-pad, x0 + pad : x0 + cell - pad] = (40, 90, 220)
        return frame


def register_envs() -> None:
    """Register ``LineWorld-v0`` with Gymnasium (safe to call more than once)."""
    if LINEWORLD_ID not in gym.registry:
        gym.register(
            id=LINEWORLD_ID,
            entry_point="playground.core.envs:LineWorld",
            max_episode_steps=LINEWORLD_MAX_STEPS,
        )


EnvWatcher = Callable[[gym.Env[Any, Any]], gym.Env[Any, Any]]
_watching = threading.local()  # .watchers: the watchers of this thread, innermost last


def make_env(env_id: str, render_mode: str | None = None, **kwargs: Any) -> gym.Env[Any, Any]:
    """``gymnasium.make`` with our environments registered first.

    Inside :func:`watching_envs` the env is handed to the innermost watcher,
    which may wrap it (the app measures a training run through the env its loop makes).
    """
    register_envs()
    env = gym.make(env_id, render_mode=render_mode, **kwargs)
    watchers: list[EnvWatcher] = getattr(_watching, "watchers", [])
    return watchers[-1](env) if watchers else env


@contextlib.contextmanager
def watching_envs(watcher: EnvWatcher) -> Iterator[None]:
    """Within the block, every env this thread's :func:`make_env` makes passes through ``watcher``."""
    watchers: list[EnvWatcher] = getattr(_watching, "watchers", None) or []
    _watching.watchers = [*watchers, watcher]
    try:
        yield
    finally:
        _watching.watchers = watchers


def env_dims(env_id: str) -> tuple[int, int]:
    """(state_dim, action_dim) of a discrete-action, vector-observation env."""
    env = make_env(env_id)
    try:
        obs_space, act_space = env.observation_space, env.action_space
        if not isinstance(act_space, spaces.Discrete) or obs_space.shape is None:
            raise ValueError(f"{env_id} needs a Discrete action space and a vector observation")
        return int(np.prod(obs_space.shape)), int(act_space.n)
    finally:
        env.close()


register_envs()
