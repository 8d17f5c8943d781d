"""Exercise 1's tables and chart: a network's layers, its parameter formula and its Q-values beside the reference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from playground.core.inspections import NetworkReport, expected_parameters, layer_shapes


def parameter_formula(state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> str:
    """The parameter count written out as a LaTeX sum, e.g. ``(4+1)\\cdot 64 + (64+1)\\cdot 2 = 450``."""
    terms = " + ".join(f"({a}+1)\\cdot {b}" for a, b in layer_shapes(state_dim, action_dim, hidden_dims))
    total = f"{expected_parameters(state_dim, action_dim, hidden_dims):,}".replace(",", "{,}")
    return f"{terms} = {total}"


def architecture_text(state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> str:
    return " → ".join(str(width) for width in [state_dim, *hidden_dims, action_dim])


def _shape_text(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "not used"
    return "(B, " + ", ".join(str(d) for d in shape) + ")" if shape else "(B,)"


def layer_table(report: NetworkReport) -> pd.DataFrame:
    """One row per layer that ran, in order (plus registered layers that never ran)."""
    return pd.DataFrame(
        {
            "layer": [row.name for row in report.layers],
            "type": [row.kind for row in report.layers],
            "input": [_shape_text(row.input_shape) for row in report.layers],
            "output": [_shape_text(row.output_shape) for row in report.layers],
            "parameters": [row.parameters for row in report.layers],
        }
    )


def q_values_frame(reports: Mapping[str, NetworkReport]) -> pd.DataFrame:
    """Q-values per action (rows) for each labelled report (columns) that produced them."""
    usable = {label: r for label, r in reports.items() if r.q_values.size == r.action_dim and not r.error}
    if not usable:
        return pd.DataFrame()
    first = next(iter(usable.values()))
    data = {label: [float(v) for v in r.q_values] for label, r in usable.items() if r.action_dim == first.action_dim}
    return pd.DataFrame(data, index=pd.Index(list(first.action_names), name="action"))


def report_problems(report: NetworkReport) -> list[str]:
    """Plain-language differences between a report and what the contract asks for."""
    problems: list[str] = []
    if report.total_parameters != report.expected_parameters:
        problems.append(
            f"{report.total_parameters:,} parameters registered, the formula gives {report.expected_parameters:,}"
        )
    linears = [row for row in report.layers if row.kind == "Linear"]
    if len(linears) != len(report.hidden_dims) + 1:
        problems.append(f"{len(linears)} Linear layers ran, expected {len(report.hidden_dims) + 1}")
    if any(row.input_shape is None for row in report.layers if row.parameters):
        problems.append("some layers with parameters never ran in forward")
    if report.error:
        problems.append(f"forward failed: {report.error}")
    elif report.q_values.size != report.action_dim:
        problems.append(f"forward returned {report.q_values.size} values for one state, expected {report.action_dim}")
    return problems


def q_values_chart(frame: pd.DataFrame) -> Any:
    """Grouped bars of :func:`q_values_frame`: one group per action (labels level), one bar per implementation."""
    import altair as alt

    long = frame.reset_index().melt(id_vars="action", var_name="implementation", value_name="Q-value")
    return (
        alt.Chart(long, height=240)
        .mark_bar()
        .encode(
            x=alt.X("action:N", axis=alt.Axis(labelAngle=0), title="action"),
            xOffset="implementation:N",
            y=alt.Y("Q-value:Q"),
            color=alt.Color("implementation:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["action:N", "implementation:N", alt.Tooltip("Q-value:Q", format="+.3f")],
        )
    )
