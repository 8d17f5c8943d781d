"""Every hyperparameter of :class:`~playground.core.config.DQNConfig`, explained.

:data:`HYPERPARAMETER_NOTES` holds, per field, its symbol in the lesson's
math, what it controls, and what goes wrong when it is too small or too large.
:func:`hyperparameter_rows` adds each preset's value and Stable-Baselines3's
default (read from the installed SB3, see :func:`playground.sb3.adapter.sb3_default_text`),
ready for a table; :func:`hyperparameter_markdown` renders that table with LaTeX symbols.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from playground.core.config import PRESETS, DQNConfig
from playground.sb3.adapter import format_value, sb3_default_text


@dataclass(frozen=True)
class HyperparameterNote:
    """One setting in plain words. ``symbol`` is LaTeX without dollars ("" when the math has none)."""

    field: str
    symbol: str
    controls: str
    too_small: str
    too_large: str


_NOTES: tuple[HyperparameterNote, ...] = (
    HyperparameterNote(
        "env_id",
        r"s, a, r",
        "The task: which states the agent observes, which actions it has, and what reward it gets.",
        "Not a size. LineWorld-v0 is small enough to learn in seconds and to draw as a full Q-table.",
        "Not a size. CartPole-v1 needs tens of thousands of steps and a network that generalises across states.",
    ),
    HyperparameterNote(
        "total_timesteps",
        "T",
        "Length of the run in environment steps. It also stretches the epsilon schedule, which decays over $fT$ steps.",
        "Training ends before the agent has learned. If learning_starts is at least $T$, not one update happens "
        "and the agent stays untrained.",
        "Time is spent after the task is solved, and a plain DQN can lose a good policy late in a long run: stop "
        "at a reward threshold or keep the best network.",
    ),
    HyperparameterNote(
        "learning_rate",
        r"\alpha",
        r"Adam's step size in $\theta \leftarrow \theta - \alpha \nabla_\theta L(\theta)$.",
        "Q-values creep towards their targets; the learning curve stays flat for most of the budget.",
        "Each update overshoots: Q-values oscillate or blow up, the loss spikes and returns collapse after rising.",
    ),
    HyperparameterNote(
        "buffer_size",
        r"\mathcal{D}",
        r"Capacity of the replay buffer $\mathcal{D}$: how many past transitions it keeps; a new one overwrites "
        "the oldest.",
        "Batches come only from the last few episodes: they are correlated, and rare lessons (what happens just "
        "before the pole falls) are forgotten.",
        "More memory, and the buffer holds early random-policy data for longer, which slows improvement a little.",
    ),
    HyperparameterNote(
        "learning_starts",
        "",
        "Environment steps collected before the first gradient update, so the first batches are varied.",
        "The first updates see a handful of transitions and fit them over and over.",
        "Time is spent acting without learning; at total_timesteps or more the network is never trained.",
    ),
    HyperparameterNote(
        "batch_size",
        "B",
        r"Transitions per gradient update: the $B$ terms averaged in $L(\theta) = \frac{1}{B} \sum_i \ell(\delta_i)$.",
        "Noisy gradients: learning jumps around and needs a smaller learning rate.",
        "Each update costs more, so fewer updates per second; with a small buffer the batches overlap heavily.",
    ),
    HyperparameterNote(
        "tau",
        r"\tau",
        r"How far the target network moves at each target update: $\theta^- \leftarrow \tau \theta + (1 - \tau) "
        r"\theta^-$. At 1 it is a hard copy.",
        "The target barely moves; values spread very slowly, and with a long target interval hardly at all.",
        "1 is the usual hard copy. Near 1 together with a short target interval, the target is just the online "
        "network and its stabilising lag is gone.",
    ),
    HyperparameterNote(
        "gamma",
        r"\gamma",
        r"Weight of the future in $y = r + \gamma (1 - d) \max_{a'} Q_{\theta^-}(s', a')$; the agent looks about "
        r"$1 / (1 - \gamma)$ steps ahead.",
        "Short-sighted: in CartPole it ignores that the pole will fall a few dozen steps later; in LineWorld the "
        "goal's value fades before it reaches the start.",
        r"Values grow large (up to $1 / (1 - \gamma)$ times the reward per step) and errors take long to wash out; "
        "at 1 a task without an end has unbounded values.",
    ),
    HyperparameterNote(
        "train_freq",
        "",
        "Environment steps between training phases. gradient_steps / train_freq is the number of updates per "
        "environment step.",
        "Many updates per step: slow in wall time, and the network can overfit the buffer.",
        "Learning comes in rare bursts and the policy that collects data lags behind what the network knows.",
    ),
    HyperparameterNote(
        "gradient_steps",
        "",
        "Gradient updates in each training phase (-1: as many as the environment steps of the phase).",
        "Too few updates for the data collected: the agent improves slowly per environment step.",
        "Many updates on the same data: slow, and the network overfits old transitions or diverges.",
    ),
    HyperparameterNote(
        "target_update_interval",
        "C",
        r"Environment steps between target updates $\theta^- \leftarrow \theta$ (a blend when $\tau < 1$).",
        "The target moves as fast as the online network: the TD target chases its own estimate, and learning "
        "oscillates or diverges.",
        "Targets stay stale: reward information travels one bootstrapping step per target update, so learning is slow.",
    ),
    HyperparameterNote(
        "exploration_fraction",
        "f",
        r"Share of the run over which $\epsilon$ falls linearly from $\epsilon_{\text{start}}$ to "
        r"$\epsilon_{\text{end}}$.",
        "Exploration ends before the agent has seen enough and it settles on the first policy that works a little.",
        "The agent acts randomly for most of the run: training returns look poor even when the greedy policy "
        "is already good.",
    ),
    HyperparameterNote(
        "exploration_initial_eps",
        r"\epsilon_{\text{start}}",
        "Probability of a random action at the first step.",
        "Early data comes from an untrained greedy network, which may repeat one action and never find reward.",
        "1.0 (fully random) is the usual start; it cannot go higher.",
    ),
    HyperparameterNote(
        "exploration_final_eps",
        r"\epsilon_{\text{end}}",
        "Probability of a random action after the decay, for the rest of the run.",
        "At 0 the agent stops trying other actions, so a wrong early estimate is never corrected.",
        "Random moves keep spoiling training episodes (one bad push can end a CartPole episode): training returns "
        "stay below what the greedy policy reaches.",
    ),
    HyperparameterNote(
        "max_grad_norm",
        r"g_{\max}",
        r"Before each Adam step the gradient is rescaled so that $\lVert \nabla_\theta L \rVert_2 \le g_{\max}$.",
        "Every update is cut down to a tiny step, as if the learning rate were tiny.",
        "No protection: a rare huge TD error (early on, or with the squared loss) makes a step that wrecks the "
        "network.",
    ),
    HyperparameterNote(
        "hidden_dims",
        r"h_1, \dots, h_k",
        r"Widths of the hidden layers of $Q_\theta$ (ReLU between them, a plain linear output).",
        "Too little capacity to represent $Q$ over all states: the curve plateaus below the best return.",
        "More weights: slower updates and noisier early learning, with little gain beyond what the task needs.",
    ),
    HyperparameterNote(
        "loss",
        r"\ell_\kappa",
        r"Penalty on the TD error $\delta = y - Q_\theta(s, a)$: Huber $\ell_\kappa$ ($\delta^2 / 2$ up to "
        r"$\kappa = 1$, linear beyond) "
        r"or squared $\delta^2$.",
        "Huber: the gradient of a large error is capped at 1, which is robust but corrects big errors slowly.",
        "Squared (mse): the gradient grows with the error, so large early errors give large steps that gradient "
        "clipping has to tame.",
    ),
    HyperparameterNote(
        "seed",
        "",
        "Starting point of every random generator: the same seed gives the same run.",
        "Not a size: no seed is better than another.",
        "Not a size. But one seed can be lucky or unlucky: compare implementations or settings over several seeds.",
    ),
    HyperparameterNote(
        "eval_freq",
        "",
        "Environment steps between greedy evaluations during training (0: none).",
        "Evaluation eats a large share of the time: each one plays eval_episodes full episodes.",
        "A solved policy is noticed late or not at all, and the run goes on past the point where it could stop.",
    ),
    HyperparameterNote(
        "eval_episodes",
        "",
        "Greedy episodes per evaluation; their mean decides an early stop.",
        "A noisy mean: one lucky episode can stop the run with an unreliable policy.",
        "Each evaluation takes longer.",
    ),
    HyperparameterNote(
        "reward_threshold",
        "",
        "Greedy mean at which training stops early (CartPole-v1 counts as solved at 475).",
        "Training stops with a mediocre policy.",
        "Never reached (CartPole-v1's maximum return is 500), so the run always uses its whole budget.",
    ),
)

HYPERPARAMETER_NOTES: dict[str, HyperparameterNote] = {note.field: note for note in _NOTES}


def hyperparameter_rows(
    presets: Mapping[str, DQNConfig] = PRESETS, current: DQNConfig | None = None
) -> list[dict[str, str]]:
    """One row per ``DQNConfig`` field, in declaration order.

    Columns: Setting, Symbol (LaTeX, no dollars), What it controls, one column
    per preset (its name), "This run" when ``current`` is given, SB3 default,
    Too small, Too large.
    """
    rows: list[dict[str, str]] = []
    for config_field in dataclasses.fields(DQNConfig):
        note = HYPERPARAMETER_NOTES[config_field.name]
        row = {"Setting": note.field, "Symbol": note.symbol, "What it controls": note.controls}
        for name, preset in presets.items():
            row[name] = format_value(getattr(preset, note.field))
        if current is not None:
            row["This run"] = format_value(getattr(current, note.field))
        row["SB3 default"] = sb3_default_text(note.field)
        row["Too small"] = note.too_small
        row["Too large"] = note.too_large
        rows.append(row)
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


MEANING_COLUMNS = ("Setting", "Symbol", "What it controls", "Too small", "Too large")


def value_columns(rows: list[dict[str, str]]) -> list[str]:
    """Setting, Symbol, the preset columns, "This run" (if present) and "SB3 default"."""
    if not rows:
        return []
    skip = {"What it controls", "Too small", "Too large"}
    return [column for column in rows[0] if column not in skip]


def hyperparameter_markdown(rows: list[dict[str, str]], columns: Sequence[str] | None = None) -> str:
    """A Markdown table of :func:`hyperparameter_rows` (all columns, or ``columns``).

    Setting names are shown as code and symbols as inline LaTeX.
    """
    if not rows:
        return ""
    chosen = list(columns) if columns is not None else list(rows[0])
    lines = ["| " + " | ".join(chosen) + " |", "|" + "---|" * len(chosen)]
    for row in rows:
        cells = []
        for column in chosen:
            value = row[column]
            if column == "Setting":
                value = f"`{value}`"
            elif column == "Symbol":
                value = f"${value}$" if value else "—"
            cells.append(_cell(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
