"""Mutation testing of the checks: do they notice when a reference solution breaks?

For each solution module, Cosmic Ray (8.7) makes mutants (one small change each:
``<`` to ``<=``, ``+`` to ``-``, ``True`` to ``False``, a number plus one, ...)
and runs ``python -m playground.check <exercise> --impl solutions`` on each. A
mutant the checks fail is *killed*; one they pass *survived*: either a gap in
the checks, or an *equivalent* mutant (one that changes no behaviour the
contract promises, listed in :data:`EQUIVALENT` with the reason, and in
docs/MUTATION.md).

Mutations are applied only in a scratch copy of the repository (``--workdir``),
never in the checkout this script lives in. Usage::

    python tools/mutation.py                        # every module, then the table
    python tools/mutation.py train_dqn --functions td_loss update_target
    python tools/mutation.py --report-only          # the table of the last run
    python tools/mutation.py q_network --sample 5   # a quick smoke run

The table counts, per module: mutants run, killed (the checks failed),
timeouts (the checks ran past the per-mutant limit: counted as killed),
survived, equivalent (survivors listed in :data:`EQUIVALENT`), and the score
``(killed + timeouts) / (mutants - equivalent)``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MODULES: tuple[str, ...] = ("train_dqn", "network_sizes", "q_network", "replay_buffer", "save_load")
DEFAULT_WORKDIR = Path(os.environ.get("TMPDIR", "/tmp")) / "dqn-playground-mutation"
# Operators that make mostly nonsense on this code (bit shifts and bitwise ops on floats, raising to
# a power): left out to keep a run short. Everything else Cosmic Ray has is used.
EXCLUDED_OPERATORS: tuple[str, ...] = (
    r"core/ReplaceBinaryOperator_.*_(RShift|LShift|BitOr|BitAnd|BitXor|Pow)$",
    r"core/ReplaceBinaryOperator_(RShift|LShift|BitOr|BitAnd|BitXor|Pow)_.*",
    r"core/ReplaceBinaryOperator_.*_(FloorDiv|Mod)$",
)
IGNORED_COPY = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "*.sqlite", "node_modules"
)


@dataclass(frozen=True)
class Equivalent:
    """A surviving mutant that changes no behaviour of the contract, and why."""

    module: str
    function: str
    operator: str  # a prefix of the Cosmic Ray operator name
    line: str  # the stripped source line that is mutated (exact)
    mutated: str  # the stripped line after the mutation (exact; "" for any mutant of this operator on the line)
    reason: str


_LOSS_REASON = (
    "DQNConfig admits only loss 'huber' or 'mse', and as strings 'mse' > 'huber', so the test is True for "
    "'huber' only, as with =="
)
_COPY_REASON = "astype(copy=True) makes a copy the loss only reads: same values, same loss and gradient"
_LAYOUT_REASON = (
    "the file layout is the reference's own (the contract leaves it to the learner, so no check can write such a "
    "file for every implementation), and save_model never writes one"
)
_REMAINDER_REASON = "a remainder is never negative, so <= 0 means == 0"
_PROBE_REASON = (
    "only how often epsilon and the probe Q-values are recorded: at least as often as the reference, and always at "
    "the last step; the contract asks for 'now and then'"
)
_EVAL_SEED_REASON = (
    "the contract leaves the seeds of the evaluations during training open (the checks ask that they are greedy, "
    "seeded and on a fresh environment)"
)
_FIGURE_REASON = "only the size of the figure or the width of a line that stays visible"
EQUIVALENT: tuple[Equivalent, ...] = (
    Equivalent(
        "network_sizes",
        "_record",
        "core/ReplaceBinaryOperator_Add_",
        "seed = EXPERIMENT_EVAL_SEED_OFFSET + config.seed",
        "",
        "the contract leaves the seed of the final greedy evaluation open (its column is an optional extra)",
    ),
    Equivalent(
        "network_sizes",
        "<module>",
        "core/NumberReplacer",
        "_FINAL_EVAL_EPISODES = 10",
        "",
        "only how many greedy episodes stand behind the optional final_greedy_mean column; the contract leaves it open",
    ),
    Equivalent(
        "network_sizes",
        "_plan_runs",
        "core/ReplaceComparisonOperator_NotEq_",
        "if len(set(seeds)) != len(seeds):",
        "",
        "refusing repeated seeds is the reference's extra (the contract does not ask for it); and a set is never "
        "longer than its list, so > never holds",
    ),
    Equivalent(
        "network_sizes",
        "report",
        "core/ReplaceComparisonOperator_Is_Eq",
        "stop = stop or callback(message) is False",
        "stop = stop or callback(message) == False",
        "a callback returns bool or None (the contract), and for those == False and is False agree",
    ),
    Equivalent(
        "network_sizes",
        "<module>",
        "core/ReplaceTrueWithFalse",
        "@dataclass(frozen=True)",
        "@dataclass(frozen=False)",
        "the run plan is built once and never changed: only whether it could be",
    ),
    Equivalent(
        "network_sizes",
        "run_network_size_experiment",
        "core/ReplaceTrueWithFalse",
        "report(None, finished=True)",
        "report(None, finished=False)",
        "the exercise's contract asks for a message at every episode end only; the run-end message is the "
        "reference's extra (its flag is not part of what a learner must send)",
    ),
    Equivalent(
        "network_sizes",
        "_long_form",
        "core/ReplaceTrueWithFalse",
        "return pd.concat(frames, ignore_index=True)",
        "return pd.concat(frames, ignore_index=False)",
        "only the row labels; the long form is read by its columns",
    ),
    Equivalent(
        "network_sizes",
        "_curves_on_grid",
        "core/ReplaceFalseWithTrue",
        'for (size, _seed), run in df.groupby(["size", "seed"], sort=False):',
        "",
        "sizes then come in sorted order instead of the order they first appear: the contract fixes no order of "
        "the lines or the summary's rows",
    ),
    Equivalent(
        "network_sizes",
        "summarize_experiment",
        "core/ReplaceFalseWithTrue",
        '.groupby(["size", "seed"], sort=False)[["parameters", "solved_step", "solved_seconds", "final_greedy_mean"]]',
        "",
        "the per-run table is read by .loc[size], so its order does not matter",
    ),
    Equivalent(
        "network_sizes",
        "<module>",
        "core/NumberReplacer",
        "_CURVE_POINTS = 200",
        "",
        "only how many grid points the curves are drawn on",
    ),
    Equivalent(
        "network_sizes",
        "_curves_on_grid",
        "core/NumberReplacer",
        'grid = np.linspace(0.0, float(df["timestep"].max()), points)',
        "",
        "only where the drawing grid starts, one env step before or after 0: the curves hold the same values at "
        "the same steps",
    ),
    Equivalent(
        "network_sizes",
        "_curves_on_grid",
        "core/NumberReplacer",
        'smoothed = run["reward"].rolling(window, min_periods=1).mean().to_numpy(dtype=np.float64)',
        'smoothed = run["reward"].rolling(window, min_periods= 0).mean().to_numpy(dtype=np.float64)',
        "every rolling window holds at least the current episode, so min_periods 0 and 1 give the same means",
    ),
    Equivalent(
        "network_sizes",
        "plot_learning_curves",
        "core/NumberReplacer",
        'line = ax.plot(grid, mean, linewidth=2, label=f"{size} (mean of {len(runs)})")[0]',
        "",
        "only the mean line's width (still visible), or [-1] for [0] of the one line ax.plot returns",
    ),
    Equivalent(
        "network_sizes",
        "summarize_experiment",
        "core/NumberReplacer",
        '"greedy_std": mine["final_greedy_mean"].std(ddof=0),',
        '"greedy_std": mine["final_greedy_mean"].std(ddof= 1),',
        "the suggested greedy_std may be the population or the sample standard deviation (the check accepts both)",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceBinaryOperator_Add_",
        "q_network, config.env_id, config.eval_episodes, seed=config.seed + EVAL_SEED_OFFSET + steps",
        "",
        _EVAL_SEED_REASON,
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceBinaryOperator_Mul_Div",
        "*,",
        "/,",
        "q_network_cls, buffer_cls and callback may then be passed by position too: every call the contract shows "
        "(by keyword) works the same",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_",
        "if (steps % log_every == 0 or steps == total) and not record_probe(steps):",
        "",
        _PROBE_REASON,
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Eq_LtE",
        "if t % log_every == 0:",
        "",
        _REMAINDER_REASON,
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Eq_LtE",
        "if steps % config.target_update_interval == 0:",
        "",
        _REMAINDER_REASON,
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Eq_",
        "updates_per_phase = config.train_freq if config.gradient_steps == -1 else config.gradient_steps",
        "",
        "DQNConfig refuses gradient_steps below -1, so <= -1 means == -1; and -1 is a cached small int, so 'is' "
        "means ==",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_NotEq_",
        "if result.probe_steps[-1] != steps:",
        "",
        "the probe's last step is never above the current one, so < means !=; 'is not' can only record the last "
        "point twice (same step, same values)",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Lt_LtE",
        "explore = explore_rng.random() < epsilon",
        "",
        "differs only when the generator returns exactly epsilon (a chance of about 2^-53 per step)",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceFalseWithTrue",
        "target_network.requires_grad_(False)",
        "",
        "the TD target is computed under torch.no_grad(), so no gradient reaches the target network either way: "
        "only memory",
    ),
    Equivalent("train_dqn", "<module>", "core/NumberReplacer", "LOG_POINTS = 500", "", _PROBE_REASON),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/NumberReplacer",
        "episode_reward, episode_length, steps = 0.0, 0, 0",
        "episode_reward, episode_length, steps = 0.0, 0, -1",
        "steps is set to t + 1 before it is read in every step, and DQNConfig refuses total_timesteps below 1",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/",
        'f"diverged: the TD loss became {values[-1]} at env step {steps} (update {len(result.losses)}); "',
        "",
        "only the number quoted in stop_reason's sentence; the contract asks that it starts with 'diverged'",
    ),
    Equivalent(
        "train_dqn",
        "plot_rewards",
        "core/NumberReplacer",
        'figure = Figure(figsize=(7, 3.5), layout="constrained")',
        "",
        _FIGURE_REASON,
    ),
    Equivalent(
        "train_dqn",
        "plot_rewards",
        "core/NumberReplacer",
        'ax.plot(episodes, episode_rewards, color="tab:blue", alpha=0.3, linewidth=1, label="episode return")',
        'ax.plot(episodes, episode_rewards, color="tab:blue", alpha=0.3, linewidth= 2, label="episode return")',
        _FIGURE_REASON,
    ),
    Equivalent(
        "train_dqn",
        "plot_rewards",
        "core/NumberReplacer",
        'ax.axhline(threshold, color="tab:green", linestyle="--", linewidth=1, label=f"solved ({threshold:g})")',
        'ax.axhline(threshold, color="tab:green", linestyle="--", linewidth= 2, label=f"solved ({threshold:g})")',
        _FIGURE_REASON,
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Eq_NotEq",
        "if (steps % log_every == 0 or steps == total) and not record_probe(steps):",
        "if (steps % log_every == 0 or steps != total) and not record_probe(steps):",
        "the probe Q-values are then logged at every step: only how often (the contract says now and then)",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Eq_LtE",
        "if (steps % log_every == 0 or steps == total) and not record_probe(steps):",
        "if (steps % log_every == 0 or steps <= total) and not record_probe(steps):",
        "the probe Q-values are then logged at every step: only how often (the contract says now and then)",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Eq_IsNot",
        "if (steps % log_every == 0 or steps == total) and not record_probe(steps):",
        "if (steps % log_every == 0 or steps is not total) and not record_probe(steps):",
        "the probe Q-values are then logged at every step: only how often (the contract says now and then)",
    ),
    Equivalent(
        "network_sizes",
        "_weights",
        "core/",
        "return sum(a * b for a, b in itertools.pairwise(hidden_dims)) + sum(hidden_dims)",
        "",
        "a cost estimate that only orders the runs between the two processes: the results are the same",
    ),
    Equivalent(
        "network_sizes",
        "_plan_runs",
        "core/ReplaceComparisonOperator_NotEq_Lt",
        "if len(set(seeds)) != len(seeds):",
        "if len(set(seeds)) < len(seeds):",
        "a set is never longer than its list, so < means !=",
    ),
    Equivalent(
        "network_sizes",
        "on_result",
        "core/ReplaceTrueWithFalse",
        "return progress(index, None, finished=True)",
        "return progress(index, None, finished=False)",
        "the exercise's contract asks for a message at every episode end only; the run-end message is the "
        "reference's extra (its flag is not part of what a learner must send)",
    ),
    Equivalent(
        "network_sizes",
        "_curves_on_grid",
        "core/NumberReplacer",
        "values = np.where(last >= 0, smoothed[np.clip(last, 0, None)], np.nan)",
        "values = np.where(last >= -1, smoothed[np.clip(last, 0, None)], np.nan)",
        "the curve then starts at step 0 with the first episode's value, as np.interp (which the exercise allows) does",
    ),
    Equivalent(
        "train_dqn",
        "plot_rewards",
        "core/NumberReplacer",
        'episodes, moving_average(episode_rewards, window), color="tab:blue", linewidth=2, label=f"mean of {window}"',
        'episodes, moving_average(episode_rewards, window), color="tab:blue", linewidth= 1, label=f"mean of {window}"',
        "only the average line's width (still drawn, still visible)",
    ),
    Equivalent(
        "train_dqn",
        "plot_rewards",
        "core/NumberReplacer",
        'episodes, moving_average(episode_rewards, window), color="tab:blue", linewidth=2, label=f"mean of {window}"',
        'episodes, moving_average(episode_rewards, window), color="tab:blue", linewidth= 3, label=f"mean of {window}"',
        "only the average line's width (still drawn, still visible)",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/NumberReplacer",
        "state_dim = int(np.prod(env.observation_space.shape or (1,)))",
        "",
        "the fallback is used only by an observation space without a shape; both environments have one",
    ),
    Equivalent(
        "network_sizes",
        "_train_run",
        "core/ReplaceBinaryOperator_Add_",
        "returns = evaluate(result.q_network, run.config.env_id, _FINAL_EVAL_EPISODES, "
        "seed=_FINAL_EVAL_SEED + run.seed)",
        "",
        "the contract leaves the seed of the final greedy evaluation open (and LineWorld's reset ignores it)",
    ),
    Equivalent(
        "network_sizes",
        "<module>",
        "core/NumberReplacer",
        "_FINAL_EVAL_SEED = 20_000  # plus the run's seed: far from the seeds training uses",
        "",
        "the contract leaves the seed of the final greedy evaluation open (and LineWorld's reset ignores it)",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Eq_LtE",
        "if steps % config.train_freq == 0 and steps > config.learning_starts and len(buffer) >= config.batch_size:",
        "if steps % config.train_freq <= 0 and steps > config.learning_starts and len(buffer) >= config.batch_size:",
        "a remainder is never negative, so <= 0 means == 0",
    ),
    Equivalent(
        "replay_buffer",
        "__init__",
        "core/",
        "self.rng = np.random.default_rng(np.random.randint(0, 2**31 - 1))",
        "",
        "only the range the private generator's seed is drawn from: any seed drawn from NumPy's global generator "
        "keeps the batches reproducible",
    ),
    Equivalent(
        "replay_buffer",
        "__init__",
        "core/NumberReplacer",
        "self.states: NDArray[np.float32] = np.empty((0,), dtype=np.float32)",
        "",
        "a placeholder: the first push sees that its shape is not (capacity, *state_shape) and allocates",
    ),
    Equivalent(
        "replay_buffer",
        "__init__",
        "core/NumberReplacer",
        "self.next_states: NDArray[np.float32] = np.empty((0,), dtype=np.float32)",
        "",
        "a placeholder: the first push allocates next_states together with states",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Gt_NotEq",
        "if config.eval_freq > 0 and steps % config.eval_freq == 0 and not stop_reason:",
        "if config.eval_freq != 0 and steps % config.eval_freq == 0 and not stop_reason:",
        "DQNConfig rejects a negative eval_freq, so != 0 means > 0",
    ),
    Equivalent(
        "train_dqn",
        "update_target",
        "core/ReplaceComparisonOperator_GtE_Gt",
        "if tau >= 1.0:",
        "if tau > 1.0:",
        "for tau = 1 the other branch, lerp_(param, 1.0), gives the online weights too",
    ),
    Equivalent(
        "train_dqn",
        "gradient_phase",
        "core/ReplaceTrueWithFalse",
        "optimizer.zero_grad(set_to_none=True)",
        "optimizer.zero_grad(set_to_none=False)",
        "gradients set to zero instead of None: backward() gives the same gradients either way",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceOrWithAnd",
        'stop_reason = stop_reason or f"diverged: Q-values of the probe state are not finite at env step {steps}"',
        'stop_reason = stop_reason and f"diverged: Q-values of the probe state are not finite at env step {steps}"',
        "non-finite Q-values make the next update's loss non-finite, so the run still stops as 'diverged' "
        "(one update later); the contract allows stopping on either",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceBinaryOperator_Add_",
        "returns = evaluate(q_network, config.env_id, config.eval_episodes, seed=config.seed + 10_000 + steps)",
        "",
        "the contract leaves the seed of the evaluations during training open; any fixed rule is reproducible",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Eq_LtE",
        "if config.eval_freq > 0 and steps % config.eval_freq == 0 and not stop_reason:",
        "if config.eval_freq > 0 and steps % config.eval_freq <= 0 and not stop_reason:",
        "a remainder is never negative, so <= 0 means == 0",
    ),
    Equivalent(
        "train_dqn",
        "update_target",
        "core/ReplaceComparisonOperator_GtE_Eq",
        "if tau >= 1.0:",
        "if tau == 1.0:",
        "DQNConfig rejects tau > 1, so >= 1 means == 1",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Eq_GtE",
        "if t % log_every == 0:",
        "if t % log_every >= 0:",
        "only how often epsilon is logged (every step instead of every log_every): the contract says now and then",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_NotEq_Gt",
        "if result.probe_steps[-1] != steps:",
        "if result.probe_steps[-1] > steps:",
        "only whether one more probe record is added after the loop (the contract says now and then)",
    ),
    Equivalent(
        "network_sizes",
        "_curves_on_grid",
        "core/NumberReplacer",
        "window = max(1, int(window))",
        "window = max( 0, int(window))",
        "the same for every window >= 1 (the page's slider starts at 1)",
    ),
    Equivalent(
        "network_sizes",
        "_curves_on_grid",
        "core/NumberReplacer",
        "values = np.where(last >= 0, smoothed[np.clip(last, 0, None)], np.nan)",
        "values = np.where(last >= 0, smoothed[np.clip(last, -1, None)], np.nan)",
        "the clip only changes indices where last < 0, and np.where puts NaN there anyway",
    ),
    Equivalent(
        "network_sizes",
        "plot_learning_curves",
        "core/NumberReplacer",
        "seeds = 0",
        "",
        "only the number of seeds quoted in the title",
    ),
    Equivalent(
        "network_sizes",
        "plot_learning_curves",
        "core/NumberReplacer",
        "ax.fill_between(grid, low, high, color=line.get_color(), alpha=0.2, linewidth=0)",
        "",
        "only the band's look (its opacity or edge width)",
    ),
    Equivalent(
        "network_sizes",
        "run_network_size_experiment",
        "core/ReplaceTrueWithFalse",
        "return pd.concat(frames, ignore_index=True)",
        "return pd.concat(frames, ignore_index=False)",
        "only the row labels; the long form is read by its columns",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/NumberReplacer",
        "episode_reward, episode_length, steps = 0.0, 0, 0",
        "episode_reward, episode_length, steps = 0.0, 0, 1",
        "steps is set at the top of every loop pass, and the loop runs at least once (total_timesteps >= 1)",
    ),
    Equivalent(
        "network_sizes",
        "plot_learning_curves",
        "core/NumberReplacer",
        'figure = Figure(figsize=(8, 4.2), layout="constrained")',
        "",
        "only the figure's size in inches",
    ),
    Equivalent(
        "network_sizes",
        "summarize_experiment",
        "core/NumberReplacer",
        '"parameters": mine["parameters"].iloc[0],',
        "",
        "every run of a size has the same parameter count, so any row gives it",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceUnaryOperator_USub_Not",
        "mean, threshold = result.eval_means[-1], config.reward_threshold",
        "mean, threshold = result.eval_means[not 1], config.reward_threshold",
        "only the wording of stop_reason (the mean it quotes); the stop itself is unchanged",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/NumberReplacer",
        "log_every = max(1, total // LOG_POINTS)",
        "log_every = max( 2, total // LOG_POINTS)",
        "only how often epsilon and the probe Q-values are logged (the contract says now and then)",
    ),
    Equivalent(
        "train_dqn",
        "update_target",
        "core/ReplaceTrueWithFalse",
        "for target_param, param in zip(target_network.parameters(), q_network.parameters(), strict=True):",
        "for target_param, param in zip(target_network.parameters(), q_network.parameters(), strict=False):",
        "the target is built with the online network's class and sizes, so both lists have the same length",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Eq_Is",
        "if (steps % log_every == 0 or steps == total) and not record_probe(steps):",
        "if (steps % log_every == 0 or steps is total) and not record_probe(steps):",
        "when the last step is not logged in the loop, it is logged right after it (probe_steps[-1] != steps)",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/ReplaceComparisonOperator_Is_Eq",
        "if callback(progress) is False:",
        "if callback(progress) == False:",
        "a callback returns bool or None (the contract), and for those == False and is False agree",
    ),
    Equivalent(
        "train_dqn",
        "train_dqn",
        "core/NumberReplacer",
        "mean, threshold = result.eval_means[-1], config.reward_threshold",
        "mean, threshold = result.eval_means[- 0], config.reward_threshold",
        "only the wording of stop_reason (the mean it quotes); the stop itself is unchanged",
    ),
    Equivalent(
        "train_dqn",
        "evaluate",
        "core/ReplaceComparisonOperator_Eq_LtE",
        "state, _ = env.reset(seed=seed if episode == 0 else None)",
        "state, _ = env.reset(seed=seed if episode <= 0 else None)",
        "episode counts from 0, so <= 0 and == 0 pick the same (first) episode",
    ),
    Equivalent(
        "train_dqn",
        "td_loss",
        "core/ReplaceComparisonOperator_Eq_LtE",
        'if loss == "huber":',
        'if loss <= "huber":',
        _LOSS_REASON,
    ),
    Equivalent(
        "train_dqn",
        "td_loss",
        "core/ReplaceFalseWithTrue",
        "s = torch.from_numpy(states.astype(np.float32, copy=False))",
        "s = torch.from_numpy(states.astype(np.float32, copy=True))",
        _COPY_REASON,
    ),
    Equivalent(
        "train_dqn",
        "td_loss",
        "core/ReplaceFalseWithTrue",
        "a = torch.from_numpy(actions.astype(np.int64, copy=False)).reshape(-1, 1)",
        "a = torch.from_numpy(actions.astype(np.int64, copy=True)).reshape(-1, 1)",
        _COPY_REASON,
    ),
    Equivalent(
        "train_dqn",
        "td_loss",
        "core/ReplaceFalseWithTrue",
        "r = torch.from_numpy(rewards.astype(np.float32, copy=False)).reshape(-1)",
        "r = torch.from_numpy(rewards.astype(np.float32, copy=True)).reshape(-1)",
        _COPY_REASON,
    ),
    Equivalent(
        "train_dqn",
        "td_loss",
        "core/ReplaceFalseWithTrue",
        "s_next = torch.from_numpy(next_states.astype(np.float32, copy=False))",
        "s_next = torch.from_numpy(next_states.astype(np.float32, copy=True))",
        _COPY_REASON,
    ),
    Equivalent(
        "train_dqn",
        "td_loss",
        "core/ReplaceFalseWithTrue",
        "d = torch.from_numpy(dones.astype(np.float32, copy=False)).reshape(-1)",
        "d = torch.from_numpy(dones.astype(np.float32, copy=True)).reshape(-1)",
        _COPY_REASON,
    ),
    Equivalent(
        "train_dqn",
        "update_target",
        "core/NumberReplacer",
        "if tau >= 1.0:",
        "if tau >= 2.0:",
        "tau never exceeds 1 (DQNConfig rejects it), and for tau = 1 the other branch, lerp_(param, 1.0), "
        "gives the online weights too: both copy",
    ),
    Equivalent(
        "replay_buffer",
        "push",
        "core/ReplaceComparisonOperator_NotEq_Lt",
        "if self.states.shape[1:] != state_arr.shape or self.states.shape[0] != self.capacity:",
        "if self.states.shape[1:] != state_arr.shape or self.states.shape[0] < self.capacity:",
        "the storage has 0 rows (the placeholder) or capacity rows, never more, so < capacity means != capacity",
    ),
    *(
        Equivalent(
            "save_load",
            "_sizes_of",
            "core/",
            line,
            "",
            "the fallback for a network without state_dim / action_dim / hidden_dims attributes: the exercise's "
            "save_model reads those attributes (its docstring says so), so the contract never hands it such a network",
        )
        for line in (
            "linears = [module for module in q_network.modules() if isinstance(module, nn.Linear)]",
            "if not linears:",
            "return linears[0].in_features, linears[-1].out_features, [layer.out_features for layer in linears[:-1]]",
        )
    ),
    Equivalent(
        "save_load",
        "_sizes_of",
        "core/AddNot",
        "if all(hasattr(q_network, name) for name in _ARCHITECTURE_KEYS):",
        "",
        "for a CustomQNetwork the Linear layers give the same sizes as its attributes",
    ),
    Equivalent(
        "save_load",
        "load_model",
        "core/ReplaceComparisonOperator_NotEq_Gt",
        "if expected != found:",
        "if expected > found:",
        "an early guard against sizes that would allocate more than the file holds; weights holding more numbers "
        "than the sizes say are still refused, by load_state_dict, with ValueError",
    ),
    Equivalent(
        "save_load",
        "_load_in_order",
        "core/ReplaceComparisonOperator_NotEq_Gt",
        "if len(targets) != len(sources) or any(t.shape != s.shape for t, s in zip(targets, sources, strict=True)):",
        "if len(targets) > len(sources) or any(t.shape != s.shape for t, s in zip(targets, sources, strict=True)):",
        "with fewer targets than sources zip(strict=True) raises ValueError itself: the file is still refused "
        "with ValueError",
    ),
    Equivalent(
        "save_load",
        "_load_in_order",
        "core/ReplaceComparisonOperator_NotEq_IsNot",
        "if len(targets) != len(sources) or any(t.shape != s.shape for t, s in zip(targets, sources, strict=True)):",
        "if len(targets) is not len(sources) or "
        "any(t.shape != s.shape for t, s in zip(targets, sources, strict=True)):",
        "the tensor counts are small ints (cached by Python), so 'is not' means !=",
    ),
    Equivalent(
        "save_load",
        "_load_in_order",
        "core/ReplaceTrueWithFalse",
        "if len(targets) != len(sources) or any(t.shape != s.shape for t, s in zip(targets, sources, strict=True)):",
        "if len(targets) != len(sources) or any(t.shape != s.shape for t, s in zip(targets, sources, strict=False)):",
        "the zip is reached only when the two lists have the same length",
    ),
    Equivalent(
        "save_load",
        "_load_in_order",
        "core/ReplaceTrueWithFalse",
        "for target, source in zip(targets, sources, strict=True):",
        "for target, source in zip(targets, sources, strict=False):",
        "the lengths were compared just before: the two lists have the same length",
    ),
    Equivalent(
        "save_load",
        "_load_in_order",
        "core/ReplaceUnaryOperator_Delete_Not",
        "if not all(source.is_floating_point() for source in sources):",
        "if  all(source.is_floating_point() for source in sources):",
        "weights under other names are then refused with ValueError instead of loaded by position: the contract "
        "asks a file with wrong keys to be refused, and loading them by position is the reference's extra",
    ),
    Equivalent(
        "save_load",
        "_read_checkpoint",
        "core/ReplaceComparisonOperator_Gt_IsNot",
        "if not isinstance(version, int) or version > FORMAT_VERSION:",
        "if not isinstance(version, int) or version is not FORMAT_VERSION:",
        "save_model writes version 1 (a cached small int, so 'is not' means !=); only a file with a version below 1, "
        "which nothing writes, would differ, and the file layout is the reference's own (the contract leaves it open)",
    ),
    Equivalent(
        "save_load",
        "<module>",
        "core/NumberReplacer",
        "FORMAT_VERSION = 1",
        "",
        "the version written and the highest version read change together: files round-trip the same",
    ),
    Equivalent(
        "save_load",
        "_is_size",
        "core/ReplaceAndWithOr",
        "return isinstance(value, int) and not isinstance(value, bool) and value >= 1",
        "return isinstance(value, int) or not isinstance(value, bool) and value >= 1",
        "only a file whose sizes are bools or below 1 is read differently, and it is still refused: a size below 1 "
        "by CustomQNetwork or the parameter count (ValueError), True as 1; save_model writes neither, and the "
        "file layout is the reference's own",
    ),
    Equivalent(
        "save_load",
        "_read_checkpoint",
        "core/ReplaceComparisonOperator_Gt_NotEq",
        "if not isinstance(version, int) or version > FORMAT_VERSION:",
        "if not isinstance(version, int) or version != FORMAT_VERSION:",
        "save_model writes version 1; only a file with a version below 1, which nothing writes, would differ, and "
        "the file layout is the reference's own (the contract leaves it open)",
    ),
    Equivalent(
        "save_load",
        "_why_unreadable",
        "core/AddNot",
        'if isinstance(err, pickle.UnpicklingError) and "WeightsUnpickler" in text and "operand" not in text:',
        'if not isinstance(err, pickle.UnpicklingError) and "WeightsUnpickler" in text and "operand" not in text:',
        "only which of two plain-words messages the ValueError carries: the file is refused either way and "
        "nothing in it runs",
    ),
    Equivalent(
        "save_load",
        "_load_in_order",
        "core/ReplaceTrueWithFalse",
        "return True",
        "return False",
        "weights under other names are then refused with ValueError instead of loaded by position: the contract "
        "asks a file with wrong keys to be refused, and loading them by position is the reference's extra",
    ),
    Equivalent(
        "replay_buffer",
        "push",
        "core/NumberReplacer",
        'raise ValueError(f"state shape {state_arr.shape} differs from the stored {self.states.shape[1:]}")',
        "",
        "only the shape quoted in the error message: the state is refused with ValueError all the same",
    ),
    Equivalent(
        "save_load",
        "_read_checkpoint",
        "core/ReplaceComparisonOperator_NotEq_Is",
        "if fmt != FORMAT:",
        "if fmt is FORMAT:",
        "only a file whose 'format' marker names another layout is then read instead of refused: " + _LAYOUT_REASON,
    ),
    Equivalent(
        "save_load",
        "_architecture",
        "core/ReplaceOrWithAnd",
        "if not isinstance(hidden, (list, tuple)) or not all(_is_size(width) for width in hidden):",
        "if not isinstance(hidden, (list, tuple)) and not all(_is_size(width) for width in hidden):",
        "only a file whose hidden_dims list holds non-sizes is read differently: " + _LAYOUT_REASON,
    ),
    Equivalent(
        "save_load",
        "_architecture",
        "core/ZeroIterationForLoop",
        'for name, value in (("state_dim", state_dim), ("action_dim", action_dim)):',
        "",
        "only a file whose state_dim or action_dim is not a positive int is read differently: " + _LAYOUT_REASON,
    ),
    *(
        Equivalent(
            "save_load",
            "_load_in_order",
            "core/",
            line,
            "",
            "a mutant here that passes 'weights under other names' loads them exactly or refuses them with "
            "ValueError: the contract asks a file with wrong keys to be refused, loading them by position is the "
            "reference's extra",
        )
        for line in (
            (
                "if len(targets) != len(sources) or "
                "any(t.shape != s.shape for t, s in zip(targets, sources, strict=True)):"
            ),
            "if not all(source.is_floating_point() for source in sources):",
        )
    ),
    Equivalent(
        "save_load",
        "_read_checkpoint",
        "core/",
        "if fmt != FORMAT:",
        "",
        "only a file whose 'format' marker names another layout is read differently: " + _LAYOUT_REASON,
    ),
    Equivalent(
        "save_load",
        "_read_checkpoint",
        "core/AddNot",
        "if checkpoint and all(isinstance(value, Tensor) for value in checkpoint.values()):",
        "",
        "a bare state_dict is then refused a step later, for its missing sizes: still a ValueError, another message",
    ),
    Equivalent(
        "save_load",
        "_is_size",
        "core/ReplaceAndWithOr",
        "return isinstance(value, int) and not isinstance(value, bool) and value >= 1",
        "return isinstance(value, int) and not isinstance(value, bool) or value >= 1",
        "only a file whose sizes are floats or bools is read differently: " + _LAYOUT_REASON,
    ),
    *(
        Equivalent(
            "save_load",
            function,
            "core/",
            line,
            "",
            "only the wording of the ValueError's message: the file is refused either way and nothing in it runs",
        )
        for function, line in (
            ("_first_line", 'return "; ".join(lines[:3])'),
            ("_why_unreadable", "if isinstance(err, pickle.UnpicklingError):"),
            (
                "_why_unreadable",
                'if isinstance(err, pickle.UnpicklingError) and "WeightsUnpickler" in text and "operand" not in text:',
            ),
            (
                "_why_unreadable",
                (
                    'f"refused: the file contains pickled Python objects ({refused.group(1)}), '
                    'and rebuilding them could run "'
                ),
            ),
        )
    ),
    *(
        Equivalent(
            "save_load",
            "_plain",
            "core/",
            line,
            "",
            "only how the optional config (which save_model may ignore) is written: the file still loads with "
            "weights_only=True and load_model returns the network alone",
        )
        for line in (
            "if value is None or isinstance(value, (bool, int, str)):",
            "if isinstance(value, (list, tuple)):",
            "return value if math.isfinite(value) else str(value)",
            "if isinstance(value, Mapping):",
        )
    ),
    Equivalent(
        "save_load",
        "load_model",
        "core/ReplaceComparisonOperator_NotEq_Lt",
        "if expected != found:",
        "if expected < found:",
        "a file whose sizes claim more parameters than its weights hold is still refused with ValueError (by "
        "load_state_dict), only after building the network; the contract does not cover that allocation",
    ),
    Equivalent(
        "save_load",
        "_load_in_order",
        "core/ReplaceFalseWithTrue",
        "return False",
        "return True",
        "reached only for weights under other names, of the right shapes, that are not floating point: no "
        "save_model writes integer weights, and loading by position is the reference's extra",
    ),
    Equivalent(
        "save_load",
        "_read_checkpoint",
        "core/ReplaceOrWithAnd",
        "if not isinstance(version, int) or version > FORMAT_VERSION:",
        "if not isinstance(version, int) and version > FORMAT_VERSION:",
        "only a file whose format_version is too new or not an int is read differently: " + _LAYOUT_REASON,
    ),
    Equivalent(
        "save_load",
        "_is_size",
        "core/NumberReplacer",
        "return isinstance(value, int) and not isinstance(value, bool) and value >= 1",
        "return isinstance(value, int) and not isinstance(value, bool) and value >= 0",
        "a size of 0 in a file is still refused with ValueError, by CustomQNetwork; save_model never writes one",
    ),
    Equivalent(
        "save_load",
        "save_model",
        "core/ReplaceBinaryOperator_Mul_Div",
        "*,",
        "/,",
        "config may then be passed by position too: every call the contract shows (config=...) works the same",
    ),
    Equivalent(
        "save_load",
        "_read_checkpoint",
        "core/ReplaceComparisonOperator_Gt_Lt",
        "if not isinstance(version, int) or version > FORMAT_VERSION:",
        "if not isinstance(version, int) or version < FORMAT_VERSION:",
        "only a file whose format_version is not 1 is read differently: " + _LAYOUT_REASON,
    ),
    Equivalent(
        "save_load",
        "_plain",
        "core/AddNot",
        "if value is None or isinstance(value, (bool, int, str)):",
        "if not value is None or isinstance(value, (bool, int, str)):",
        "the optional config (which save_model may ignore) is then kept as it is: DQNConfig.to_dict() holds only "
        "plain values already, so the file still loads with weights_only=True",
    ),
    *(
        Equivalent(
            module,
            "_positive_int",
            "core/NumberReplacer",
            "number = 0",
            "number = -1",
            "the stand-in for a non-number only has to be below 1: -1 is refused with the same ValueError as 0",
        )
        for module in ("q_network", "replay_buffer")
    ),
    Equivalent(
        "replay_buffer",
        "_positive_int",
        "core/NumberReplacer",
        "number = 0",
        "number = 1",
        "a capacity that is not an integer is then refused by np.zeros with TypeError instead of ValueError: the "
        "contract types capacity as int, and the check accepts either refusal",
    ),
)


@dataclass
class Outcome:
    module: str
    function: str
    operator: str
    line_no: int
    line: str
    status: str  # killed, timeout, survived, equivalent, error
    diff: str
    key: tuple[str, int, int, int]


def scratch_copy(workdir: Path, name: str) -> Path:
    """A fresh copy of the repository in ``workdir/name`` (mutations are applied there only)."""
    target = workdir / name / "repo"
    if target.resolve() == REPO or REPO in target.resolve().parents:
        raise SystemExit("the scratch copy must live outside the repository")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(REPO, target, ignore=IGNORED_COPY)
    return target


def sessions(workdir: Path, module: str) -> list[Path]:
    """Every session of ``module`` in ``workdir``: ``<module>.sqlite`` and tagged ``<module>-<tag>.sqlite``."""
    found = [*workdir.glob(f"{module}.sqlite"), *workdir.glob(f"{module}-*.sqlite")]
    return sorted(found, key=lambda path: path.stat().st_mtime)  # the newest result of a mutant wins


def write_config(workdir: Path, name: str, module: str, timeout: float) -> Path:
    config = workdir / f"{name}.toml"
    command = f"{sys.executable} -m playground.check {module} --impl solutions"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "solutions/{module}.py"\n'
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f'test-command = "{command}"\n\n'
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    return config


def cosmic_ray(*args: str, cwd: Path) -> None:
    tool = Path(sys.executable).with_name("cosmic-ray")
    subprocess.run([str(tool), *args], cwd=cwd, check=True)


def select(
    session: Path,
    functions: Sequence[str],
    sample: int | None,
    seed: int,
    only: set[tuple[str, int, int, int]] | None = None,
) -> int:
    """Mark as skipped every mutant outside ``functions`` or the operator set (or the sample, or ``only``)."""
    import re

    from cosmic_ray.work_db import WorkDB, use_db  # type: ignore[import-untyped]
    from cosmic_ray.work_item import WorkerOutcome, WorkResult  # type: ignore[import-untyped]

    excluded = re.compile("|".join(f"(?:{e})" for e in EXCLUDED_OPERATORS))
    skipped = WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output="not selected")
    with use_db(str(session), WorkDB.Mode.open) as db:
        items = list(db.work_items)
        keep = []
        for item in items:
            mutation = item.mutations[0]
            wanted = not excluded.match(mutation.operator_name) and (
                not functions or (mutation.definition_name or "") in functions
            )
            if only is not None:
                wanted = _key(mutation) in only
            if wanted:
                keep.append(item.job_id)
        if sample is not None and len(keep) > sample:
            keep = sorted(random.Random(seed).sample(keep, sample))
        chosen = set(keep)
        drop = [item.job_id for item in items if item.job_id not in chosen]
        if drop:
            db.set_multiple_results(drop, skipped)
        return len(chosen)


def outcomes(workdir: Path, module: str) -> list[Outcome]:
    """What happened to every mutant that ran in the sessions of ``module`` (a mutant counts once)."""
    found: dict[tuple[str, int, int, int], Outcome] = {}
    for session in sessions(workdir, module):
        for key, outcome in _session_outcomes(workdir, module, session):
            found[key] = outcome  # a later session (a rerun) replaces an earlier result
    return list(found.values())


def _session_outcomes(workdir: Path, module: str, session: Path) -> list[tuple[tuple[str, int, int, int], Outcome]]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    copies = [workdir / session.stem / "repo", workdir / module / "repo", workdir / "repo"]
    copy = next(path for path in [*copies, REPO] if (path / "solutions" / f"{module}.py").exists())
    source = (copy / "solutions" / f"{module}.py").read_text().splitlines()
    results: list[tuple[tuple[str, int, int, int], Outcome]] = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        by_job = dict(db.results)
        for item in db.work_items:
            result = by_job.get(item.job_id)
            if result is None or result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            mutation = item.mutations[0]
            line_no = mutation.start_pos[0]
            removed = [
                d[1:].strip() for d in (result.diff or "").splitlines() if d.startswith("-") and not d.startswith("---")
            ]
            line = removed[0] if removed else (source[line_no - 1].strip() if 0 < line_no <= len(source) else "")
            function = mutation.definition_name or "<module>"
            if result.worker_outcome != WorkerOutcome.NORMAL:
                status = "error"
            elif result.test_outcome == TestOutcome.SURVIVED:
                added = [
                    d[1:].strip() for d in (result.diff or "").splitlines() if d.startswith("+") and d[:3] != "+++"
                ]
                same = _equivalent(module, function, mutation.operator_name, line, added[0] if added else "")
                status = "equivalent" if same else "survived"
            elif (result.output or "").strip() == "timeout":
                status = "timeout"
            else:
                status = "killed"
            key = _key(mutation)
            diff = result.diff or ""
            outcome = Outcome(module, function, mutation.operator_name, line_no, line, status, diff, key)
            results.append((key, outcome))
    return results


def _key(mutation: Any) -> tuple[str, int, int, int]:
    return (mutation.operator_name, mutation.occurrence, mutation.start_pos[0], mutation.start_pos[1])


def _equivalent(module: str, function: str, operator: str, line: str, mutated: str) -> bool:
    return any(
        (e.module, e.function, e.line) == (module, function, line)
        and e.mutated in ("", mutated)
        and operator.startswith(e.operator)
        for e in EQUIVALENT
    )


def table(rows: Iterable[tuple[str, list[Outcome]]]) -> str:
    rows = list(rows)
    width = max([14, *(len(name) + 1 for name, _ in rows)])
    names = ("mutants", "killed", "timeout", "survived", "equiv", "error")
    header = f"{'module':<{width}} " + " ".join(names) + "  score"
    lines = [header, "-" * len(header)]
    totals = [0, 0, 0, 0, 0, 0]
    for name, found in rows:
        counts = [len(found)] + [sum(o.status == s for o in found) for s in ("killed", "timeout", "survived")]
        counts += [sum(o.status == "equivalent" for o in found), sum(o.status == "error" for o in found)]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        lines.append(_row(name, counts, width))
    lines.append("-" * len(header))
    lines.append(_row("all", totals, width))
    return "\n".join(lines)


def _row(name: str, counts: Sequence[int], width: int = 14) -> str:
    total, killed, timeout, survived, equivalent, error = counts
    judged = total - equivalent - error
    score = f"{100 * (killed + timeout) / judged:5.1f}%" if judged else "    -"
    return f"{name:<{width}} {total:>7} {killed:>6} {timeout:>7} {survived:>8} {equivalent:>5} {error:>5}  {score}"


def survivors(found: Iterable[Outcome]) -> str:
    lines = []
    for o in found:
        if o.status == "survived":
            lines.append(f"  {o.module}.{o.function}:{o.line_no} {o.operator}\n      {o.line}")
            diff = [d for d in o.diff.splitlines() if d.startswith(("+", "-")) and not d.startswith(("+++", "---"))]
            lines.extend(f"      {d}" for d in diff)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"any of {', '.join(MODULES)} (default: all)")
    parser.add_argument("--functions", nargs="*", default=[], help="only mutants inside these functions")
    parser.add_argument("--sample", type=int, default=None, help="run a random sample of this many mutants")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant (Cosmic Ray's timeout)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="scratch directory")
    parser.add_argument("--report-only", action="store_true", help="print the table of the last run")
    parser.add_argument("--tag", default="", help="name this session <module>-<tag> (keeps earlier sessions)")
    parser.add_argument("--survivors", action="store_true", help="rerun only the survivors of earlier sessions")
    parser.add_argument("--equivalents", action="store_true", help="print the equivalent mutants as a Markdown table")
    parser.add_argument("--by-function", action="store_true", help="one row per function instead of per module")
    args = parser.parse_args(argv)
    if args.equivalents:
        print("| where | line | mutant | why it is equivalent |\n|---|---|---|---|")
        for e in EQUIVALENT:
            print(f"| `{e.module}.{e.function}` | `{e.line}` | `{e.mutated or e.operator}` | {e.reason} |")
        return 0
    modules = args.modules or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    workdir: Path = args.workdir.resolve()
    if not args.report_only:
        workdir.mkdir(parents=True, exist_ok=True)
        for module in modules:
            only = {o.key for o in outcomes(workdir, module) if o.status == "survived"} if args.survivors else None
            name = f"{module}-{args.tag}" if args.tag else module
            repo = scratch_copy(workdir, name)
            config = write_config(workdir, name, module, args.timeout)
            session = workdir / f"{name}.sqlite"
            session.unlink(missing_ok=True)
            cosmic_ray("init", str(config), str(session), cwd=repo)
            chosen = select(session, args.functions, args.sample, args.seed, only)
            print(f"{module}: {chosen} mutants to run", flush=True)
            cosmic_ray("exec", str(config), str(session), cwd=repo)
    found = [(module, outcomes(workdir, module)) for module in modules]
    if args.by_function:
        rows: dict[str, list[Outcome]] = {}
        for module, outs in found:
            for o in outs:
                rows.setdefault(f"{module}.{o.function}", []).append(o)
        print(table(sorted(rows.items())))
    else:
        print(table(found))
    text = survivors(o for _, outs in found for o in outs)
    if text:
        print("\nsurvivors:\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
