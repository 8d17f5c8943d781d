"""The reference ``train_dqn`` beside Stable-Baselines3's DQN, on one config and the same seeds.

:func:`run_comparison` trains both, alternating per seed (reference, then
SB3), and keeps plain data only (:class:`~playground.core.results.RunRecord`, :class:`ComparisonResult`),
so it can cross the sandbox boundary; :func:`comparison_task` is its sandbox
entry point for the page. Both trained networks are judged by the same greedy
``evaluate`` (from ``solutions.train_dqn``) on the same seeds. The rest turns
a result into what the page shows: an overlaid learning curve against env steps,
a summary table, a plain-words reading and a CSV episode log.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from playground.core.config import DQNConfig
from playground.core.facts import COMPARISON_EVAL_SEED_OFFSET, impl_module, solved_return
from playground.core.monitor import train_monitored
from playground.core.results import RunRecord, TrainingProgress
from playground.sb3.adapter import EvaluateFn, reference_evaluate, train_sb3, warm_up_torch

Implementation = Literal["mine", "reference", "sb3"]
IMPLEMENTATIONS: tuple[Implementation, ...] = ("reference", "sb3")  # the default plan
ALL_IMPLEMENTATIONS: tuple[Implementation, ...] = ("mine", "reference", "sb3")
IMPL_TITLES: dict[str, str] = {
    "mine": "Mine (exercises/train_dqn.py)",
    "reference": "Reference (train_dqn)",
    "sb3": "Stable-Baselines3 DQN",
}
IMPL_COLORS: dict[str, str] = {"mine": "tab:green", "reference": "tab:blue", "sb3": "tab:orange"}
# The final greedy evaluation of a run uses this seed offset (apart from the in-training ones).
# Greedy mean that counts as "solved" (CartPole-v1's convention; LineWorld's optimal return is 0.4).
PROGRESS_INTERVAL = 0.25  # seconds between progress messages within a run


@dataclass(frozen=True)
class ComparisonProgress:
    """One progress message: which run is going, and how far it is."""

    implementation: str
    seed: int
    run_index: int
    runs_total: int
    timestep: int
    total_timesteps: int
    episode: int
    episode_reward: float
    last_eval_mean: float | None = None
    new_rewards: tuple[float, ...] = ()  # returns of the episodes finished since the previous message
    new_end_steps: tuple[int, ...] = ()  # the env step each of them ended at

    @property
    def fraction(self) -> float:
        """Share of the whole comparison done, from 0 to 1."""
        within = min(self.timestep / max(self.total_timesteps, 1), 1.0)
        return min((self.run_index + within) / max(self.runs_total, 1), 1.0)

    def describe(self) -> str:
        evaluated = "" if self.last_eval_mean is None else f", last greedy mean {self.last_eval_mean:.1f}"
        return (
            f"{IMPL_TITLES.get(self.implementation, self.implementation)}, seed {self.seed} "
            f"(run {self.run_index + 1} of {self.runs_total}): step {self.timestep:,} of {self.total_timesteps:,}, "
            f"episode {self.episode}, return {self.episode_reward:.1f}{evaluated}"
        )


@dataclass(frozen=True)
class ComparisonResult:
    """Both implementations trained on ``config`` with each of ``seeds``."""

    config: DQNConfig
    seeds: tuple[int, ...]
    final_eval_episodes: int
    runs: tuple[RunRecord, ...] = field(default_factory=tuple)
    stopped: bool = False
    notes: tuple[str, ...] = ()  # runs that failed (the learner's loop), in words

    def runs_of(self, implementation: str) -> list[RunRecord]:
        return [run for run in self.runs if run.label == implementation]

    @property
    def implementations(self) -> tuple[str, ...]:
        """The implementations with at least one run, in the page's order (mine, reference, SB3)."""
        return tuple(impl for impl in ALL_IMPLEMENTATIONS if self.runs_of(impl))


def _emit_throttled(
    emit: Callable[[ComparisonProgress], None], implementation: str, seed: int, run_index: int, runs_total: int
) -> Callable[[TrainingProgress], None]:
    """A handler of training progress that emits at most one message every ``PROGRESS_INTERVAL`` s."""
    last = [-math.inf]
    rewards: list[float] = []
    ends: list[int] = []

    def handle(progress: TrainingProgress) -> None:
        rewards.append(float(progress.episode_reward))
        ends.append(int(progress.timestep))
        now = time.monotonic()
        if now - last[0] < PROGRESS_INTERVAL and progress.timestep < progress.total_timesteps:
            return
        last[0] = now
        new_rewards, new_ends = tuple(rewards), tuple(ends)
        rewards.clear()
        ends.clear()
        emit(
            ComparisonProgress(
                implementation=implementation,
                seed=seed,
                run_index=run_index,
                runs_total=runs_total,
                timestep=progress.timestep,
                total_timesteps=progress.total_timesteps,
                episode=progress.episode,
                episode_reward=progress.episode_reward,
                last_eval_mean=progress.last_eval_mean,
                new_rewards=new_rewards,
                new_end_steps=new_ends,
            )
        )

    return handle


def train_one(
    implementation: Implementation,
    config: DQNConfig,
    *,
    final_eval_episodes: int = 20,
    on_progress: Callable[[TrainingProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    evaluate: EvaluateFn | None = None,
) -> tuple[RunRecord, bool]:
    """Train one implementation on ``config`` (its seed), then evaluate it greedily.

    Returns the summary and whether the run was stopped by ``should_stop``.
    """
    evaluate_fn = evaluate if evaluate is not None else reference_evaluate()
    stopped = [False]

    def callback(progress: TrainingProgress) -> bool:
        if on_progress is not None:
            on_progress(progress)
        if should_stop is not None and should_stop():
            stopped[0] = True
            return False
        return True

    run: Any
    if implementation in ("reference", "mine"):  # "mine": the learner's loop, with the reference network and buffer
        loop = impl_module("exercises" if implementation == "mine" else "solutions", "train_dqn")
        run = train_monitored(loop.train_dqn, config, callback=callback, evaluate=loop.evaluate)
    elif implementation == "sb3":
        run = train_sb3(config, callback, evaluate=evaluate_fn)
    else:
        raise ValueError(f"implementation must be 'mine', 'reference' or 'sb3', got {implementation!r}")
    greedy = evaluate_fn(run.q_network, config.env_id, final_eval_episodes, config.seed + COMPARISON_EVAL_SEED_OFFSET)
    return RunRecord.of(run, config, label=implementation, greedy_returns=greedy), stopped[0]


def run_comparison(
    config: DQNConfig,
    seeds: Sequence[int] = (0,),
    *,
    final_eval_episodes: int = 20,
    emit: Callable[[Any], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    implementations: Sequence[str] = IMPLEMENTATIONS,
) -> ComparisonResult:
    """Train each of ``implementations`` (default: the reference and SB3) on ``config`` with every seed.

    Runs alternate per seed, in the order given. A failure of the learner's loop
    ("mine") is kept as a note and the other implementations go on.

    ``emit`` receives :class:`ComparisonProgress` messages while a run goes and
    each :class:`~playground.core.results.RunRecord` as soon as its run is done. When ``should_stop``
    turns true, the current run ends early (and is still evaluated and kept)
    and the remaining runs are skipped.
    """
    seed_list = tuple(int(s) for s in seeds)
    if not seed_list:
        raise ValueError("give at least one seed")
    if final_eval_episodes < 1:
        raise ValueError(f"final_eval_episodes must be at least 1, got {final_eval_episodes!r}")
    unknown = [impl for impl in implementations if impl not in ALL_IMPLEMENTATIONS]
    if unknown or not implementations:
        raise ValueError(f"implementations must be some of {ALL_IMPLEMENTATIONS}, got {tuple(implementations)}")
    warm_up_torch()
    plan = [(seed, impl) for seed in seed_list for impl in implementations]
    runs: list[RunRecord] = []
    notes: list[str] = []
    stopped = False
    for index, (seed, impl) in enumerate(plan):
        if should_stop is not None and should_stop():
            stopped = True
            break
        handler = None if emit is None else _emit_throttled(emit, impl, seed, index, len(plan))
        try:
            summary, was_stopped = train_one(
                impl,  # type: ignore[arg-type]
                config.replace(seed=seed),
                final_eval_episodes=final_eval_episodes,
                on_progress=handler,
                should_stop=should_stop,
            )
        except Exception as err:
            if impl != "mine":
                raise
            from playground.sandbox.child import describe_exception

            notes.append(f"{IMPL_TITLES['mine']}, seed {seed}: {describe_exception(err)}")
            continue
        runs.append(summary)
        if emit is not None:
            emit(summary)
        if was_stopped:
            stopped = True
            break
    return ComparisonResult(config, seed_list, final_eval_episodes, tuple(runs), stopped, tuple(notes))


def comparison_task(
    ctx: Any,
    config: DQNConfig | dict[str, Any],
    seeds: Sequence[int] = (0,),
    final_eval_episodes: int = 20,
    implementations: Sequence[str] = IMPLEMENTATIONS,
) -> ComparisonResult:
    """Sandbox entry (``comparison_task``): progress goes to ``ctx.emit``, Stop comes from ``ctx.should_stop``."""
    cfg = config if isinstance(config, DQNConfig) else DQNConfig.from_dict(config)
    return run_comparison(
        cfg,
        seeds,
        final_eval_episodes=final_eval_episodes,
        emit=ctx.emit,
        should_stop=ctx.should_stop,
        implementations=implementations,
    )


# ----- what the page shows ---------------------------------------------------------------------


def config_from_state(state: Mapping[Any, Any], keys: Sequence[str]) -> DQNConfig | None:
    """The first valid config stored under one of ``keys`` (a ``DQNConfig`` or its ``to_dict()``), else None.

    The training page keeps its current settings in session state; this page offers them when they are valid.
    """
    for key in keys:
        value = state.get(key)
        if isinstance(value, DQNConfig):
            return value
        if isinstance(value, Mapping):
            try:
                return DQNConfig.from_dict(value)
            except (TypeError, ValueError):
                continue
    return None


def smoothed_curve(run: RunRecord, window: int, grid: NDArray[np.float64]) -> NDArray[np.float64]:
    """The ``window``-episode moving average of the run's returns, read at the env steps of ``grid``.

    Between episode ends the curve is interpolated linearly; before the first
    episode end and after the run's last one it is NaN (nothing known there).
    """
    if not run.episode_rewards:
        return np.full(grid.shape, np.nan)
    rewards = np.asarray(run.episode_rewards, dtype=np.float64)
    window = max(1, int(window))
    sums = np.cumsum(np.insert(rewards, 0, 0.0))
    ends = np.arange(1, rewards.size + 1)
    starts = np.maximum(0, ends - window)
    averaged = (sums[ends] - sums[starts]) / (ends - starts)
    steps = np.asarray(run.episode_end_steps, dtype=np.float64)
    curve = np.interp(grid, steps, averaged)
    curve[(grid < steps[0]) | (grid > steps[-1])] = np.nan
    return curve


def mean_curves(
    result: ComparisonResult, window: int = 20, points: int = 200
) -> tuple[NDArray[np.float64], dict[str, NDArray[np.float64]], dict[str, list[NDArray[np.float64]]]]:
    """A shared env-step grid, the mean smoothed curve over seeds per implementation, and each seed's curve."""
    last = max((max(run.episode_end_steps, default=0) for run in result.runs), default=0)
    grid = np.linspace(0.0, float(max(last, 1)), points)
    means: dict[str, NDArray[np.float64]] = {}
    per_seed: dict[str, list[NDArray[np.float64]]] = {}
    for impl in result.implementations:
        curves = [smoothed_curve(run, window, grid) for run in result.runs_of(impl)]
        if not curves:
            continue
        per_seed[impl] = curves
        stacked = np.vstack(curves)
        counts = np.sum(~np.isnan(stacked), axis=0)
        total = np.nansum(stacked, axis=0)
        means[impl] = np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
    return grid, means, per_seed


def learning_curve_figure(result: ComparisonResult, window: int = 20) -> Figure:
    """Both implementations' returns against env steps: each seed faint, the mean over seeds bold."""
    figure = Figure(figsize=(8, 3.8), layout="constrained")
    ax = figure.add_subplot()
    grid, means, per_seed = mean_curves(result, window)
    for impl, curves in per_seed.items():
        color = IMPL_COLORS[impl]
        if len(curves) > 1:
            for curve in curves:
                ax.plot(grid, curve, color=color, alpha=0.25, linewidth=1)
        seeds = len(curves)
        label = f"{IMPL_TITLES[impl]} ({'mean of ' + str(seeds) + ' seeds' if seeds > 1 else '1 seed'})"
        ax.plot(grid, means[impl], color=color, linewidth=2, label=label)
    solved = solved_return(result.config.env_id)
    if solved is not None:
        ax.axhline(solved, color="tab:green", linestyle="--", linewidth=1, label=f"solved ({solved:.3g})")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(f"return (mean of last {window} episodes)")
    ax.set_title(f"{result.config.env_id}: learning curves against env steps")
    ax.grid(alpha=0.3)
    if per_seed:
        ax.legend(loc="best", fontsize="small")
    return figure


def evaluation_figure(result: ComparisonResult) -> Figure | None:
    """Greedy evaluation means made during training (``eval_freq``), per run; None when there were none."""
    if not any(run.eval_steps for run in result.runs):
        return None
    figure = Figure(figsize=(8, 3.2), layout="constrained")
    ax = figure.add_subplot()
    for impl in result.implementations:
        for index, run in enumerate(result.runs_of(impl)):
            label = IMPL_TITLES[impl] if index == 0 else None
            ax.plot(run.eval_steps, run.eval_means, marker="o", color=IMPL_COLORS[impl], alpha=0.8, label=label)
    if result.config.reward_threshold is not None:
        ax.axhline(result.config.reward_threshold, color="tab:green", linestyle="--", linewidth=1, label="threshold")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(f"greedy mean of {result.config.eval_episodes} episodes")
    ax.set_title("Greedy evaluations during training (the same code and seeds for both)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return figure


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def summary_rows(result: ComparisonResult) -> list[dict[str, Any]]:
    """One row per implementation (means over its runs): time, speed, updates, episodes, greedy returns."""
    rows: list[dict[str, Any]] = []
    for impl in result.implementations:
        runs = result.runs_of(impl)
        if not runs:
            continue
        greedy = [g for run in runs for g in run.greedy_returns]
        rows.append(
            {
                "implementation": IMPL_TITLES[impl],
                "runs": len(runs),
                "wall time (s)": round(_mean([r.wall_time for r in runs]), 2),
                "of which evaluating (s)": round(_mean([r.eval_time for r in runs]), 2),
                "env steps": round(_mean([float(r.total_steps) for r in runs])),
                "env steps / s": round(_mean([r.steps_per_second for r in runs]), 1),
                "gradient updates": round(_mean([float(r.gradient_updates) for r in runs])),
                "episodes": round(_mean([float(len(r.episode_rewards)) for r in runs])),
                "greedy mean": round(float(np.mean(greedy)), 2) if greedy else math.nan,
                "greedy std": round(float(np.std(greedy)), 2) if greedy else math.nan,
                "how runs ended": "; ".join(f"seed {r.seed}: {r.stop_reason}" for r in runs),
            }
        )
    return rows


def run_rows(result: ComparisonResult) -> list[dict[str, Any]]:
    """One row per run: implementation, seed, time, speed and the final greedy evaluation."""
    return [
        {
            "implementation": run.label,
            "seed": run.seed,
            "wall time (s)": round(run.wall_time, 3),
            "eval time (s)": round(run.eval_time, 3),
            "env steps": run.total_steps,
            "env steps / s": round(run.steps_per_second, 1),
            "gradient updates": run.gradient_updates,
            "episodes": len(run.episode_rewards),
            "greedy mean": round(run.greedy_mean, 3),
            "greedy std": round(run.greedy_std, 3),
            "stop reason": run.stop_reason,
        }
        for run in result.runs
    ]


def episodes_csv(result: ComparisonResult) -> str:
    """The episode log of every run, long form: implementation, seed, episode, end_step, reward, length."""
    lines = ["implementation,seed,episode,end_step,reward,length"]
    for run in result.runs:
        for i, (reward, length, step) in enumerate(
            zip(run.episode_rewards, run.episode_lengths, run.episode_end_steps, strict=True), start=1
        ):
            lines.append(f"{run.label},{run.seed},{i},{step},{reward:.6g},{length}")
    return "\n".join(lines) + "\n"


def plain_reading(result: ComparisonResult) -> list[str]:
    """A few sentences that say what the numbers mean."""
    ref, sb3, mine = result.runs_of("reference"), result.runs_of("sb3"), result.runs_of("mine")
    lines: list[str] = [f"Your loop failed: {note}" for note in result.notes]
    if result.stopped:
        lines.append("The comparison was stopped early: the numbers below cover only the runs that finished.")
    if mine:
        mine_speed = _mean([r.steps_per_second for r in mine])
        lines.append(
            f"Your loop: {mine_speed:,.0f} env steps per second and a greedy mean of "
            f"{_mean([r.greedy_mean for r in mine]):.2f} over {result.final_eval_episodes} episodes per run "
            "(same settings, seeds and evaluation as the others)."
        )
    if not ref or not sb3:
        lines.append("Only one implementation has results, so there is nothing to compare yet.")
        return lines
    ref_speed = _mean([r.steps_per_second for r in ref])
    sb3_speed = _mean([r.steps_per_second for r in sb3])
    if math.isfinite(ref_speed) and math.isfinite(sb3_speed) and sb3_speed > 0:
        ratio = ref_speed / sb3_speed
        faster = "faster" if ratio >= 1 else "slower"
        factor = ratio if ratio >= 1 else 1 / ratio
        lines.append(
            f"Speed: the reference took {ref_speed:,.0f} env steps per second and SB3 {sb3_speed:,.0f}, so the "
            f"reference was {factor:.1f}x {faster} on the same settings, machine and run (timings shift when other "
            "programs share the CPU)."
        )
    episodes = result.final_eval_episodes
    ref_mean = _mean([r.greedy_mean for r in ref])
    sb3_mean = _mean([r.greedy_mean for r in sb3])
    lines.append(
        f"Greedy play ({episodes} episodes per run, the same evaluation code and seeds for both): the reference "
        f"averaged {ref_mean:.2f} and SB3 {sb3_mean:.2f}."
    )
    threshold = result.config.reward_threshold
    if threshold is not None and result.config.eval_freq > 0:
        parts = []
        for name, runs in (("the reference", ref), ("SB3", sb3)):
            reached = [float(r.total_steps) for r in runs if r.stop_reason.startswith("solved")]
            after = f", after {_mean(reached):,.0f} env steps on average" if reached else ""
            parts.append(f"{name} in {len(reached)} of {len(runs)} runs{after}")
        lines.append(
            f"Early stop at a greedy mean of {threshold:g}: reached by {'; '.join(parts)}. Fewer steps to the "
            "threshold means more learning from each step of experience."
        )
    solved = solved_return(result.config.env_id)
    if solved is not None:
        ref_ok = sum(r.greedy_mean >= solved for r in ref)
        sb3_ok = sum(r.greedy_mean >= solved for r in sb3)
        lines.append(
            f"Solved ({'optimal return' if result.config.env_id == 'LineWorld-v0' else 'greedy mean'} "
            f">= {solved:.3g}): reference {ref_ok} of {len(ref)} runs, SB3 {sb3_ok} of {len(sb3)}."
        )
    if result.config.loss != "huber":
        lines.append(
            f"This config uses the {result.config.loss} loss, which SB3 does not offer (it always uses Huber): "
            "part of any difference in learning comes from the loss."
        )
    if len(result.seeds) == 1:
        lines.append(
            "One seed is one sample: DQN runs vary a lot from seed to seed, so run several seeds before calling "
            "one implementation better at learning. Speed differences are steadier than learning differences."
        )
    else:
        lines.append(
            f"The bold curves are means over {len(result.seeds)} seeds; the faint ones show how much single runs vary."
        )
    return lines


def live_curve_frame(messages: Sequence[Any], window: int = 20, max_points: int = 400) -> Any:
    """Long-form data (implementation, run, env step, return) of every run so far, from a task's messages.

    Finished runs use their :class:`~playground.core.results.RunRecord`; the running one the episodes its
    :class:`ComparisonProgress` messages carried. The return is the moving
    average over ``window`` episodes, thinned to ``max_points`` per run.
    """
    import pandas as pd

    from playground.views.training_plots import moving_average

    episodes: dict[tuple[str, int], tuple[list[int], list[float]]] = {}
    for message in messages:
        if isinstance(message, ComparisonProgress):
            steps, rewards = episodes.setdefault((message.implementation, message.seed), ([], []))
            steps.extend(message.new_end_steps)
            rewards.extend(message.new_rewards)
        elif isinstance(message, RunRecord):
            episodes[(message.label, message.seed)] = (
                list(message.episode_end_steps),
                list(message.episode_rewards),
            )
    frames = []
    for (impl, seed), (steps, rewards) in episodes.items():
        if not rewards:
            continue
        smooth = moving_average(rewards, window)
        stride = max(1, len(smooth) // max_points)
        frames.append(
            pd.DataFrame(
                {
                    "implementation": IMPL_TITLES.get(impl, impl),
                    "run": f"{IMPL_TITLES.get(impl, impl)}, seed {seed}",
                    "env step": np.asarray(steps[: len(smooth)])[::stride],
                    "return": smooth[::stride],
                }
            )
        )
    if not frames:
        return pd.DataFrame({"implementation": [], "run": [], "env step": [], "return": []})
    return pd.concat(frames, ignore_index=True)


def live_curve_chart(frame: Any, window: int = 20) -> Any:
    """Altair lines of :func:`live_curve_frame`: one colour per implementation, one line per seed."""
    import altair as alt

    colors = {IMPL_TITLES[impl]: color.replace("tab:", "") for impl, color in IMPL_COLORS.items()}
    present = [name for name in colors if name in set(frame["implementation"])]
    scale = alt.Scale(domain=present, range=[colors[name] for name in present])
    return (
        alt.Chart(frame, title=f"Return per episode while training (mean of {window})", height=280)
        .mark_line()
        .encode(
            x=alt.X("env step:Q"),
            y=alt.Y("return:Q", title="return"),
            color=alt.Color("implementation:N", scale=scale, legend=alt.Legend(orient="bottom", title=None)),
            detail="run:N",
            tooltip=["run:N", "env step:Q", alt.Tooltip("return:Q", format=".3g")],
        )
    )
