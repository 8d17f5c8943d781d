"""Exercise 2 page: fill a replay buffer step by step, watch it wrap around, sample it, count the slots drawn."""

from __future__ import annotations

from typing import TypedDict

import matplotlib.pyplot as plt
import streamlit as st

from playground.core.envs import LINEWORLD_ID
from playground.core.facts import IMPLS, Impl
from playground.core.inspections import BufferTrace
from playground.tasks.buffer_view import reference_trace
from playground.ui.exercise_page import exercise_page, run_beside_reference
from playground.ui.router import ensure_router
from playground.ui.session import BUFFER_TRACES_KEY
from playground.ui.widgets import impl_picker, keep_widgets
from playground.views.buffer_figures import recent_transitions, slot_counts_figure, slots_figure

ensure_router()
keep_widgets(("rb_env", "rb_capacity", "rb_steps", "rb_batch", "rb_batches", "rb_seed", "rb_impl"))


EXERCISE = "replay_buffer"
LABELS = {"exercises": "Your buffer (exercises/)", "solutions": "Reference (solutions/)"}

TASK = """
Consecutive transitions of one episode are strongly correlated, and a network trained on them in order forgets
what it learned earlier. **Experience replay** stores transitions $(s, a, r, s', d)$ in a buffer $\\mathcal{D}$
and trains on minibatches drawn uniformly from it, $(s_j, a_j, r_j, s'_j, d_j) \\sim U(\\mathcal{D})$, which
breaks the correlation and reuses each transition many times.

Fill in `ReplayBufferWithIndices` in the editor below (`replay_buffer.py`):

* a **ring buffer** of `capacity` slots: the $n$-th push (from 0) writes slot $n \\bmod C$, so once full every
  push overwrites the **oldest** transition; `len(buffer)` grows to `capacity` and stays there;
* `sample_indices(batch_size)` draws `batch_size` **distinct** stored transitions uniformly and returns
  `(states, actions, rewards, next_states, dones, indices)`: five NumPy arrays with the batch first, and the
  list of the **slots** they came from; more than `len(buffer)` raises `ValueError`;
* `capacity <= 0` raises `ValueError`.
"""


class Settings(TypedDict):
    env_id: str
    capacity: int
    steps: int
    batch_size: int
    n_batches: int
    seed: int


def _settings() -> Settings:
    st.subheader("Fill a buffer from a random policy")
    row1 = st.columns(3)
    env_id = row1[0].selectbox("Environment", [LINEWORLD_ID, "CartPole-v1"], key="rb_env")
    capacity = row1[1].number_input("Capacity", min_value=2, max_value=100, value=12, step=1, key="rb_capacity")
    steps = row1[2].number_input(
        "Pushes", min_value=1, max_value=300, value=30, step=1, key="rb_steps", help="environment steps to store"
    )
    row2 = st.columns(3)
    batch_size = row2[0].number_input("Batch size", min_value=1, max_value=32, value=4, step=1, key="rb_batch")
    n_batches = row2[1].number_input(
        "Batches for the histogram", min_value=100, max_value=5000, value=2000, step=100, key="rb_batches"
    )
    seed = row2[2].number_input("Seed", min_value=0, max_value=10_000, value=0, step=1, key="rb_seed")
    return Settings(
        env_id=str(env_id),
        capacity=int(capacity),
        steps=int(steps),
        batch_size=int(batch_size),
        n_batches=int(n_batches),
        seed=int(seed),
    )


def _run(impl: Impl, settings: Settings) -> None:
    run_beside_reference(
        BUFFER_TRACES_KEY,
        impl,
        lambda: reference_trace(**settings),
        "playground.tasks.buffer_view:buffer_trace",
        result_type=BufferTrace,
        label="Running your buffer in a separate process",
        timeout=60.0,
        **settings,
    )


def _show_slots(traces: dict[str, BufferTrace | str], shown: list[str]) -> None:
    steps = max((t.steps for t in traces.values() if isinstance(t, BufferTrace)), default=0)
    if not steps:
        return
    st.markdown("**The slots.** Slide to replay the pushes one by one: watch the write position wrap around.")
    pushes = st.slider("Pushes so far", min_value=1, max_value=steps, value=steps, key="rb_pushes")
    if pushes == steps:
        st.caption("Orange: the batch sampled after the last push. Red box: the slot the next push overwrites.")
    for impl in shown:  # one above the other: a row of slots needs the full width
        trace = traces[impl]
        with st.container(border=True):
            st.markdown(f"**{LABELS[impl]}**")
            if isinstance(trace, str):
                st.error(trace)
                continue
            shown_pushes = min(pushes, trace.steps)
            highlight = trace.batch_indices if shown_pushes == trace.steps else []
            fig = slots_figure(trace, shown_pushes, highlight)
            st.pyplot(fig, clear_figure=True)
            plt.close(fig)
            if highlight:
                marks = ", ".join(
                    f"{i}{'' if ok else ' (row differs!)'}"
                    for i, ok in zip(trace.batch_indices, trace.batch_rows_match, strict=True)
                )
                st.markdown(f"Sampled slots: {marks}")
            with st.expander("Newest transitions pushed"):
                st.dataframe(recent_transitions(trace, shown_pushes), hide_index=True)


def _show_histograms(traces: dict[str, BufferTrace | str], shown: list[str]) -> None:
    st.markdown(
        "**How often each slot is drawn.** Uniform sampling draws each stored transition with probability "
        "$B/|\\mathcal{D}|$ per batch, so the bars should scatter around the dashed line (grey: ±3 standard "
        "deviations). Red bars would be empty slots."
    )
    for column, impl in zip(st.columns(len(shown)), shown, strict=True):
        trace = traces[impl]
        with column:
            if isinstance(trace, str):
                st.info(f"{LABELS[impl]}: no histogram, the run failed (the error is shown above).")
                continue
            fig = slot_counts_figure(
                trace, title=f"{LABELS[impl]}: {trace.batches_drawn} batches of {trace.batch_size}"
            )
            st.pyplot(fig, clear_figure=True)
            plt.close(fig)
            problems = trace.problems()
            for problem in problems:
                st.warning(problem)
            if not problems:
                st.success("len, slots, batches and indices all behave as the contract says.")


def demo() -> None:
    settings = _settings()
    impl = impl_picker("Run", key="rb_impl", default="exercises")
    if st.button("Fill and sample", key="rb_run", type="primary"):
        _run(impl, settings)
    traces: dict[str, BufferTrace | str] = st.session_state.get(BUFFER_TRACES_KEY, {})
    shown: list[str] = [impl for impl in IMPLS if impl in traces]
    if shown:
        _show_slots(traces, shown)
        _show_histograms(traces, shown)
    else:
        st.info("Press **Fill and sample** to push transitions into the buffer and sample from it.")


exercise_page(EXERCISE, TASK, demo)
