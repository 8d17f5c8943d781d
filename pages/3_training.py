"""Exercise 3 page: the DQN training loop. Settings, a live run, and the diagnostics of what was learned."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from playground.core.config import ENV_IDS, FIELD_HELP, LOSSES, PRESETS, DQNConfig
from playground.core.envs import ACTION_NAMES
from playground.core.facts import IMPL_LABELS, IMPLS, require_impl, solved_return
from playground.tasks import speed
from playground.tasks.snapshot import TrainedNetwork
from playground.tasks.training_task import TrainingReport, TrainingUpdate, episode_csv, run_label
from playground.ui import live_jobs
from playground.ui import training_settings as ts
from playground.ui.router import ensure_router
from playground.ui.session import (
    TRAINING_CONFIG_KEY,
    TRAINING_ERRORS_KEY,
    TRAINING_PREFIX,
    TRAINING_READY_KEY,
    TRAINING_REPORTS_KEY,
    TRAINING_STOPS_KEY,
)
from playground.ui.widgets import (
    check_panel,
    exercise_header,
    live_job_panel,
    remember_network,
    remember_widgets,
    restore_widgets,
    show_source,
)
from playground.views import training_charts
from playground.views.training_plots import moving_average, probe_figure, q_table_figure, reward_figure

ensure_router()

ALL_REFERENCE = {key: "solutions" for key in ts.COMPONENT_KEYS}
WINDOW = 20

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

st.session_state.setdefault(TRAINING_REPORTS_KEY, {})
st.session_state.setdefault(TRAINING_ERRORS_KEY, {})
exercise_header("train_dqn", TASK)
check_panel("train_dqn")
show_source("train_dqn")


# --- Settings ------------------------------------------------------------------------------


def _apply(config: DQNConfig) -> None:
    """Put a config's values into the form's widgets."""
    for name, value in config.to_dict().items():
        if name == "hidden_dims":
            st.session_state[TRAINING_PREFIX + name] = ",".join(str(v) for v in value)
        elif name == "reward_threshold":
            st.session_state[TRAINING_PREFIX + name] = "" if value is None else f"{value:g}"
        else:
            st.session_state[TRAINING_PREFIX + name] = value


def _impl_key(component: str) -> str:
    return f"{TRAINING_PREFIX}impl_{component}"


def _init_from_url() -> None:
    """First visit in this session: settings from the URL (a shared link), else the default preset."""
    if st.session_state.get(TRAINING_READY_KEY):
        return
    settings = ts.settings_from_query(st.query_params.to_dict())
    _apply(settings.config)
    st.session_state[TRAINING_PREFIX + "preset"] = settings.preset
    for component in ts.COMPONENT_KEYS:
        st.session_state[_impl_key(component)] = settings.impls[component]
    st.session_state[TRAINING_PREFIX + "url_problems"] = settings.problems
    st.session_state[TRAINING_PREFIX + "url_config"] = settings.config.to_dict()
    st.session_state.setdefault(TRAINING_PREFIX + "compare", True)
    st.session_state[TRAINING_READY_KEY] = True


def _on_preset() -> None:
    _apply(PRESETS[st.session_state[TRAINING_PREFIX + "preset"]])


def _numeric(column: Any, name: str) -> Any:
    spec = ts.NUMERIC_FIELDS[name]
    help_text = f"{FIELD_HELP[name]} Range: {spec.range_text}."
    if spec.kind == "int":
        return column.number_input(
            name,
            min_value=int(spec.low),
            max_value=int(spec.high),
            step=int(spec.step),
            key=TRAINING_PREFIX + name,
            help=help_text,
        )
    return column.number_input(
        name,
        min_value=float(spec.low),
        max_value=float(spec.high),
        step=float(spec.step),
        format="%.6g",
        key=TRAINING_PREFIX + name,
        help=help_text,
    )


WIDGET_KEYS: tuple[str, ...] = (
    *(TRAINING_PREFIX + name for name in ts.FIELD_ORDER),
    TRAINING_PREFIX + "preset",
    TRAINING_PREFIX + "compare",
    *(f"{TRAINING_PREFIX}impl_{component}" for component in ts.COMPONENT_KEYS),
)


def settings_form() -> tuple[DQNConfig | None, dict[str, str], str]:
    """The preset picker, every setting and the implementation of each component."""
    restore_widgets(WIDGET_KEYS)
    _init_from_url()
    link_notes = st.container()
    st.subheader("Settings")
    top = st.columns([1, 1, 2])
    preset = top[0].selectbox(
        "Preset",
        list(PRESETS),
        key=TRAINING_PREFIX + "preset",
        on_change=_on_preset,
        help="lineworld: LineWorld-v0, the quickest; fast: CartPole-v1 with a quick schedule; steady: "
        "slower, but stable for small networks; lesson: the lesson's settings (slow)",
    )
    values: dict[str, Any] = {}
    values["env_id"] = top[1].selectbox(
        "env_id", ENV_IDS, key=TRAINING_PREFIX + "env_id", help=f"{FIELD_HELP['env_id']} {ts.range_text('env_id')}."
    )
    top[2].caption(
        "A preset fills every field; change any of them below. Hover a field's (?) for its meaning and range, "
        "or open the table under the form. The link in your address bar holds these settings: share it."
    )
    groups = (
        ("Run", ("total_timesteps", "seed", "learning_starts")),
        ("Learning", ("learning_rate", "batch_size", "gamma", "max_grad_norm")),
        ("Schedule", ("train_freq", "gradient_steps", "target_update_interval", "tau")),
        ("Exploration", ("exploration_fraction", "exploration_initial_eps", "exploration_final_eps")),
        ("Memory and evaluation", ("buffer_size", "eval_freq", "eval_episodes")),
    )
    for title, names in groups:
        st.markdown(f"**{title}**")
        columns = st.columns(4)
        for column, name in zip(columns, names, strict=False):
            values[name] = _numeric(column, name)
    last = st.columns(4)
    hidden_text = last[0].text_input(
        "hidden_dims",
        key=TRAINING_PREFIX + "hidden_dims",
        help=f"{FIELD_HELP['hidden_dims']} {ts.range_text('hidden_dims')}.",
    )
    values["loss"] = last[1].selectbox("loss", LOSSES, key=TRAINING_PREFIX + "loss", help=FIELD_HELP["loss"])
    threshold_text = last[2].text_input(
        "reward_threshold",
        key=TRAINING_PREFIX + "reward_threshold",
        help=f"{FIELD_HELP['reward_threshold']} {ts.range_text('reward_threshold')}.",
    )
    st.markdown("**Implementation of each component**")
    picks = st.columns(3)
    impls: dict[str, str] = {}
    for column, component in zip(picks, ts.COMPONENT_KEYS, strict=True):
        with column:
            choice = st.radio(component, IMPLS, key=_impl_key(component), format_func=IMPL_LABELS.__getitem__)
            impls[component] = require_impl(choice)
    config: DQNConfig | None = None
    try:
        values["hidden_dims"] = ts.parse_hidden_dims(hidden_text)
        values["reward_threshold"] = float(threshold_text) if threshold_text.strip() else None
        config = DQNConfig(**values)
    except ValueError as err:
        st.error(f"These settings cannot run: {err}. Nothing is lost; fix the field and train.")
    if config is not None and config.to_dict() == st.session_state.get(TRAINING_PREFIX + "url_config"):
        for problem in st.session_state.get(TRAINING_PREFIX + "url_problems", []):
            link_notes.warning(f"From the link: {problem}")
    if config is not None:
        st.session_state[TRAINING_CONFIG_KEY] = config.to_dict()
        st.query_params.from_dict(ts.settings_to_query(config, impls, str(preset)))
        with st.expander("Every setting: value, range and meaning"):
            st.dataframe(pd.DataFrame(ts.settings_table(config)), hide_index=True, width="stretch")
    return config, impls, str(preset)


# --- Training ------------------------------------------------------------------------------

SLOT = "training"


def start_training(config: DQNConfig, runs: list[dict[str, str]]) -> None:
    """Start the runs (one after another) as a job that outlives this script run."""
    labels = [run_label(run_impls) for run_impls in runs]
    steps = [
        live_jobs.Step(
            "playground.tasks.training_task:training_task",
            label,
            {"config": config.to_dict(), **run_impls},
        )
        for label, run_impls in zip(labels, runs, strict=True)
    ]
    title = f"Training {' and '.join(labels)} on {config.env_id}"
    live_jobs.start(SLOT, title, steps, {"labels": labels})
    st.session_state[TRAINING_PREFIX + "scroll"] = True


def keep_results(job: live_jobs.LiveJob) -> None:
    """Move a finished job's reports (or errors) into session state; safe to call twice."""
    reports: dict[str, TrainingReport] = st.session_state[TRAINING_REPORTS_KEY]
    errors: dict[str, str] = st.session_state[TRAINING_ERRORS_KEY]
    stops: dict[str, str] = st.session_state.setdefault(TRAINING_STOPS_KEY, {})
    timed: list[tuple[dict[str, Any], float, int]] = []
    for label, outcome in zip(job.meta["labels"], job.outcomes, strict=False):
        errors.pop(label, None)
        stops.pop(label, None)
        report = outcome.value
        if isinstance(report, TrainingReport):
            reports[label] = report
            if report.stopped:
                stops[label] = job.stop_reason or "stopped"
            elif not job.collected:
                timed.append((report.config, report.run.wall_time - report.run.eval_time, report.run.total_steps))
            if report.snapshot is not None:
                remember_network(
                    TrainedNetwork(
                        label=f"Training page: {label} on {report.run.env_id} (seed {report.config.get('seed', 0)})",
                        snapshot=report.snapshot,
                        env_id=report.run.env_id,
                        config=report.config,
                    )
                )
        elif not outcome.cancelled:
            errors[label] = ts.describe_failure(outcome.error, outcome.output)
    if timed and len(timed) == len(job.outcomes) and not job.stop_reason:
        # Measured once the results are on the page (the end of this script run): click to result.
        st.session_state[TRAINING_PREFIX + "timing"] = (job.started, timed)


def record_speed() -> None:
    """Fold the click-to-result time of the runs just shown into this server's speed (see playground.tasks.speed)."""
    pending = st.session_state.pop(TRAINING_PREFIX + "timing", None)
    if pending is None:
        return
    started, timed = pending
    total = time.monotonic() - started
    overhead = max(0.0, total - sum(train for _, train, _ in timed)) / len(timed)
    for config, train, steps in timed:
        speed.record(ts.SPEED_KIND, DQNConfig.from_dict(config), train, train + overhead, steps)


def draw_progress(job: live_jobs.LiveJob) -> None:
    """The live view of a running job: a line per run, a progress bar and the reward curve."""
    labels: list[str] = job.meta["labels"]
    for index, label in enumerate(labels[: job.step_index]):
        outcome = job.outcomes[index] if index < len(job.outcomes) else None
        if outcome is not None:
            state = "done" if outcome.ok else "failed (the error is shown when all runs are done)"
            st.caption(f"{label}: {state}")
    label = labels[min(job.step_index, len(labels) - 1)]
    updates = [m for m in job.step_messages(job.step_index) if isinstance(m, TrainingUpdate)]
    st.progress(*ts.progress_line(label, updates[-1] if updates else None, job.elapsed))
    rewards = [r for update in updates for r in update.new_rewards]
    if rewards:
        frame = pd.DataFrame({"return": rewards, f"mean of {WINDOW}": moving_average(rewards, WINDOW)})
        frame.index = pd.RangeIndex(1, len(rewards) + 1, name="episode")
        st.line_chart(frame, x_label="episode", y_label="return", height=240)


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
    if report.run.solved:
        st.badge(f"Solved: mean >= {threshold:g}", icon=":material/emoji_events:", color="green")
    elif threshold is not None:
        st.badge(f"Not solved yet (needs {threshold:g})", color="orange")
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


live_jobs.collect(SLOT, keep_results)
config, impls, preset = settings_form()
job = live_jobs.current(SLOT)
running = job is not None and not job.done
compare = st.checkbox(
    "Also train the reference on the same settings and seed, to compare side by side",
    disabled=impls == ALL_REFERENCE,
    key=TRAINING_PREFIX + "compare",
)
runs_planned = 2 if compare and impls != ALL_REFERENCE else 1
if config is not None:
    st.caption(ts.duration_hint(config, runs_planned))
buttons = st.columns([1, 1, 4])
train_clicked = buttons[0].button(
    "Train", type="primary", disabled=config is None or running, key=TRAINING_PREFIX + "train", width="stretch"
)
if train_clicked and config is not None and not running:
    start_training(config, [impls] + ([ALL_REFERENCE] if compare and impls != ALL_REFERENCE else []))
    job, running = live_jobs.current(SLOT), True
remember_widgets(WIDGET_KEYS)
if buttons[1].button("Clear results", key=TRAINING_PREFIX + "clear", disabled=running, width="stretch"):
    st.session_state[TRAINING_REPORTS_KEY] = {}
    st.session_state[TRAINING_ERRORS_KEY] = {}
if job is not None and running:
    live_job_panel(job, draw_progress, scroll=bool(st.session_state.pop(TRAINING_PREFIX + "scroll", False)))

for label, error in st.session_state[TRAINING_ERRORS_KEY].items():
    st.error(f"The {label} run failed: {error}")
reports: dict[str, TrainingReport] = st.session_state[TRAINING_REPORTS_KEY]
if reports:
    show_results(reports)
    record_speed()
elif not running:
    st.info("Press Train to see the agent learn here.")
