"""Exercise 5 page: how network size changes learning. Four sizes, several seeds, mean curves with bands."""

from __future__ import annotations

from typing import Any

import streamlit as st

from playground.core.facts import IMPLS
from playground.core.results import ExperimentProgress
from playground.sandbox.runner import TaskOutcome
from playground.tasks.experiment import (
    EXPERIMENT_SETTINGS,
    ExperimentData,
    display_summary,
    estimate_text,
    read_summary,
)
from playground.ui.router import ensure_router
from playground.ui.session import SIZES_ERRORS_KEY, SIZES_RESULTS_KEY
from playground.ui.widgets import check_panel, exercise_header, impl_picker, run_task_live, show_source
from solutions.network_sizes import NETWORK_SIZES, plot_learning_curves, summarize_experiment

ensure_router()

IMPL_TITLES = {"exercises": "Mine (exercises/)", "solutions": "Reference (solutions/)"}

TASK = """
The lesson's project: does a bigger Q-network learn CartPole faster? Train the same DQN with hidden layers
**1x64, 1x256, 2x64 and 2x256** and compare the learning curves. One run per size mostly measures luck (two seeds
of one network can differ more than two networks do), so train every size on several seeds and draw, per size,
the mean curve over seeds with a band across them:

$$\\bar r(t) = \\frac{1}{n}\\sum_{i=1}^{n} r_i(t), \\qquad \\text{band: } \\min_i r_i(t) \\text{ to } \\max_i r_i(t)$$

where $r_i(t)$ is seed $i$'s moving-average return at env step $t$. A gap between two sizes means something only
when it is wider than the bands. In the editor below (`network_sizes.py`) write
`run_network_size_experiment(base_config, sizes, seeds, callback)` (one `train_dqn` run per size and seed, returned
as one row per episode: `size, seed, episode, timestep, reward`) and `plot_learning_curves(df, window)`.
"""

st.session_state.setdefault(SIZES_RESULTS_KEY, {})
st.session_state.setdefault(SIZES_ERRORS_KEY, {})
exercise_header("network_sizes", TASK)
check_panel("network_sizes")
show_source("network_sizes")


# --- Settings and the run ------------------------------------------------------------------

st.subheader("Run the experiment")
setting_label = st.radio("Setting", list(EXPERIMENT_SETTINGS), horizontal=True, key="ns_setting")
setting = EXPERIMENT_SETTINGS[str(setting_label)]
st.caption(setting.note)
left, middle, right = st.columns(3)
sizes = left.multiselect("Sizes", list(NETWORK_SIZES), default=list(NETWORK_SIZES), key="ns_sizes")
seed_count = int(middle.number_input("Seeds per size", min_value=1, max_value=5, value=3, step=1, key="ns_seeds"))
budget = int(
    right.number_input(
        "Env steps per run (budget)",
        min_value=setting.min_steps,
        max_value=setting.max_steps,
        value=setting.config.total_timesteps,
        step=setting.step,
        key=f"ns_budget_{setting.label}",
    )
)
window = int(st.slider("Smoothing window (episodes)", 1, 50, setting.window, key=f"ns_window_{setting.label}"))
impl = impl_picker("Implementation", key="ns_impl")
config = setting.config.replace(total_timesteps=budget)
runs_total = len(sizes) * seed_count
st.caption(estimate_text(config, runs_total) if runs_total else "Pick at least one size.")


def run_experiment() -> None:
    """The experiment in the sandbox, with a progress bar; the result goes to session state."""
    bar = st.progress(0.0, text="starting ...")
    fractions: dict[int, float] = {}

    def on_progress(message: Any) -> None:
        if not isinstance(message, ExperimentProgress):
            return
        fractions[message.run_index] = message.run_fraction
        overall = sum(fractions.values()) / max(message.runs_total, 1)
        where = f"run {message.run_index + 1} of {message.runs_total}: {message.size}, seed {message.seed}"
        if message.training is not None:
            where += (
                f", step {message.training.timestep:,} of {message.training.total_timesteps:,}, "
                f"return {message.training.episode_reward:g}"
            )
        bar.progress(min(overall, 1.0), text=f"{message.runs_done} of {message.runs_total} runs done · {where}")

    def on_finish(outcome: TaskOutcome) -> None:
        errors: dict[str, str] = st.session_state[SIZES_ERRORS_KEY]
        errors.pop(impl, None)
        if isinstance(outcome.value, ExperimentData):
            st.session_state[SIZES_RESULTS_KEY][impl] = outcome.value
        else:
            errors[impl] = outcome.error or "the experiment returned no result"

    run_task_live(
        "playground.tasks.experiment_task:run_experiment_task",
        label=f"{IMPL_TITLES[impl]}: {len(sizes)} sizes x {seed_count} seeds on {config.env_id}",
        timeout=3600.0,
        on_progress=on_progress,
        on_finish=on_finish,
        impl=impl,
        config=config.to_dict(),
        sizes={name: list(NETWORK_SIZES[name]) for name in sizes},
        seeds=list(range(seed_count)),
        window=window,
    )


buttons = st.columns([1, 1, 4])
if buttons[0].button("Run", type="primary", disabled=not sizes, key="ns_run") and sizes:
    run_experiment()
if buttons[1].button("Clear results", key="ns_clear"):
    st.session_state[SIZES_RESULTS_KEY] = {}
    st.session_state[SIZES_ERRORS_KEY] = {}


# --- Results -------------------------------------------------------------------------------


def show_result(data: ExperimentData) -> None:
    """One experiment: its chart, the summary table, a reading in words, and the CSV."""
    st.markdown(f"#### {IMPL_TITLES.get(data.impl, data.impl)}")
    stopped = " · stopped early" if data.stopped else ""
    st.caption(
        f"{data.config.get('env_id')} · {data.runs_done} of {data.runs_total} runs · "
        f"{data.config.get('total_timesteps', 0):,} env steps each · {data.wall_time:.0f} s{stopped}"
    )
    df = data.frame()
    if not len(df):
        st.warning("No episode finished before the experiment stopped.")
        return
    if data.figure_png is not None:
        st.image(data.figure_png, caption=f"Drawn by {data.impl}/network_sizes.py (window {data.window})")
    else:
        st.warning(f"{data.plot_error}. The reference plot of the same data:")
        st.pyplot(plot_learning_curves(df, data.window), clear_figure=False)
    summary = summarize_experiment(df, data.window)
    st.dataframe(display_summary(summary), hide_index=True, width="stretch")
    st.caption(
        "Per size, over its seeds. Solved: runs whose greedy evaluation during training reached the threshold; "
        "steps and seconds to solve are their medians. Final greedy: mean ± std of each run's return over 10 "
        "episodes with epsilon = 0 after training. Area under curve: the height of a run's smoothed curve averaged "
        "over the step axis, mean ± std (higher: learned earlier and stayed good)."
    )
    st.markdown(read_summary(summary))
    st.download_button(
        "Episodes (CSV)",
        df.to_csv(index=False),
        file_name=f"network_sizes_{data.config.get('env_id')}_{data.impl}.csv",
        mime="text/csv",
        key=f"ns_csv_{data.impl}",
    )


for failed_impl, error in st.session_state[SIZES_ERRORS_KEY].items():
    st.error(f"{IMPL_TITLES.get(failed_impl, failed_impl)}: the experiment failed: {error}")
results: dict[str, ExperimentData] = st.session_state[SIZES_RESULTS_KEY]
if results:
    st.subheader("Results")
    shown = [name for name in IMPLS if name in results]
    for column, name in zip(st.columns(len(shown)), shown, strict=True):
        with column:
            show_result(results[name])
else:
    st.info(
        "Press Run: the quick LineWorld setting takes about half a minute, CartPole-v1 a couple of minutes. "
        "Run your code and the reference to see them side by side."
    )
