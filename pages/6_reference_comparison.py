"""Reference vs Stable-Baselines3: one config, both implementations, the same seeds; every setting explained."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from playground.core.config import FIELD_HELP, PRESETS, DQNConfig
from playground.sb3 import comparison as cmp
from playground.sb3.adapter import IMPLEMENTATION_DIFFERENCES, SB3_FIXED_ARGUMENTS, mapping_rows
from playground.sb3.hyperparams import MEANING_COLUMNS, hyperparameter_markdown, hyperparameter_rows, value_columns
from playground.tasks import speed
from playground.ui import live_jobs
from playground.ui.comparison_jobs import SLOT, SPEED_KIND, draw_comparison, keep_comparison, start_comparison
from playground.ui.job_panel import collect_job, job_note, live_job_panel
from playground.ui.router import ensure_router
from playground.ui.session import (
    COMPARISON_ERROR_KEY,
    COMPARISON_RESULT_KEY,
    COMPARISON_SCROLL_KEY,
    COMPARISON_STOPPED_KEY,
    TRAINING_CONFIG_KEY,
)
from playground.ui.widgets import remember_widgets, restore_widgets

ensure_router()


# Where the training page (pages/3_training.py) leaves its current settings, as DQNConfig.to_dict().
# Fields a learner can change here; the rest come from the preset or the training page.
EDITABLE: dict[str, tuple[Any, Any, Any]] = {
    "total_timesteps": (1, 10_000_000, 500),
    "learning_rate": (1e-6, 1.0, 1e-4),
    "train_freq": (1, 100_000, 1),
    "gradient_steps": (-1, 100_000, 1),
    "target_update_interval": (1, 1_000_000, 100),
}


def _choose_config() -> DQNConfig | None:
    """The base config (preset or training page) with the editable fields applied; None when invalid."""
    from_training = cmp.config_from_state(st.session_state, (TRAINING_CONFIG_KEY,))
    source = "A preset"
    if from_training is not None:
        source = str(
            st.radio(
                "Start from", ["A preset", "My settings from the training page"], horizontal=True, key="cmp_source"
            )
        )
    else:
        st.caption("Start from a preset (or set up a run on the Training page first, then start from its settings).")
    if source == "A preset" or from_training is None:
        names = list(PRESETS)
        preset = st.selectbox(
            "Preset", names, index=names.index("lineworld"), key="cmp_preset", help="lineworld is the quickest"
        )
        base, tag = PRESETS[preset], str(preset)
    else:
        base, tag = from_training, "training"
    columns = st.columns(len(EDITABLE))
    changes: dict[str, Any] = {}
    for column, (name, (low, high, step)) in zip(columns, EDITABLE.items(), strict=True):
        value = getattr(base, name)
        if isinstance(value, float):
            changes[name] = column.number_input(
                name,
                float(low),
                float(high),
                float(value),
                format="%.6g",
                key=f"cmp_{tag}_{name}",
                help=FIELD_HELP[name],
            )
        else:
            changes[name] = column.number_input(
                name, int(low), int(high), int(value), int(step), key=f"cmp_{tag}_{name}", help=FIELD_HELP[name]
            )
    try:
        config = base.replace(**changes)
    except ValueError as err:
        st.error(f"These settings are not valid: {err}. Nothing was run; change the value and try again.")
        return None
    if config.learning_starts >= config.total_timesteps:
        st.warning(
            f"learning_starts ({config.learning_starts:,}) is not below total_timesteps ({config.total_timesteps:,}): "
            "neither implementation will make a single gradient update."
        )
    with st.expander("Every setting of this run"):
        st.json(config.to_dict())
    return config


WIDGETS = (
    "cmp_source",
    "cmp_preset",
    "cmp_seeds",
    "cmp_eval_episodes",
    "cmp_mine",
    "cmp_window",
    *(f"cmp_{tag}_{name}" for tag in (*PRESETS, "training") for name in EDITABLE),
)


def _intro() -> None:
    st.title("The reference beside Stable-Baselines3")
    st.markdown(
        "Stable-Baselines3 (SB3) is the DQN most people use after a course like this one. Our `DQNConfig` uses "
        "SB3's names, so one configuration drives both: the reference `train_dqn` you can read in `solutions/` and "
        "SB3's `DQN`. Both train here on the **same settings and seeds**, their learning curves are drawn against "
        "environment steps, and both trained networks are judged by **the same greedy evaluation code**. Below the "
        "results, a table explains every setting."
    )


def _run_panel() -> DQNConfig | None:
    """Settings, the Train button and the live job; returns the config (None when invalid)."""
    restore_widgets(WIDGETS)
    config = _choose_config()
    left, right = st.columns(2)
    seed_count = int(left.number_input("Seeds (0, 1, ...)", 1, 5, 1, key="cmp_seeds", help="Each seed trains both"))
    eval_episodes = int(right.number_input("Greedy evaluation episodes per run", 1, 100, 20, key="cmp_eval_episodes"))

    collect_job(SLOT, keep_comparison)
    implementations = ["reference", "sb3"]
    if st.checkbox(
        "Also train my loop (exercises/train_dqn.py, with the reference network and buffer)",
        key="cmp_mine",
        help="Your train_dqn runs in the sandbox on the same settings and seeds, next to the reference and SB3.",
    ):
        implementations = ["mine", *implementations]
    if config is not None:
        seconds = speed.estimate(SPEED_KIND, config, len(implementations) * seed_count)
        st.caption(
            f"{len(implementations) * seed_count} runs, one after the other: about {speed.duration_text(seconds)} "
            f"({speed.measured_note(SPEED_KIND, config)})."
        )
    remember_widgets(WIDGETS)
    job = live_jobs.current(SLOT)
    running = job is not None and not job.done
    train_clicked = st.button("Train", type="primary", disabled=config is None or running, key="cmp_train")
    if train_clicked and config is not None and not running:
        start_comparison(config, list(range(seed_count)), eval_episodes, implementations)
        st.rerun()  # drawn again with Train disabled and the live run in view
    if job is not None and running:
        live_job_panel(job, draw_comparison, scroll=bool(st.session_state.pop(COMPARISON_SCROLL_KEY, False)))
    else:
        job_note(SLOT)
    with st.expander("How each setting reaches SB3, and what differs"):
        st.dataframe(
            pd.DataFrame(mapping_rows()),
            hide_index=True,
            width="stretch",
        )
        st.markdown("**SB3 arguments we pin** (not in `DQNConfig`):")
        st.markdown("\n".join(f"- `{name}={value!r}`: {why}" for name, (value, why) in SB3_FIXED_ARGUMENTS.items()))
        st.markdown("**Differences in the implementations** (same settings, different code):")
        st.markdown("\n".join(f"- **{topic}.** {text}" for topic, text in IMPLEMENTATION_DIFFERENCES))

    if COMPARISON_ERROR_KEY in st.session_state:
        st.error(f"The comparison failed: {st.session_state[COMPARISON_ERROR_KEY]}")
    return config


def _results() -> None:
    result: cmp.ComparisonResult | None = st.session_state.get(COMPARISON_RESULT_KEY)
    if result is not None:
        st.subheader("Results")
        stopped = st.session_state.get(COMPARISON_STOPPED_KEY) or "stopped early" if result.stopped else ""
        st.caption(
            f"{result.config.env_id}, {result.config.total_timesteps:,} steps, seeds {list(result.seeds)}"
            f"{f' · {stopped}' if stopped else ''}. Kept until you train again."
        )
        st.markdown("\n".join(f"- {line}" for line in cmp.plain_reading(result)))
        window = st.slider("Moving average over episodes", 1, 100, 20, key="cmp_window")
        st.pyplot(cmp.learning_curve_figure(result, window), clear_figure=False)
        evaluations = cmp.evaluation_figure(result)
        if evaluations is not None:
            st.pyplot(evaluations, clear_figure=False)
        st.markdown("**Per implementation** (means over seeds; env steps per second leave greedy evaluations out)")
        summary = pd.DataFrame(cmp.summary_rows(result))
        # One column per implementation, one row per measure: fits a narrow screen without scrolling sideways.
        st.dataframe(summary.set_index("implementation").T.astype(str), width="stretch")
        with st.expander("Every run"):
            st.dataframe(pd.DataFrame(cmp.run_rows(result)), hide_index=True, width="stretch")
        down_left, down_right = st.columns(2)
        down_left.download_button(
            "Episode log (CSV)", cmp.episodes_csv(result), "comparison_episodes.csv", "text/csv", key="cmp_csv_episodes"
        )
        down_right.download_button(
            "Summary (CSV)", summary.to_csv(index=False), "comparison_summary.csv", "text/csv", key="cmp_csv_summary"
        )


def _hyperparameters(config: DQNConfig | None) -> None:
    st.subheader("Every hyperparameter, explained")
    st.caption(
        "Symbols are those of the lesson's math. SB3 defaults are read from the installed Stable-Baselines3. "
        "'Too small' and 'Too large' say what you would see in the curves."
    )
    rows = hyperparameter_rows(current=config)
    meaning_tab, values_tab = st.tabs(["What each setting does", "Values: presets, this run, SB3 defaults"])
    meaning_tab.markdown(hyperparameter_markdown(rows, MEANING_COLUMNS))
    values_tab.markdown(hyperparameter_markdown(rows, value_columns(rows)))
    st.download_button(
        "Hyperparameter table (CSV)",
        pd.DataFrame(rows).to_csv(index=False),
        "dqn_hyperparameters.csv",
        "text/csv",
        key="cmp_csv_hyperparameters",
    )


def main() -> None:
    _intro()
    config = _run_panel()
    _results()
    _hyperparameters(config)


main()
