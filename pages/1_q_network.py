"""Exercise 1 page: build a Q-network, see its layers and parameter counts, run it on a real observation."""

from __future__ import annotations

import streamlit as st

from playground.core.envs import LINEWORLD_ID
from playground.core.facts import IMPLS, Impl
from playground.core.inspections import NetworkReport
from playground.tasks.network_view import parse_widths, reference_report
from playground.ui.exercise_page import exercise_page, run_beside_reference
from playground.ui.router import ensure_router
from playground.ui.session import Q_NETWORK_REPORTS_KEY
from playground.ui.widgets import impl_picker, keep_widgets
from playground.views.network_tables import (
    architecture_text,
    layer_table,
    parameter_formula,
    q_values_chart,
    q_values_frame,
    report_problems,
)

ensure_router()
keep_widgets(("qn_env", "qn_hidden", "qn_seed", "qn_obs_steps", "qn_impl"))


EXERCISE = "q_network"
LABELS = {"exercises": "Your network (exercises/)", "solutions": "Reference (solutions/)"}

TASK = """
The Q-network is the function approximator of DQN: one forward pass maps a state $s$ to a vector of Q-values,
one per action, $Q_\\theta(s, \\cdot) \\in \\mathbb{R}^{|\\mathcal{A}|}$. The greedy action is then just an
`argmax`, and the TD target $r + \\gamma \\max_{a'} Q_{\\theta^-}(s', a')$ needs one pass over the next states.

Fill in `CustomQNetwork` in the editor below (`q_network.py`):

* `__init__(state_dim, action_dim, hidden_dims)`: one `nn.Linear` per hidden width
  ($d_s \\to h_1 \\to \\dots \\to h_k$) with a ReLU after each, then a last `nn.Linear(h_k, action_dim)`.
  Keep the layers in an `nn.Sequential` or `nn.ModuleList`. Raise `ValueError` for sizes below 1.
* `forward(x)`: `(B, state_dim)` in, `(B, action_dim)` out. **No activation on the output**: Q-values are
  expected returns and can be any real number (negative too), not probabilities.

Each layer has $h_{i-1} \\cdot h_i$ weights and $h_i$ biases, so the network has
$\\sum_i (h_{i-1} + 1)\\, h_i$ parameters.
"""


def _settings() -> tuple[str, tuple[int, ...], int, int] | None:
    st.subheader("Build a network")
    left, middle, right = st.columns([2, 2, 1])
    env_id = left.selectbox("Environment", ["CartPole-v1", LINEWORLD_ID], key="qn_env")
    text = middle.text_input(
        "Hidden widths",
        value="64, 64",
        key="qn_hidden",
        help="Comma-separated layer widths, e.g. `64, 64` or `128`. Leave empty for no hidden layer.",
    )
    seed = int(right.number_input("Seed", min_value=0, max_value=10_000, value=0, step=1, key="qn_seed"))
    obs_steps = st.slider(
        "Observation: the state after this many random steps from reset",
        min_value=0,
        max_value=40,
        value=5,
        key="qn_obs_steps",
    )
    try:
        hidden = parse_widths(text)
    except ValueError as err:
        st.error(f"Hidden widths: {err}")
        return None
    return str(env_id), hidden, seed, int(obs_steps)


def _run(impl: Impl, env_id: str, hidden: tuple[int, ...], seed: int, obs_steps: int) -> None:
    run_beside_reference(
        Q_NETWORK_REPORTS_KEY,
        impl,
        lambda: reference_report(env_id, hidden, seed, obs_steps),
        "playground.tasks.network_view:describe_network",
        result_type=NetworkReport,
        label="Building your network in a separate process",
        timeout=30.0,
        env_id=env_id,
        hidden_dims=list(hidden),
        seed=seed,
        obs_steps=obs_steps,
    )


def _show_report(label: str, value: NetworkReport | str) -> None:
    st.markdown(f"**{label}**")
    if isinstance(value, str):
        st.error(value)
        return
    st.dataframe(layer_table(value), hide_index=True, width="stretch")
    st.markdown(
        f"{value.total_parameters:,} trainable parameters "
        f"({'matches' if value.total_parameters == value.expected_parameters else 'the formula gives'} "
        f"{value.expected_parameters:,})"
    )
    for problem in report_problems(value):
        st.warning(problem)
    greedy = value.greedy_action
    if greedy is not None:
        values = ", ".join(f"{v:+.3f}" for v in value.q_values)
        st.markdown(f"Q-values: `[{values}]` → greedy action **{value.action_names[greedy]}**")


def _show_results() -> None:
    reports: dict[str, NetworkReport | str] = st.session_state.get(Q_NETWORK_REPORTS_KEY, {})
    if not reports:
        st.info("Press **Build and run** to see the layers and the Q-values.")
        return
    reference = reports.get("solutions")
    if isinstance(reference, NetworkReport):
        st.markdown(
            f"Architecture `{architecture_text(reference.state_dim, reference.action_dim, reference.hidden_dims)}`"
            f" on `{reference.env_id}`. Parameters:"
        )
        st.latex(parameter_formula(reference.state_dim, reference.action_dim, reference.hidden_dims))
    shown = [impl for impl in IMPLS if impl in reports]
    for column, impl in zip(st.columns(len(shown)), shown, strict=True):
        with column:
            _show_report(LABELS[impl], reports[impl])
    usable = {LABELS[impl]: r for impl, r in reports.items() if isinstance(r, NetworkReport)}
    frame = q_values_frame(usable)
    if not frame.empty:
        first = next(iter(usable.values()))
        st.markdown(f"**Q-values on the observation** `{[round(float(x), 3) for x in first.observation]}`")
        st.altair_chart(q_values_chart(frame), width="stretch")
        st.caption(
            "Untrained networks give small, arbitrary Q-values: training is what makes them meaningful. Your "
            "numbers match the reference only if your layers are created in the same order with the same seed."
        )


def demo() -> None:
    settings = _settings()
    impl = impl_picker("Run", key="qn_impl", default="exercises")
    if st.button("Build and run", key="qn_run", type="primary", disabled=settings is None) and settings:
        _run(impl, *settings)
    _show_results()


exercise_page(EXERCISE, TASK, demo)
