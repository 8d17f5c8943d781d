"""The training page's form, as data: each setting's widget range, and settings <-> URL query.

Kept apart from the page so it can be tested without Streamlit. A shared URL
holds every field of :class:`~playground.core.config.DQNConfig` plus the chosen
implementation of each component; :func:`settings_from_query` reads one back,
skipping (and reporting) anything it cannot use instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from playground.core.config import ENV_IDS, FIELD_HELP, LOSSES, PRESETS, DQNConfig
from playground.core.facts import IMPLS, is_impl
from playground.tasks import speed
from playground.tasks.training_task import TrainingUpdate

COMPONENT_KEYS: tuple[str, ...] = ("loop", "network", "buffer")
DEFAULT_PRESET = "lineworld"


@dataclass(frozen=True)
class FieldSpec:
    """How one numeric setting is entered: its kind, the range the form allows, the step."""

    name: str
    kind: str  # "int" or "float"
    low: float
    high: float
    step: float

    @property
    def range_text(self) -> str:
        def show(value: float) -> str:
            return f"{int(value):,}" if self.kind == "int" else f"{value:g}"

        return f"{show(self.low)} to {show(self.high)}"


NUMERIC_FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("total_timesteps", "int", 1, 1_000_000, 1_000),
        FieldSpec("learning_rate", "float", 1e-6, 1.0, 1e-4),
        FieldSpec("buffer_size", "int", 1, 1_000_000, 1_000),
        FieldSpec("learning_starts", "int", 0, 1_000_000, 100),
        FieldSpec("batch_size", "int", 1, 4_096, 16),
        FieldSpec("tau", "float", 0.001, 1.0, 0.01),
        FieldSpec("gamma", "float", 0.0, 1.0, 0.01),
        FieldSpec("train_freq", "int", 1, 100_000, 1),
        FieldSpec("gradient_steps", "int", -1, 100_000, 1),
        FieldSpec("target_update_interval", "int", 1, 1_000_000, 10),
        FieldSpec("exploration_fraction", "float", 0.0, 1.0, 0.01),
        FieldSpec("exploration_initial_eps", "float", 0.0, 1.0, 0.01),
        FieldSpec("exploration_final_eps", "float", 0.0, 1.0, 0.01),
        FieldSpec("max_grad_norm", "float", 0.01, 1_000.0, 1.0),
        FieldSpec("seed", "int", 0, 2**31 - 1, 1),
        FieldSpec("eval_freq", "int", 0, 1_000_000, 500),
        FieldSpec("eval_episodes", "int", 1, 100, 1),
    )
}
OTHER_RANGES: dict[str, str] = {
    "env_id": " or ".join(ENV_IDS),
    "hidden_dims": "1 to 8 layers of 1 to 4,096 units, e.g. 128,128",
    "loss": " or ".join(LOSSES),
    "reward_threshold": "any number, or empty for no early stop (needs eval_freq > 0)",
}
FIELD_ORDER: tuple[str, ...] = tuple(f.name for f in fields(DQNConfig))


def range_text(name: str) -> str:
    """The allowed range of a setting, in words."""
    if name in NUMERIC_FIELDS:
        return NUMERIC_FIELDS[name].range_text
    return OTHER_RANGES.get(name, "")


def settings_table(config: DQNConfig) -> list[dict[str, str]]:
    """One row per setting: name, value, range, meaning (for the page's explanation table)."""
    values = config.to_dict()
    return [
        {"setting": name, "value": _show(values[name]), "range": range_text(name), "meaning": FIELD_HELP.get(name, "")}
        for name in FIELD_ORDER
    ]


def parse_hidden_dims(text: str) -> tuple[int, ...]:
    """``"128, 128"`` -> ``(128, 128)``; a clear ``ValueError`` otherwise."""
    parts = [part.strip() for part in str(text).replace(";", ",").split(",") if part.strip()]
    if not parts:
        raise ValueError("hidden_dims needs at least one layer width, e.g. 64 or 128,128")
    try:
        return tuple(int(part) for part in parts)
    except ValueError:
        raise ValueError(f"hidden_dims must be whole numbers separated by commas, got {text!r}") from None


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def settings_to_query(config: DQNConfig, impls: Mapping[str, str], preset: str) -> dict[str, str]:
    """Every setting as strings, ready for ``st.query_params``."""
    query = {name: _show(value) for name, value in config.to_dict().items()}
    query.update({key: str(impls[key]) for key in COMPONENT_KEYS if key in impls})
    query["preset"] = preset
    return query


def _parse(name: str, text: str) -> Any:
    if name == "hidden_dims":
        return parse_hidden_dims(text)
    if name == "reward_threshold":
        return float(text) if text.strip() else None
    if name in ("env_id", "loss"):
        return text
    spec = NUMERIC_FIELDS.get(name)
    if spec is None:
        raise ValueError(f"unknown setting {name!r}")
    value = int(text) if spec.kind == "int" else float(text)
    if not spec.low <= value <= spec.high:
        raise ValueError(f"{name} must be {spec.range_text}")
    return value


@dataclass(frozen=True)
class QuerySettings:
    """What a URL asked for: the config, implementations and preset, with any problems found."""

    config: DQNConfig
    impls: dict[str, str]
    preset: str
    problems: list[str]


def settings_from_query(query: Mapping[str, str]) -> QuerySettings:
    """Read settings from URL query parameters; unusable values fall back to the preset's, with a note."""
    problems: list[str] = []
    preset = str(query.get("preset", DEFAULT_PRESET))
    if preset not in PRESETS:
        problems.append(f"unknown preset {preset!r}; using {DEFAULT_PRESET!r}")
        preset = DEFAULT_PRESET
    parsed: dict[str, Any] = {}
    for name in FIELD_ORDER:
        if name in query:
            try:
                parsed[name] = _parse(name, str(query[name]))
            except (TypeError, ValueError) as err:
                problems.append(f"{name}={query[name]!r} ignored: {err}")
    config = PRESETS[preset]
    try:
        config = config.replace(**parsed)
    except ValueError:
        # Some value is out of range: keep every field that fits, trying twice so that
        # fields that depend on each other (eval_freq and reward_threshold) can land.
        pending = dict(parsed)
        errors: dict[str, str] = {}
        for _ in range(2):
            for name, value in list(pending.items()):
                try:
                    config = config.replace(**{name: value})
                    del pending[name]
                except ValueError as err:
                    errors[name] = str(err)
        problems += [f"{name}={query[name]!r} ignored: {errors[name]}" for name in pending]
    impls = {key: "solutions" for key in COMPONENT_KEYS}
    for key in COMPONENT_KEYS:
        value = query.get(key)
        if value is None:
            continue
        if is_impl(value):
            impls[key] = str(value)
        else:
            problems.append(f"{key}={value!r} ignored: use one of {', '.join(IMPLS)}")
    return QuerySettings(config, impls, preset, problems)


SPEED_KIND = "training"


def duration_hint(config: DQNConfig, runs: int = 1) -> str:
    """How long Train takes with these settings, from this server's measured speed."""
    seconds = speed.estimate(SPEED_KIND, config, runs)
    what = "A run of these settings takes" if runs == 1 else f"{runs} runs of these settings (one after the other) take"
    return (
        f"{what} about {speed.duration_text(seconds)} here "
        f"({speed.measured_note(SPEED_KIND, config)}; less when it stops early at reward_threshold)."
    )


def progress_line(label: str, update: TrainingUpdate | None, elapsed: float) -> tuple[float, str]:
    """(fraction, text) of a run's progress bar."""
    if update is None:
        return 0.0, f"{label}: starting a sandbox process ({elapsed:.0f} s)"
    if update.phase != "training":
        return 1.0, f"{label}: {update.phase} the trained agent after {update.timestep:,} env steps ..."
    extra = f", last greedy mean {update.last_eval_mean:.1f}" if update.last_eval_mean is not None else ""
    return (
        update.fraction,
        f"{label}: step {update.timestep:,} of {update.total_timesteps:,} · {update.episodes_done} episodes · "
        f"epsilon {update.epsilon:.2f}{extra}",
    )


def describe_failure(error: str, output: str) -> str:
    """One error text per failed run: the reason, then the run's last output when it adds something."""
    text = error or "the run returned no result"
    if output and output.strip() not in text:
        text += f"\n\nLast output of the run:\n```\n{output.strip()}\n```"
    return text


def show_state(state: Sequence[float]) -> str:
    """A state vector in a few characters: ``[0.01, -0.03, 0.02, 0.04]``, or the cell of a one-hot state."""
    values = [float(v) for v in state]
    ones = [i for i, v in enumerate(values) if v == 1.0]
    if len(ones) == 1 and all(v in (0.0, 1.0) for v in values):
        return f"one-hot, cell {ones[0]} of {len(values)}"
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"
