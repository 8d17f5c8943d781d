"""The training page's settings form: a preset, every `DQNConfig` field with its range, the implementation of each part.

The form starts from the link in the address bar (a shared URL) or the default
preset, keeps the URL in step with the fields, and says what of a link it could
not use. The ranges and the URL format are data, in :mod:`playground.ui.training_settings`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from playground.core.config import ENV_IDS, FIELD_HELP, LOSSES, PRESETS, DQNConfig
from playground.core.facts import IMPL_LABELS, IMPLS, require_impl
from playground.ui import training_settings as ts
from playground.ui.session import (
    TRAINING_CONFIG_KEY,
    TRAINING_PREFIX,
    TRAINING_READY_KEY,
    TRAINING_RESENT_KEY,
    TRAINING_URL_CONFIG_KEY,
    TRAINING_URL_PROBLEMS_KEY,
)
from playground.ui.widgets import restore_widgets


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
    # A run that did not draw the form (the rerun that puts kept work back, say) drops its widgets' state:
    # then the settings come back from the URL, which always holds the page's current ones.
    if st.session_state.get(TRAINING_READY_KEY) and TRAINING_PREFIX + "preset" in st.session_state:
        _resend_values()
        return
    settings = ts.settings_from_query(st.query_params.to_dict())
    _apply(settings.config)
    st.session_state[TRAINING_PREFIX + "preset"] = settings.preset
    for component in ts.COMPONENT_KEYS:
        st.session_state[_impl_key(component)] = settings.impls[component]
    st.session_state[TRAINING_URL_PROBLEMS_KEY] = settings.problems
    st.session_state[TRAINING_URL_CONFIG_KEY] = settings.config.to_dict()
    st.session_state.setdefault(TRAINING_PREFIX + "compare", True)
    st.session_state[TRAINING_READY_KEY] = True


RESEND_RUNS = 3  # the first runs of a visit whose values are sent to the browser again


def _resend_values() -> None:
    """In the first runs of a visit, tell the browser the form's values again.

    The rerun that puts a learner's kept work back can interrupt the visit's first run; the browser then
    keeps showing the widgets' defaults (and would send them with Train) while the server holds the URL's
    settings. Writing a value to its key makes Streamlit send it with the widget.
    """
    runs = int(st.session_state.get(TRAINING_RESENT_KEY, 0))
    if runs >= RESEND_RUNS:
        return
    st.session_state[TRAINING_RESENT_KEY] = runs + 1
    keys = [TRAINING_PREFIX + name for name in DQNConfig.__dataclass_fields__]
    keys += [TRAINING_PREFIX + "preset", TRAINING_PREFIX + "compare"]
    keys += [_impl_key(component) for component in ts.COMPONENT_KEYS]
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


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


# The settings a preset fills and few learners change, in the "All settings" expander, by theme.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Learning", ("learning_rate", "batch_size", "gamma", "max_grad_norm")),
    ("Schedule", ("learning_starts", "train_freq", "gradient_steps", "target_update_interval", "tau")),
    ("Exploration", ("exploration_fraction", "exploration_initial_eps", "exploration_final_eps")),
    ("Memory and evaluation", ("buffer_size", "eval_freq", "eval_episodes")),
)
ROW = 4  # fields per row


def settings_form() -> tuple[DQNConfig | None, dict[str, str], str, Any]:
    """The settings that matter (preset, environment, length, seed, whose parts), then the rest in an expander.

    Returns (config or None when invalid, implementation of each part, preset, the container between the two
    parts, where the page puts its Train button and the live run).
    """
    restore_widgets(WIDGET_KEYS)
    _init_from_url()
    link_notes = st.container()
    top = st.columns(4)
    preset = top[0].selectbox(
        "Preset",
        list(PRESETS),
        key=TRAINING_PREFIX + "preset",
        on_change=_on_preset,
        help="lineworld: LineWorld-v0, the quickest; fast: CartPole-v1 with a quick schedule; steady: "
        "slower, but stable for small networks; lesson: the lesson's settings (slow). A preset fills every "
        "setting; change any of them.",
    )
    values: dict[str, Any] = {}
    values["env_id"] = top[1].selectbox(
        "env_id", ENV_IDS, key=TRAINING_PREFIX + "env_id", help=f"{FIELD_HELP['env_id']} {ts.range_text('env_id')}."
    )
    values["total_timesteps"] = _numeric(top[2], "total_timesteps")
    values["seed"] = _numeric(top[3], "seed")
    picks = st.columns(3)
    impls: dict[str, str] = {}
    for column, component in zip(picks, ts.COMPONENT_KEYS, strict=True):
        with column:
            choice = st.radio(
                component, IMPLS, key=_impl_key(component), format_func=IMPL_LABELS.__getitem__, horizontal=True
            )
            impls[component] = require_impl(choice)
    controls = st.container()
    with st.expander("All settings: learning, schedule, exploration, memory and evaluation"):
        st.caption(
            "Hover a field's (?) for its meaning and range; the table below has them all. The link in your address "
            "bar holds every setting: share it."
        )
        for title, names in GROUPS:
            st.markdown(f"**{title}**")
            for start in range(0, len(names), ROW):
                for column, name in zip(st.columns(ROW), names[start : start + ROW], strict=False):
                    values[name] = _numeric(column, name)
        last = st.columns(ROW)
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
        table = st.container()
    config: DQNConfig | None = None
    try:
        values["hidden_dims"] = ts.parse_hidden_dims(hidden_text)
        values["reward_threshold"] = float(threshold_text) if threshold_text.strip() else None
        config = DQNConfig(**values)
    except ValueError as err:
        link_notes.error(f"These settings cannot run: {err}. Nothing is lost; fix the field and train.")
    if config is not None and config.to_dict() == st.session_state.get(TRAINING_URL_CONFIG_KEY):
        for problem in st.session_state.get(TRAINING_URL_PROBLEMS_KEY, []):
            link_notes.warning(f"From the link: {problem}")
    if config is not None:
        st.session_state[TRAINING_CONFIG_KEY] = config.to_dict()
        st.query_params.from_dict(ts.settings_to_query(config, impls, str(preset)))
        table.markdown("**Every setting: value, range and meaning**")
        table.dataframe(pd.DataFrame(ts.settings_table(config)), hide_index=True, width="stretch")
    return config, impls, str(preset), controls
