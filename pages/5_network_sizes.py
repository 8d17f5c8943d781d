"""Exercise 5 page: how network size changes learning. Four sizes, several seeds, mean curves with bands."""

from __future__ import annotations

import streamlit as st

from playground.core.facts import IMPLS
from playground.tasks import speed
from playground.tasks.experiment import (
    EXPERIMENT_SETTINGS,
    ExperimentData,
    display_summary,
    plural,
    read_summary,
    sandbox_workers,
)
from playground.ui import live_jobs
from playground.ui.exercise_page import exercise_page
from playground.ui.experiment_jobs import (
    IMPL_TITLES,
    SLOT,
    SPEED_KIND,
    draw_experiment,
    keep_experiment,
    start_experiment,
)
from playground.ui.job_panel import collect_job, job_note, live_job_panel
from playground.ui.router import ensure_router
from playground.ui.session import SIZES_ERRORS_KEY, SIZES_RESULTS_KEY, SIZES_SCROLL_KEY, SIZES_STOPPED_KEY
from playground.ui.widgets import impl_picker, remember_widgets, restore_widgets
from solutions.network_sizes import NETWORK_SIZES, plot_learning_curves, summarize_experiment

ensure_router()

WIDGETS = (
    "ns_setting",
    "ns_sizes",
    "ns_seeds",
    "ns_impl",
    *(f"ns_{kind}_{label}" for kind in ("budget", "window") for label in EXPERIMENT_SETTINGS),
)

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


def _defaults() -> None:
    restore_widgets(WIDGETS)
    st.session_state.setdefault("ns_sizes", list(NETWORK_SIZES))
    st.session_state.setdefault("ns_seeds", 3)
    for label, setting in EXPERIMENT_SETTINGS.items():
        st.session_state.setdefault(f"ns_budget_{label}", setting.config.total_timesteps)
        st.session_state.setdefault(f"ns_window_{label}", setting.window)


def show_result(data: ExperimentData) -> None:
    """One experiment: its chart, the summary table, a reading in words, and the CSV."""
    st.markdown(f"#### {IMPL_TITLES.get(data.impl, data.impl)}")
    stopped = f" · {st.session_state.get(SIZES_STOPPED_KEY) or 'stopped early'}" if data.stopped else ""
    st.caption(
        f"{data.config.get('env_id')} · {data.runs_done} of {plural(data.runs_total, 'run')} · "
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


def _show_results(running: bool) -> None:
    for failed_impl, error in st.session_state.get(SIZES_ERRORS_KEY, {}).items():
        st.error(f"{IMPL_TITLES.get(failed_impl, failed_impl)}: the experiment failed: {error}")
    results: dict[str, ExperimentData] = st.session_state.get(SIZES_RESULTS_KEY, {})
    if results:
        st.subheader("Results")
        shown = [name for name in IMPLS if name in results]
        for column, name in zip(st.columns(len(shown)), shown, strict=True):
            with column:
                show_result(results[name])
    elif not running:
        st.info(
            "Press Run (the time it takes is above the button). Run your code and the reference to see them side "
            "by side."
        )


def demo() -> None:
    st.subheader("Run the experiment")
    _defaults()
    collect_job(SLOT, keep_experiment)
    job = live_jobs.current(SLOT)
    running = job is not None and not job.done
    setting_label = st.radio("Setting", list(EXPERIMENT_SETTINGS), horizontal=True, key="ns_setting")
    setting = EXPERIMENT_SETTINGS[str(setting_label)]
    st.caption(setting.note)
    sizes = st.multiselect("Sizes", list(NETWORK_SIZES), key="ns_sizes")  # full width: every chip fits
    middle, right = st.columns(2)
    seed_count = int(middle.number_input("Seeds per size", min_value=1, max_value=5, step=1, key="ns_seeds"))
    budget = int(
        right.number_input(
            "Env steps per run (budget)",
            min_value=setting.min_steps,
            max_value=setting.max_steps,
            step=setting.step,
            key=f"ns_budget_{setting.label}",
        )
    )
    window = int(st.slider("Smoothing window (episodes)", 1, 50, key=f"ns_window_{setting.label}"))
    impl = impl_picker("Implementation", key="ns_impl")
    config = setting.config.replace(total_timesteps=budget)
    runs_total = len(sizes) * seed_count
    workers = sandbox_workers(runs_total)
    if runs_total:
        seconds = speed.estimate(SPEED_KIND, config, runs_total, workers)
        st.caption(
            f"{plural(len(sizes), 'size')} x {plural(seed_count, 'seed')} = {plural(runs_total, 'run')}, "
            f"{'two at a time' if workers == 2 else 'one at a time'}: about {speed.duration_text(seconds)} "
            f"({speed.measured_note(SPEED_KIND, config)}"
            + ("; less when runs stop early at the threshold" if config.reward_threshold is not None else "")
            + ")."
        )
    else:
        st.caption("Pick at least one size.")
    remember_widgets(WIDGETS)
    buttons = st.columns([1, 1, 4])
    run_clicked = buttons[0].button("Run", type="primary", disabled=not sizes or running, key="ns_run", width="stretch")
    if run_clicked and sizes and not running:
        start_experiment(impl, config, {name: NETWORK_SIZES[name] for name in sizes}, seed_count, window, workers)
        st.rerun()  # drawn again with Run disabled and the live run in view
    if buttons[1].button("Clear results", key="ns_clear", disabled=running, width="stretch"):
        st.session_state[SIZES_RESULTS_KEY] = {}
        st.session_state[SIZES_ERRORS_KEY] = {}
    if job is not None and running:
        live_job_panel(job, draw_experiment, scroll=bool(st.session_state.pop(SIZES_SCROLL_KEY, False)))
    else:
        job_note(SLOT)
    _show_results(running)


LEAD = (
    "Does a bigger Q-network learn faster? Run the lesson's experiment here: four network sizes, several seeds "
    "each, mean curves with bands. The exercise, writing the experiment yourself, is under **Your task** below."
)

exercise_page("network_sizes", TASK, demo, run_first=LEAD)
