"""The training page's task: one DQN run in the sandbox, reported as plain data.

:func:`training_task` runs in the child process (:mod:`playground.sandbox.child`),
because the loop, the network or the buffer may be the learner's code. It
streams :class:`TrainingUpdate` messages (at most a few per second) while the
agent trains and honours the Stop button, then measures the trained network
(greedy evaluation, probe and LineWorld Q-values, a GIF of one greedy episode,
a weight snapshot) and returns a :class:`TrainingReport`: lists, arrays, bytes
and playground dataclasses only, never a torch module or a learner's object.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from playground.core.config import DQNConfig
from playground.core.envs import LINEWORLD_ID, env_dims
from playground.core.facts import FINAL_EVAL_SEED_OFFSET, IMPL_SHORT, impl_module, require_impl, solved_return
from playground.core.monitor import train_monitored
from playground.core.results import RunRecord, TrainingProgress, TrainingResult
from playground.sandbox.child import TaskContext
from playground.tasks.learner_figure import figure_png
from playground.tasks.snapshot import NetworkSnapshot, snapshot_network

COMPONENTS: tuple[str, ...] = ("loop", "network", "buffer")
EVAL_EPISODES = 20
EMIT_INTERVAL = 0.2  # seconds between progress messages: at most 5 per second


@dataclass(frozen=True)
class TrainingUpdate:
    """A progress message: the episodes finished since the previous update, and where the run is."""

    timestep: int
    total_timesteps: int
    episodes_done: int
    new_rewards: list[float]
    epsilon: float
    last_eval_mean: float | None = None
    phase: str = "training"
    new_end_steps: list[int] = field(default_factory=list)  # the env step each of ``new_rewards``' episodes ended at

    @property
    def fraction(self) -> float:
        return min(1.0, self.timestep / max(1, self.total_timesteps))


@dataclass(frozen=True)
class TrainingReport:
    """Everything the page shows about one finished (or stopped) run.

    ``run`` is the run's :class:`~playground.core.results.RunRecord` (its curves,
    timing and the final greedy evaluation); the rest is what was measured on
    the trained network afterwards, and the settings it ran with.
    """

    run: RunRecord
    impls: dict[str, str]
    config: dict[str, Any]
    stopped: bool
    q_table: NDArray[np.float64] | None = None
    gif: bytes = b""
    gif_return: float = 0.0
    snapshot: NetworkSnapshot | None = None
    notes: list[str] = field(default_factory=list)
    # The run drawn by the loop's own ``plot_rewards`` (the learner's, or the reference's), or why not.
    reward_plot: bytes | None = None
    reward_plot_error: str = ""


def run_label(impls: dict[str, str]) -> str:
    """'reference' when every component is the reference, 'mine' when all are the learner's, else a mix."""
    values = set(impls.values())
    if values == {"solutions"}:
        return "reference"
    if values == {"exercises"}:
        return "mine"
    parts = [f"{name}: {IMPL_SHORT[require_impl(impl)]}" for name, impl in impls.items()]
    return "mixed (" + ", ".join(parts) + ")"


def _component(impl: str, module: str, name: str) -> Any:
    return getattr(impl_module(impl, module), name)


def episode_csv(report: TrainingReport) -> str:
    """The episode log as CSV: episode, end step, length, return."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["episode", "end_step", "length", "return"])
    rows = zip(report.run.episode_end_steps, report.run.episode_lengths, report.run.episode_rewards, strict=False)
    for index, (step, length, reward) in enumerate(rows, start=1):
        writer.writerow([index, step, length, f"{reward:.6g}"])
    return out.getvalue()


def lineworld_q_table(q_network: nn.Module, size: int) -> NDArray[np.float64]:
    """$Q(s, a)$ of every one-hot LineWorld state, shape ``(size, actions)``."""
    with torch.no_grad():
        table = q_network(torch.eye(size, dtype=torch.float32))
    return np.asarray(table.detach().cpu().numpy(), dtype=np.float64).reshape(size, -1)


def _measure(
    result: TrainingResult, config: DQNConfig, ctx: TaskContext, total: int
) -> tuple[list[float], NDArray[np.float64] | None, bytes, float, NetworkSnapshot | None, list[str]]:
    """Greedy evaluation, Q-table, GIF and snapshot of the trained network (each optional on failure)."""
    from playground.tasks.rollout import gif_bytes, greedy_rollout
    from solutions.train_dqn import evaluate

    notes: list[str] = []
    network = result.q_network
    network.eval()
    ctx.emit(TrainingUpdate(result.total_steps, total, len(result.episode_rewards), [], 0.0, None, "evaluating"))
    returns = evaluate(network, config.env_id, EVAL_EPISODES, seed=config.seed + FINAL_EVAL_SEED_OFFSET)
    q_table = None
    if config.env_id == LINEWORLD_ID:
        q_table = lineworld_q_table(network, env_dims(config.env_id)[0])
    ctx.emit(TrainingUpdate(result.total_steps, total, len(result.episode_rewards), [], 0.0, None, "recording"))
    gif, gif_return = b"", 0.0
    try:
        # 500 steps make 250 frames (every second step), as many as the GIF keeps at 10 frames per second.
        rollout = greedy_rollout(network, config.env_id, seed=config.seed + FINAL_EVAL_SEED_OFFSET, frame_every=2)
        gif, gif_return = gif_bytes(rollout.frames, fps=10.0), rollout.total_reward
    except Exception as err:  # noqa: BLE001 - a missing renderer must not lose the run
        notes.append(f"no animation: {type(err).__name__}: {err}")
    return returns, q_table, gif, gif_return, _snapshot(network, notes), notes


def _snapshot(network: nn.Module, notes: list[str]) -> NetworkSnapshot | None:
    try:
        return snapshot_network(network)
    except ValueError as err:
        notes.append(f"the network cannot be offered to other pages: {err}")
        return None


def training_task(ctx: TaskContext, config: dict[str, Any], loop: str, network: str, buffer: str) -> TrainingReport:
    """Train with the chosen implementation of each component; stream progress; measure the result.

    ``loop``, ``network`` and ``buffer`` are "exercises" (the learner's) or
    "solutions" (the reference).
    """
    cfg = DQNConfig.from_dict(config)
    impls = {"loop": loop, "network": network, "buffer": buffer}
    train_dqn = _component(loop, "train_dqn", "train_dqn")
    q_network_cls = _component(network, "q_network", "CustomQNetwork")
    buffer_cls = _component(buffer, "replay_buffer", "ReplayBufferWithIndices")
    pending: list[float] = []
    pending_steps: list[int] = []
    last_emit = time.monotonic()

    def callback(progress: TrainingProgress) -> bool:
        nonlocal last_emit
        pending.append(float(progress.episode_reward))
        pending_steps.append(int(progress.timestep))
        now = time.monotonic()
        if now - last_emit >= EMIT_INTERVAL:
            ctx.emit(
                TrainingUpdate(
                    progress.timestep,
                    progress.total_timesteps,
                    progress.episode,
                    list(pending),
                    float(progress.epsilon),
                    progress.last_eval_mean,
                    new_end_steps=list(pending_steps),
                )
            )
            pending.clear()
            pending_steps.clear()
            last_emit = now
        return not ctx.should_stop()

    # The loop fills the network, the episodes and the losses; the monitor measures the rest around it.
    result = train_monitored(
        train_dqn,
        cfg,
        q_network_cls=q_network_cls,
        buffer_cls=buffer_cls,
        callback=callback,
        evaluate=_component(loop, "train_dqn", "evaluate"),
        should_stop=ctx.should_stop,
    )
    total = cfg.total_timesteps
    ctx.emit(
        TrainingUpdate(
            result.total_steps,
            total,
            len(result.episode_rewards),
            list(pending),
            0.0,
            new_end_steps=list(pending_steps),
        )
    )
    returns, q_table, gif, gif_return, snapshot, notes = _measure(result, cfg, ctx, total)
    reward_plot, reward_plot_error = figure_png(
        lambda: _component(loop, "train_dqn", "plot_rewards")(
            result.episode_rewards, 20, threshold=solved_return(cfg.env_id)
        ),
        "plot_rewards",
    )
    return TrainingReport(
        run=RunRecord.of(result, cfg, label=run_label(impls), greedy_returns=returns),
        impls=impls,
        config=cfg.to_dict(),
        stopped=ctx.should_stop(),
        q_table=q_table,
        gif=gif,
        gif_return=float(gif_return),
        snapshot=snapshot,
        notes=notes,
        reward_plot=reward_plot,
        reward_plot_error=reward_plot_error,
    )
