"""Stable-Baselines3's DQN, driven by a :class:`~playground.core.config.DQNConfig`.

:data:`SB3_MAPPING` says, for every field of ``DQNConfig``, where its value
goes in SB3 (``DQN(...)``, ``learn(...)``, ``policy_kwargs``) or why SB3 has no
such argument; :func:`sb3_dqn_kwargs` builds the arguments from it, and
:func:`train_sb3` trains SB3 with them. The run is judged exactly like the
reference ``train_dqn``: the same seed, the same episode bookkeeping (an
episode's undiscounted return, recorded when it ends, read from SB3's
``Monitor`` wrapper), and the same greedy evaluation code
(``solutions.train_dqn.evaluate``), which sees SB3's online network through
:class:`Sb3QNetwork` as a plain module from states to Q-values.

Usable from a script::

    from playground.core.config import PRESETS
    from playground.sb3.adapter import train_sb3
    run = train_sb3(PRESETS["fast"])
    print(run.stop_reason, run.wall_time, run.steps_per_second)
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import DQN
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.torch_layers import FlattenExtractor
from stable_baselines3.dqn.policies import QNetwork
from torch import Tensor, nn

from playground.core.config import DQNConfig
from playground.core.envs import make_env
from playground.core.facts import EVAL_SEED_OFFSET
from playground.core.results import RunTiming, TrainingProgress

EvaluateFn = Callable[[nn.Module, str, int, int], list[float]]
ProgressCallback = Callable[[TrainingProgress], bool | None]
MappingKind = Literal["same", "converted", "not in SB3"]

# Seed of the greedy evaluation at env step n during training, as in the reference train_dqn.


@dataclass(frozen=True)
class FieldMapping:
    """Where one ``DQNConfig`` field goes in SB3.

    * ``kind``: "same" (an SB3 argument with the same name and meaning),
      "converted" (the value reaches SB3 in another shape or place), or
      "not in SB3" (a stated difference: SB3 has no such setting).
    * ``target``: where the value goes, e.g. ``DQN(gamma=...)``; empty when nowhere.
    * ``note``: how the value is passed, or why there is no counterpart.
    """

    field: str
    kind: MappingKind
    target: str
    note: str


def _same(name: str, note: str) -> FieldMapping:
    return FieldMapping(name, "same", f"DQN({name}=...)", note)


SB3_MAPPING: dict[str, FieldMapping] = {
    m.field: m
    for m in (
        FieldMapping(
            "env_id",
            "converted",
            "DQN(env=Monitor(make_env(env_id)))",
            "SB3 takes an environment object; we make it with our registry (so LineWorld-v0 exists) and wrap it in "
            "SB3's Monitor, which records each episode's return and length.",
        ),
        FieldMapping(
            "total_timesteps",
            "converted",
            "model.learn(total_timesteps=...)",
            "An argument of learn(), not of DQN(); it also sets the length of the epsilon schedule. SB3 collects "
            "train_freq steps at a time, so it can overshoot by up to train_freq - 1 steps when train_freq does not "
            "divide the budget; the reference stops exactly at the budget.",
        ),
        _same("learning_rate", "Adam's step size in both."),
        _same("buffer_size", "Replay capacity in transitions; both overwrite the oldest first."),
        _same(
            "learning_starts",
            "No update until more than learning_starts env steps were taken, in both. During those steps SB3 acts "
            "uniformly at random; the reference acts epsilon-greedily (epsilon is near 1 there anyway).",
        ),
        _same("batch_size", "Transitions per gradient update."),
        _same("tau", "1.0 copies the online weights into the target network; smaller values blend (Polyak)."),
        _same("gamma", "Discount factor of the TD target."),
        _same("train_freq", "Env steps between training phases (SB3 also accepts (n, 'episode'); we pass steps)."),
        _same("gradient_steps", "Updates per training phase; -1 means as many as env steps in the phase, in both."),
        _same(
            "target_update_interval",
            "Env steps between target updates, counted from the first step (also before learning starts), in both.",
        ),
        _same("exploration_fraction", "Share of total_timesteps over which epsilon decays linearly."),
        _same("exploration_initial_eps", "Epsilon at the start of the decay."),
        _same("exploration_final_eps", "Epsilon after the decay."),
        _same("max_grad_norm", "Global L2 norm the gradients are clipped to before each Adam step."),
        FieldMapping(
            "hidden_dims",
            "converted",
            'DQN(policy_kwargs={"net_arch": [...], "activation_fn": nn.ReLU})',
            "SB3's MlpPolicy builds the same network as CustomQNetwork: one Linear layer per width with ReLU "
            "between, and a plain Linear output with one Q-value per action.",
        ),
        FieldMapping(
            "loss",
            "not in SB3",
            "",
            "SB3's DQN always uses the Huber loss (smooth L1, delta 1); with loss='mse' only the reference "
            "uses the squared error, so the two runs then differ in their loss.",
        ),
        _same(
            "seed",
            "Seeds Python, NumPy and PyTorch, the action space and the first reset of the environment, in both "
            "(the streams are used in different orders, so equal seeds do not give equal runs).",
        ),
        FieldMapping(
            "eval_freq",
            "not in SB3",
            "",
            "Not a DQN() argument: SB3 evaluates with an EvalCallback. Here a callback runs the reference's "
            "greedy evaluate() every eval_freq env steps, with the reference's seeds, so both are judged alike.",
        ),
        FieldMapping(
            "eval_episodes",
            "not in SB3",
            "",
            "Not a DQN() argument: SB3's EvalCallback calls it n_eval_episodes. Used by the same evaluation callback.",
        ),
        FieldMapping(
            "reward_threshold",
            "not in SB3",
            "",
            "Not a DQN() argument: SB3 stops with StopTrainingOnRewardThreshold inside an EvalCallback. Here the "
            "evaluation callback stops SB3's learn() at the first greedy mean that reaches it, as the reference does.",
        ),
    )
}

# SB3 arguments that DQNConfig does not set, pinned to values that match the reference, with the reason.
SB3_FIXED_ARGUMENTS: dict[str, tuple[Any, str]] = {
    "policy": ("MlpPolicy", "a multilayer perceptron on vector observations, like CustomQNetwork"),
    "optimize_memory_usage": (False, "the reference stores next states separately, and so does SB3 with False"),
    "n_steps": (1, "one-step TD targets, as in the lesson"),
    "device": ("cpu", "the reference trains on the CPU"),
    "verbose": (0, "no console output"),
}

# How the two implementations differ beyond the settings (the page lists these).
IMPLEMENTATION_DIFFERENCES: tuple[tuple[str, str], ...] = (
    (
        "Loss",
        "SB3 always uses Huber. With loss='mse' only the reference changes.",
    ),
    (
        "Minibatch sampling",
        "SB3 draws a batch with replacement (a transition can appear twice); the reference draws without "
        "replacement and waits until the buffer holds a full batch.",
    ),
    (
        "Warm-up actions",
        "For the first learning_starts steps SB3 acts uniformly at random; the reference already follows "
        "epsilon-greedy (with epsilon close to 1 at that point).",
    ),
    (
        "Budget",
        "SB3 collects train_freq steps at a time and can run up to train_freq - 1 steps past total_timesteps.",
    ),
    (
        "Optimizer",
        "Both use Adam with PyTorch's defaults; the reference asks for the fused CPU kernel (same math, faster).",
    ),
    (
        "Random streams",
        "Both seed Python, NumPy, PyTorch and the environment with the same seed, but draw from them in a "
        "different order, so runs with one seed are comparable in spirit, not identical step by step.",
    ),
)


def mapping_rows() -> list[dict[str, str]]:
    """:data:`SB3_MAPPING` as table rows: setting, in SB3, passed as, note."""
    return [
        {"setting": m.field, "in SB3": m.kind, "passed as": m.target or "—", "note": m.note}
        for m in SB3_MAPPING.values()
    ]


def sb3_dqn_kwargs(config: DQNConfig) -> dict[str, Any]:
    """Keyword arguments of ``stable_baselines3.DQN`` for ``config`` (all but ``env``).

    Built from :data:`SB3_MAPPING` (every field of kind "same" keeps its name),
    ``policy_kwargs`` from ``hidden_dims``, and :data:`SB3_FIXED_ARGUMENTS`.
    """
    kwargs: dict[str, Any] = {name: value for name, (value, _) in SB3_FIXED_ARGUMENTS.items()}
    for name, mapping in SB3_MAPPING.items():
        if mapping.kind == "same":
            kwargs[name] = getattr(config, name)
    kwargs["policy_kwargs"] = {"net_arch": list(config.hidden_dims), "activation_fn": nn.ReLU}
    return kwargs


@functools.cache
def sb3_defaults() -> dict[str, Any]:
    """SB3's defaults, read from the installed version so they are never stale.

    Keys: every ``DQN.__init__`` argument that has a default, plus
    ``net_arch`` and ``activation_fn`` (the Q-network's, from ``QNetwork``)
    and ``eval_freq`` / ``n_eval_episodes`` (``EvalCallback``'s).
    """
    defaults = {
        name: param.default
        for name, param in inspect.signature(DQN.__init__).parameters.items()
        if param.default is not inspect.Parameter.empty
    }
    # QNetwork fills in net_arch=None in its body, so build a tiny one and read it back.
    box = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
    probe = QNetwork(box, spaces.Discrete(2), features_extractor=FlattenExtractor(box), features_dim=1)
    defaults["net_arch"] = list(probe.net_arch)
    defaults["activation_fn"] = probe.activation_fn
    eval_signature = inspect.signature(EvalCallback.__init__).parameters
    defaults["eval_freq"] = eval_signature["eval_freq"].default
    defaults["n_eval_episodes"] = eval_signature["n_eval_episodes"].default
    return defaults


def format_value(value: Any) -> str:
    """A setting's value as it reads in a table: 0.001, 100,000, 1.0, [64, 64], none."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}" if not value.is_integer() else f"{value:.1f}"
    if isinstance(value, tuple):
        return str(list(value))
    return str(value)


def sb3_default_text(field_name: str) -> str:
    """SB3's default for a ``DQNConfig`` field, in words for a table."""
    defaults = sb3_defaults()
    mapping = SB3_MAPPING[field_name]
    if mapping.kind == "same":
        return format_value(defaults[field_name]) if field_name in defaults else "required"
    special = {
        "env_id": "required (env)",
        "total_timesteps": "required (learn)",
        "hidden_dims": f"{defaults['net_arch']} with {defaults['activation_fn'].__name__}",
        "loss": "Huber, fixed",
        "eval_freq": f"{format_value(defaults['eval_freq'])} (EvalCallback)",
        "eval_episodes": f"{format_value(defaults['n_eval_episodes'])} (EvalCallback n_eval_episodes)",
        "reward_threshold": "required (StopTrainingOnRewardThreshold)",
    }
    return special.get(field_name, "—")


class Sb3QNetwork(nn.Module):
    """SB3's online Q-network seen as a plain module: states ``(B, d)`` to Q-values ``(B, |A|)``.

    A single state ``(d,)`` gives ``(|A|,)``, like ``CustomQNetwork``, so any
    code written for the reference network (``evaluate``, ``snapshot_network``)
    runs on SB3's network unchanged.
    """

    def __init__(self, q_net: nn.Module) -> None:
        super().__init__()
        self.q_net = q_net

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 1:
            single: Tensor = self.q_net(x.unsqueeze(0)).squeeze(0)
            return single
        batch: Tensor = self.q_net(x)
        return batch


@dataclass
class Sb3Run(RunTiming):
    """What one SB3 training run leaves behind (names as in ``TrainingResult``).

    ``wall_time`` counts building the model and ``learn()``, evaluations
    included; ``eval_time`` is the part spent in greedy evaluations.
    ``stop_reason`` uses the reference's words: "finished: all N env steps",
    "solved: ...", "stopped by the callback at env step N".
    """

    model: DQN
    q_network: nn.Module
    episode_rewards: list[float] = field(default_factory=list)
    episode_lengths: list[int] = field(default_factory=list)
    episode_end_steps: list[int] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_means: list[float] = field(default_factory=list)
    total_steps: int = 0
    gradient_updates: int = 0
    wall_time: float = 0.0
    eval_time: float = 0.0
    stop_reason: str = ""
    stopped: bool = False
    config: DQNConfig | None = None


def reference_evaluate() -> EvaluateFn:
    """The reference greedy evaluation, ``solutions.train_dqn.evaluate``."""
    from solutions.train_dqn import evaluate

    return evaluate


class _RunCallback(BaseCallback):
    """Records finished episodes, reports progress, evaluates greedily and stops SB3 when asked."""

    def __init__(
        self, run: Sb3Run, config: DQNConfig, on_progress: ProgressCallback | None, evaluate: EvaluateFn
    ) -> None:
        super().__init__(verbose=0)
        self.run = run
        self.config = config
        self.on_progress = on_progress
        self.evaluate = evaluate

    def _on_step(self) -> bool:
        run, config = self.run, self.config
        steps = int(self.num_timesteps)
        keep_going = True
        dones = self.locals.get("dones", ())
        infos = self.locals.get("infos", ())
        for done, info in zip(dones, infos, strict=False):
            episode = info.get("episode") if done else None
            if episode is None:
                continue
            run.episode_rewards.append(float(episode["r"]))
            run.episode_lengths.append(int(episode["l"]))
            run.episode_end_steps.append(steps)
            if self.on_progress is not None:
                progress = TrainingProgress(
                    timestep=steps,
                    total_timesteps=config.total_timesteps,
                    episode=len(run.episode_rewards),
                    episode_reward=float(episode["r"]),
                    episode_length=int(episode["l"]),
                    epsilon=float(getattr(self.model, "exploration_rate", 0.0)),
                    last_eval_mean=run.eval_means[-1] if run.eval_means else None,
                )
                if self.on_progress(progress) is False and keep_going:
                    run.stop_reason = f"stopped by the callback at env step {steps}"
                    run.stopped = True
                    keep_going = False
        if keep_going and config.eval_freq > 0 and steps % config.eval_freq == 0:
            keep_going = self._evaluate(steps)
        return keep_going

    def _evaluate(self, steps: int) -> bool:
        run, config = self.run, self.config
        started = time.perf_counter()
        returns = self.evaluate(
            run.q_network, config.env_id, config.eval_episodes, config.seed + EVAL_SEED_OFFSET + steps
        )
        run.eval_time += time.perf_counter() - started
        mean = float(np.mean(returns))
        run.eval_steps.append(steps)
        run.eval_means.append(mean)
        if config.reward_threshold is not None and mean >= config.reward_threshold:
            run.stop_reason = f"solved: greedy mean {mean:.1f} >= {config.reward_threshold:g} at env step {steps}"
            return False
        return True


def make_sb3_model(config: DQNConfig) -> DQN:
    """SB3's ``DQN`` for ``config``, on a ``Monitor``-wrapped env made by :func:`playground.core.envs.make_env`."""
    env = Monitor(make_env(config.env_id))
    return DQN(env=env, **sb3_dqn_kwargs(config))


def train_sb3(
    config: DQNConfig,
    callback: ProgressCallback | None = None,
    *,
    evaluate: EvaluateFn | None = None,
) -> Sb3Run:
    """Train SB3's DQN with ``config`` and record it like the reference ``train_dqn``.

    ``callback`` sees a :class:`~playground.core.results.TrainingProgress` at every
    episode end and stops the run by returning ``False``. With ``eval_freq`` > 0,
    every ``eval_freq`` env steps the online network is evaluated greedily by
    ``evaluate`` (default: the reference's) on ``eval_episodes`` episodes seeded
    ``seed + EVAL_SEED_OFFSET + step``, and the run stops at the first mean that reaches
    ``reward_threshold``, exactly the reference's protocol.
    """
    evaluate_fn = evaluate if evaluate is not None else reference_evaluate()
    started = time.perf_counter()
    model = make_sb3_model(config)
    run = Sb3Run(model=model, q_network=Sb3QNetwork(model.q_net), config=config)
    hook = _RunCallback(run, config, callback, evaluate_fn)
    try:
        model.learn(total_timesteps=config.total_timesteps, callback=hook)
    finally:
        env = model.get_env()
        if env is not None:
            env.close()
    run.wall_time = time.perf_counter() - started
    run.total_steps = int(model.num_timesteps)
    run.gradient_updates = int(model._n_updates)
    if not run.stop_reason:
        run.stop_reason = f"finished: all {run.total_steps} env steps"
    return run


def warm_up_torch() -> None:
    """Pay PyTorch's one-time costs before anything is timed, so the implementation that runs first is not
    charged for them (the first optimizer imports ``torch._dynamo``, about 1.5 s; the first steps set up kernels)."""
    weight = torch.zeros(4, requires_grad=True)
    for fused in (True, None):
        try:
            optimizer = torch.optim.Adam([weight], lr=1e-3, fused=fused)
        except (RuntimeError, TypeError, ValueError):
            continue
        weight.grad = torch.ones_like(weight)
        optimizer.step()
