"""Interactive charts of a DQN run (Altair, drawn by Streamlit): readable on a phone, zoomable, with tooltips.

The diagnostics that are read as curves (TD loss, epsilon) use these; figures
with annotations (the Q-table heatmap, the reward curve with its evaluations)
stay matplotlib (:mod:`playground.views.training_plots`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import altair as alt
import numpy as np
import pandas as pd

from playground.views.training_plots import moving_average

MAX_POINTS = 600  # per run: enough for the eye, light for the browser


def series_frame(runs: Mapping[str, tuple[Sequence[int], Sequence[float]]], window: int = 1) -> pd.DataFrame:
    """Long form (run, env step, value), smoothed over ``window`` points and thinned to :data:`MAX_POINTS`."""
    frames = []
    for label, (steps, values) in runs.items():
        if len(values) == 0:
            continue
        ys = moving_average(values, window) if window > 1 else np.asarray(values, dtype=np.float64)
        xs = np.asarray(steps)[: len(ys)]
        stride = max(1, len(ys) // MAX_POINTS)
        frames.append(pd.DataFrame({"run": label, "env step": xs[::stride], "value": ys[::stride]}))
    if not frames:
        return pd.DataFrame({"run": [], "env step": [], "value": []})
    return pd.concat(frames, ignore_index=True)


def series_chart(
    runs: Mapping[str, tuple[Sequence[int], Sequence[float]]], title: str, *, window: int = 1, log_y: bool = False
) -> alt.Chart:
    """One line per run of (env step, value): TD loss, epsilon."""
    frame = series_frame(runs, window)
    if log_y:
        frame = frame[frame["value"] > 0]
    scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    chart = (
        alt.Chart(frame, title=title, height=260)
        .mark_line()
        .encode(
            x=alt.X("env step:Q", title="env step"),
            y=alt.Y("value:Q", title=title, scale=scale),
            color=alt.Color("run:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["run:N", "env step:Q", alt.Tooltip("value:Q", format=".4g")],
        )
        .interactive()
    )
    return cast(alt.Chart, chart)
