"""Exercise 3 page: the DQN training loop. Settings, a live run, and the diagnostics of what was learned."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from playground.core.envs import ACTION_NAMES
from playground.core.facts import solved_return, threshold_text
from playground.tasks.training_task import TrainingReport, episode_csv
from playground.ui import live_jobs
from playground.ui import training_settings as ts
from playground.ui.exercise_page import exercise_page
from playground.ui.job_panel import collect_job, job_note, live_job_panel
from playground.ui.router import ensure_router
from playground.ui.session import (
    TRAINING_ERRORS_KEY,
    TRAINING_PREFIX,
    TRAINING_REPORTS_KEY,
    TRAINING_SCROLL_KEY,
    TRAINING_STOPS_KEY,
)
from playground.ui.training_form import WIDGET_KEYS, settings_form
from playground.ui.training_jobs import (
    ALL_REFERENCE,
    SLOT,
    WINDOW,
    draw_progress,
    keep_results,
    record_speed,
    start_training,
)
from playground.ui.widgets import remember_widgets
from playground.views import training_charts
from playground.views.training_plots import probe_figure, q_table_figure, reward_figure

ensure_router()

TASK = """
Everything comes together here: the network from exercise 1, the buffer from exercise 2, and the loop that makes
them learn. In the editor below (`train_dqn.py`) write
`train_dqn(config, *, q_network_cls, buffer_cls, callback)`. It acts $\\epsilon$-greedily, stores each
transition $(s, a, r, s', d)$, and every `train_freq` steps takes `gradient_steps` Adam steps on the TD loss

$$y_j = r_j + \\gamma (1 - d_j) \\max_{a'} Q_{\\bar\\theta}(s'_j, a')$$

$$L(\\theta) = \\frac{1}{B}\\sum_j \\ell\\big(Q_\\theta(s_j, a_j) - y_j\\big)$$

while copying $\\theta$ into the target network $\\bar\\theta$ every `target_update_interval` steps. Then write
`evaluate(q_network, env_id, episodes, seed)`, the greedy returns. Two details decide whether it works:

* what $d_j$ is: Gymnasium ends an episode in two ways, `terminated` and `truncated`. When does a transition
  really have no future to bootstrap from? (A check will tell you if you get it wrong; a hint explains it.)
* the bootstrap term $\\max_{a'} Q_{\\bar\\theta}(s'_j, a')$ comes from the **target** network, not the online one.

The stub's docstrings give the contract of every helper and the loop's schedule. By default it uses the
reference network and buffer, so you can start here before finishing exercises 1 and 2.
"""

# --- Results -------------------------------------------------------------------------------


def _ended(report: TrainingReport) -> str:
    """How the run ended, in words: who stopped it, or the loop's own reason (solved, finished, diverged)."""
    if report.stopped:
        who = st.session_state.get(TRAINING_STOPS_KEY, {}).get(report.run.label, "stopped")
        return f"{who} at env step {report.run.total_steps:,}"
    return report.run.stop_reason


def _summary_row(report: TrainingReport) -> dict[str, Any]:
    return {
        "run": report.run.label,
        "env": report.run.env_id,
        "seed": report.config.get("seed"),
        "episodes": len(report.run.episode_rewards),
        "env steps": report.run.total_steps,
        "updates": report.run.gradient_updates,
        "train s": round(report.run.wall_time - report.run.eval_time, 1),
        "greedy mean (20 ep.)": round(report.run.greedy_mean, 2),
        "std": round(report.run.greedy_std, 2),
        "ended": _ended(report),
    }


def show_run(report: TrainingReport) -> None:
    """One run's own panels: evaluation, probe Q-values, Q-table, rollout, downloads."""
    st.markdown(f"#### {report.run.label}")
    threshold = report.run.threshold
    st.metric(
        "Greedy return, 20 episodes",
        f"{report.run.greedy_mean:.1f} ± {report.run.greedy_std:.1f}",
        help="Mean and standard deviation of 20 episodes with epsilon = 0, on seeds the training never saw.",
    )
    if report.run.solved and threshold is not None:
        st.badge(f"Solved: mean >= {threshold_text(threshold)}", icon=":material/emoji_events:", color="green")
    elif threshold is not None:
        st.badge(f"Not solved yet (needs {threshold_text(threshold)})", color="orange")
    st.caption(
        f"{_ended(report)} · {report.run.total_steps:,} env steps, {report.run.gradient_updates:,} updates, "
        f"{report.run.wall_time:.1f} s ({report.run.eval_time:.1f} s of it in evaluations)"
    )
    names = ACTION_NAMES.get(report.run.env_id, ())
    if report.run.probe_steps:
        st.pyplot(probe_figure(report.run.probe_steps, report.run.probe_q_values, names), clear_figure=False)
        st.caption(
            f"The probe state s0 is the first state of the run (the first reset: "
            f"{ts.show_state(report.run.probe_state)}). Its Q-values, one line per action, show what the network "
            "believes over training: they should rise towards the return expected from s0 and level off; the "
            "gap between the lines is the preference the greedy policy acts on."
        )
    if report.q_table is not None:
        st.pyplot(q_table_figure(report.q_table, names), clear_figure=False)
        st.caption(
            "Q(s, a) of every LineWorld cell: the greedy action (outlined) should point right, towards the goal, "
            "in every cell, with values growing as the goal gets closer (the discount gamma at work)."
        )
    if report.gif:
        st.image(report.gif, caption=f"One greedy episode (return {report.gif_return:g})")
    with st.expander("The same run drawn by this loop's own `plot_rewards`"):
        if report.reward_plot is not None:
            st.image(report.reward_plot)
        else:
            st.info(report.reward_plot_error or "no figure")
    for note in report.notes:
        st.info(note)
    st.download_button(
        "Episode log (CSV)",
        episode_csv(report),
        file_name=f"episodes_{report.run.env_id}_{report.run.label.split(' ')[0]}_seed{report.run.seed}.csv",
        mime="text/csv",
        key=f"csv_{report.run.label}",
    )


def show_results(reports: dict[str, TrainingReport]) -> None:
    st.subheader("Results")
    st.dataframe(
        pd.DataFrame([_summary_row(r) for r in reports.values()]),
        hide_index=True,
        width="stretch",
        column_config={
            "run": st.column_config.TextColumn(width="medium"),
            "ended": st.column_config.TextColumn(width="large"),
        },
    )
    envs = {r.run.env_id for r in reports.values()}
    threshold = solved_return(next(iter(envs))) if len(envs) == 1 else None
    evaluations = {label: (r.run.eval_steps, r.run.eval_means) for label, r in reports.items() if r.run.eval_steps}
    st.pyplot(
        reward_figure(
            {label: r.run.episode_rewards for label, r in reports.items()},
            WINDOW,
            threshold=threshold,
            x_values={label: r.run.episode_end_steps for label, r in reports.items()},
            evaluations=evaluations,
            title="Return per episode, and greedy evaluations during training",
        ),
        clear_figure=False,
    )
    st.caption(
        "Faint: the return of each training episode (with exploration), at the env step it ended. Bold: the mean "
        f"of the last {WINDOW}. Dots: greedy evaluations during training (epsilon = 0, every eval_freq steps); they "
        'decide "solved" and early stopping, and sit above the training curve because they do not explore. '
        "A rising curve is learning; one that rises and falls is the instability a target network and replay tame."
        + ("" if evaluations else " (No greedy evaluations during training: eval_freq is 0.)")
    )
    left, right = st.columns(2)
    with left:
        st.altair_chart(
            training_charts.series_chart(
                {label: (r.run.loss_steps, r.run.losses) for label, r in reports.items()},
                "TD loss",
                window=50,
                log_y=True,
            ),
            width="stretch",
        )
        st.caption(
            "TD loss, mean of 50 updates (log scale). Healthy: it rises while the buffer fills with surprising "
            "returns, then settles or drifts slowly; it need not go to zero, because the targets move. A steady "
            "climb by orders of magnitude means the Q-values are diverging."
        )
    with right:
        st.altair_chart(
            training_charts.series_chart(
                {label: (r.run.epsilon_steps, r.run.epsilons) for label, r in reports.items()}, "epsilon"
            ),
            width="stretch",
        )
        st.caption(
            "Exploration rate epsilon: the share of random actions. It falls linearly from exploration_initial_eps "
            "to exploration_final_eps over the first exploration_fraction of the run, then stays flat."
        )
    for column, report in zip(st.columns(len(reports)), reports.values(), strict=True):
        with column:
            show_run(report)


def demo() -> None:
    st.session_state.setdefault(TRAINING_REPORTS_KEY, {})
    st.session_state.setdefault(TRAINING_ERRORS_KEY, {})
    collect_job(SLOT, keep_results)
    st.subheader("Train")
    config, impls, _, controls = settings_form()
    job = live_jobs.current(SLOT)
    running = job is not None and not job.done
    with controls:
        compare = st.checkbox(
            "Also train the reference on the same settings and seed, to compare side by side",
            disabled=impls == ALL_REFERENCE,
            key=TRAINING_PREFIX + "compare",
        )
        runs = [impls] + ([ALL_REFERENCE] if compare and impls != ALL_REFERENCE else [])
        buttons = st.columns([1, 1, 4], vertical_alignment="center")
        train_clicked = buttons[0].button(
            "Train", type="primary", disabled=config is None or running, key=TRAINING_PREFIX + "train", width="stretch"
        )
        remember_widgets(WIDGET_KEYS)
        if buttons[1].button("Clear results", key=TRAINING_PREFIX + "clear", disabled=running, width="stretch"):
            st.session_state[TRAINING_REPORTS_KEY] = {}
            st.session_state[TRAINING_ERRORS_KEY] = {}
        if config is not None:
            buttons[2].caption(ts.duration_hint(config, len(runs)))
        if train_clicked and config is not None and not running:
            start_training(config, runs)
            st.rerun()  # drawn again with Train disabled and the live run in view
        if job is not None and running:
            live_job_panel(job, draw_progress, scroll=bool(st.session_state.pop(TRAINING_SCROLL_KEY, False)))
        else:
            job_note(SLOT)
    for label, error in st.session_state[TRAINING_ERRORS_KEY].items():
        st.error(f"The {label} run failed: {error}")
    reports: dict[str, TrainingReport] = st.session_state[TRAINING_REPORTS_KEY]
    if reports:
        show_results(reports)
        record_speed()
    elif not running:
        st.info("Press Train to see the agent learn here.")


LEAD = (
    "Train a DQN agent here and watch it learn: with the reference parts, or with yours from exercises 1 to 3 "
    "(pick *mine* for a part). The exercise, writing the training loop `train_dqn`, is under **Your task** below."
)

exercise_page("train_dqn", TASK, demo, run_first=LEAD)
