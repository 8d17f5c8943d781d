"""Exercise 2's figures: the ring of slots as it fills and wraps, and how often each slot is drawn."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from playground.core.inspections import BufferTrace

SLOTS_PER_ROW = 20


def slots_figure(trace: BufferTrace, pushes: int, highlight: Sequence[int] = (), title: str = "") -> Figure:
    """The ring of slots after ``pushes`` pushes: insertion numbers, age shading, write position, sampled slots."""
    capacity = trace.capacity
    per_row = min(capacity, SLOTS_PER_ROW)
    rows = math.ceil(capacity / per_row)
    fig, ax = plt.subplots(figsize=(max(6.0, per_row * 0.55), 0.9 + rows * 0.75))
    contents = trace.slot_contents(pushes)
    cmap = plt.get_cmap("Blues")
    write = pushes % capacity
    highlighted = set(highlight)
    for slot, t in enumerate(contents):
        x, y = slot % per_row, -(slot // per_row)
        face: Any = "white"
        if t is not None:
            age = (pushes - 1 - t) / max(1, capacity - 1)  # 0 newest .. 1 oldest
            face = cmap(0.85 - 0.6 * age)
        edge, width = ("tab:orange", 3.0) if slot in highlighted else ("0.5", 0.8)
        ax.add_patch(Rectangle((x, y), 0.94, 0.8, facecolor=face, edgecolor=edge, linewidth=width))
        if t is not None:
            dark = (pushes - 1 - t) < capacity * 0.5
            ax.text(x + 0.47, y + 0.4, f"#{t}", ha="center", va="center", fontsize=8, color="white" if dark else "k")
        ax.text(x + 0.47, y - 0.08, str(slot), ha="center", va="center", fontsize=6, color="0.45")
    wx, wy = write % per_row, -(write // per_row)
    ax.add_patch(Rectangle((wx - 0.03, wy - 0.03), 1.0, 0.86, fill=False, edgecolor="tab:red", linewidth=2.2))
    ax.annotate("next write", (wx + 0.47, wy + 0.83), ha="center", va="bottom", fontsize=7, color="tab:red")
    ax.set_xlim(-0.1, per_row + 0.05)
    ax.set_ylim(-(rows - 1) - 0.3, 1.25)
    ax.set_axis_off()
    reported = trace.lengths[pushes - 1] if 0 < pushes <= len(trace.lengths) else 0
    expected = trace.expected_length(pushes)
    note = "" if reported == expected else f" (expected {expected})"
    ax.set_title(title or f"after {pushes} pushes: len = {reported}{note} of {capacity} slots", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def slot_counts_figure(trace: BufferTrace, title: str = "") -> Figure:
    """How often each slot index came back over the batches, against the uniform expectation."""
    fig, ax = plt.subplots(figsize=(6.5, 2.6))
    capacity, stored = trace.capacity, trace.stored
    counts = trace.slot_counts if trace.slot_counts.size == capacity else np.zeros(capacity, dtype=np.int64)
    colors = ["tab:blue" if slot < stored else "tab:red" for slot in range(capacity)]
    ax.bar(np.arange(capacity), counts, color=colors, width=0.85)
    if trace.batches_drawn and stored:
        expected = trace.batches_drawn * trace.batch_size / stored
        ax.axhline(expected, color="k", linestyle="--", linewidth=1, label=f"uniform: {expected:.0f} per slot")
        # +-3 sd band of a slot's count under uniform sampling without replacement
        p = trace.batch_size / stored
        sd = math.sqrt(trace.batches_drawn * p * (1 - p))
        ax.axhspan(expected - 3 * sd, expected + 3 * sd, color="0.85", zorder=0, label="±3 sd")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)
    ax.set_xlim(-0.6, capacity - 0.4)
    ax.set_xticks(range(capacity))
    ax.set_xlabel("slot index returned", fontsize=8)
    ax.set_ylabel("times drawn", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title or f"{trace.batches_drawn} batches of {trace.batch_size}", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def recent_transitions(trace: BufferTrace, pushes: int, last: int = 6) -> pd.DataFrame:
    """The newest ``last`` transitions pushed so far, with the slot each was written to."""
    start = max(0, pushes - last)
    ts = list(range(start, pushes))
    return pd.DataFrame(
        {
            "push #": ts,
            "slot": [t % trace.capacity for t in ts],
            "state": [np.array2string(trace.states[t], precision=2, separator=", ") for t in ts],
            "action": [trace.actions[t] for t in ts],
            "reward": [trace.rewards[t] for t in ts],
            "done": [trace.dones[t] for t in ts],
        }
    )
