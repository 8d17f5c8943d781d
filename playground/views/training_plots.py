"""Figures of a DQN run (matplotlib, no pyplot state, so they are safe in a Streamlit server).

Each function takes plain data (lists, arrays, :class:`~playground.tasks.training_task.TrainingReport`
fields) and returns a :class:`matplotlib.figure.Figure`; pages only lay them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import ArrayLike

from playground.core.curves import moving_average as moving_average
from playground.core.facts import threshold_text

COLORS: tuple[str, ...] = ("tab:blue", "tab:orange", "tab:green", "tab:red")


def _figure(height: float = 3.2) -> Figure:
    return Figure(figsize=(6, height), layout="constrained")  # narrow: text stays readable when scaled to a phone


def reward_figure(
    runs: Mapping[str, Sequence[float]],
    window: int = 20,
    *,
    threshold: float | None = None,
    x_values: Mapping[str, Sequence[int]] | None = None,
    evaluations: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
    title: str = "Return per episode",
) -> Figure:
    """Episode returns (faint) and their moving average (bold), one colour per run.

    ``x_values`` (optional, per run) puts env steps instead of episode numbers on the x-axis.
    ``evaluations`` (optional, per run: env steps and greedy mean returns) adds the greedy
    evaluations made during training as dots joined by a dashed line (needs ``x_values``).
    """
    figure = _figure()
    ax = figure.add_subplot()
    for (label, rewards), color in zip(runs.items(), COLORS * 4, strict=False):
        if x_values is not None and label in x_values:
            xs = np.asarray(x_values[label])
        else:
            xs = np.arange(1, len(rewards) + 1)
        if len(rewards) == 0:
            continue
        ax.plot(xs, rewards, color=color, alpha=0.25, linewidth=1)
        ax.plot(xs, moving_average(rewards, window), color=color, linewidth=2, label=f"{label} (mean of {window})")
        steps, means = (evaluations or {}).get(label, ((), ()))
        if len(steps) and x_values is not None:
            ax.plot(
                np.asarray(steps),
                np.asarray(means),
                color=color,
                linestyle=":",
                marker="o",
                markersize=4,
                linewidth=1.2,
                label=f"{label}: greedy evaluations",
            )
    if threshold is not None:
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"solved ({threshold_text(threshold)})")
    ax.set_xlabel("env step" if x_values is not None else "episode")
    ax.set_ylabel("return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")
    return figure


def series_figure(
    runs: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    *,
    ylabel: str,
    title: str,
    window: int = 1,
    log_y: bool = False,
) -> Figure:
    """One line per run of (env step, value) pairs, smoothed over ``window`` points (TD loss, epsilon)."""
    figure = _figure(2.8)
    ax = figure.add_subplot()
    for (label, (steps, values)), color in zip(runs.items(), COLORS * 4, strict=False):
        if len(values) == 0:
            continue
        ys = moving_average(values, window) if window > 1 else np.asarray(values, dtype=np.float64)
        ax.plot(np.asarray(steps), ys, color=color, linewidth=1.5, label=label)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("env step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")
    return figure


def probe_figure(
    steps: Sequence[int], q_values: Sequence[Sequence[float]], action_names: Sequence[str], *, title: str = ""
) -> Figure:
    """$Q_\\theta(s_0, a)$ of the probe state over training, one line per action."""
    figure = _figure(2.8)
    ax = figure.add_subplot()
    table = np.asarray(q_values, dtype=np.float64).reshape(len(steps), -1) if len(steps) else np.zeros((0, 0))
    for action in range(table.shape[1]):
        name = action_names[action] if action < len(action_names) else f"action {action}"
        ax.plot(np.asarray(steps), table[:, action], linewidth=1.5, label=f"Q(s0, {name})")
    ax.set_xlabel("env step")
    ax.set_ylabel("Q-value")
    ax.set_title(title or "Q-values of the probe state s0")
    ax.grid(alpha=0.3)
    if table.shape[1]:
        ax.legend(loc="best", fontsize="small")
    return figure


def q_table_figure(q_table: ArrayLike, action_names: Sequence[str], *, title: str = "") -> Figure:
    """Heatmap of a tabular $Q(s, a)$ (rows: actions, columns: cells), values written in each cell.

    The greedy action of each cell is outlined, so the learned policy reads left to right.
    """
    table = np.asarray(q_table, dtype=np.float64)
    n_states, n_actions = table.shape
    figure = Figure(figsize=(max(4.0, 0.8 * n_states + 1.5), 0.7 * n_actions + 1.4), layout="constrained")
    ax = figure.add_subplot()
    image = ax.imshow(table.T, cmap="viridis", aspect="auto")
    figure.colorbar(image, ax=ax, label="Q(s, a)")
    best = table.argmax(axis=1)
    middle = float(np.nanmean(table)) if table.size else 0.0
    for s in range(n_states):
        for a in range(n_actions):
            color = "black" if table[s, a] > middle else "white"
            ax.text(s, a, f"{table[s, a]:.2f}", ha="center", va="center", fontsize=8, color=color)
        ax.add_patch(_outline(s, int(best[s])))
    ax.set_xticks(range(n_states), [str(s) for s in range(n_states)])
    ax.set_yticks(range(n_actions), [action_names[a] if a < len(action_names) else str(a) for a in range(n_actions)])
    ax.set_xlabel("cell (state)")
    ax.set_title(title or "Q(s, a); greedy action outlined")
    return figure


def _outline(x: int, y: int) -> Rectangle:
    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2)
