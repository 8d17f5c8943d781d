"""Support for the network-size experiment (exercise 5): progress, parallel runs, reading the result.

* :class:`ExperimentProgress` is what the experiment's callback receives.
* :func:`run_jobs` runs independent training runs one after another, or on
  two cores: this process works through the list while one helper process
  (``spawn``, one torch thread) takes the next free run. Progress of both
  reaches the same callback; a ``False`` from it stops both.
* :func:`intercept_train_dqn` records every ``train_dqn`` call a module makes
  (checks use it to see which architecture each run really trained).
* :func:`solve_threshold` and :func:`read_summary` turn numbers into a verdict.

No learner code is imported here; the functions that run it only run inside
the sandbox child (or in tests and benchmarks).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import pickle
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeGuard, TypeVar

import gymnasium as gym
import pandas as pd

from playground.config import PRESETS, DQNConfig
from playground.envs import LineWorld, register_envs
from playground.results import TrainingProgress
from playground.worker import HEADER, STOP_SIGNALS, WORKER_FD_ENV, write_frame

CONTRACT_COLUMNS: tuple[str, ...] = ("size", "seed", "episode", "timestep", "reward")
WORKERS_ENV = "PLAYGROUND_WORKERS"
# A run costs roughly this much per env step and per gradient update on one core here
# (measured: LineWorld preset 2-3 s per run, CartPole fast and steady presets 2-12 s).
SECONDS_PER_STEP = 3e-5
SECONDS_PER_UPDATE = 9e-4
# Below this estimated serial time, starting a helper process (about 3 s to import torch) does not pay.
PARALLEL_MIN_SECONDS = 10.0


@dataclass(frozen=True)
class ExperimentProgress:
    """What the callback of ``run_network_size_experiment`` receives.

    One message at the end of every training episode of every run
    (``training`` holds that episode's :class:`TrainingProgress`) and one when
    a run ends (``finished=True``, ``training=None``). ``run_index`` counts the
    runs of the experiment from 0 in the order (size, seed); runs may overlap
    when two run at once. The callback returns ``False`` to stop the experiment.
    """

    size: str
    seed: int
    run_index: int
    runs_total: int
    runs_done: int
    training: TrainingProgress | None = None
    finished: bool = False

    @property
    def run_fraction(self) -> float:
        """How far this run is, from 0 to 1 (1 once finished)."""
        if self.finished:
            return 1.0
        if self.training is None or self.training.total_timesteps <= 0:
            return 0.0
        return min(1.0, self.training.timestep / self.training.total_timesteps)


ExperimentCallback = Callable[[ExperimentProgress], bool | None]
"""The experiment's callback: return ``False`` to stop (``None`` or ``True`` go on)."""


def solve_threshold(config: DQNConfig) -> float | None:
    """The greedy mean return that counts as "solved" for ``config``.

    The config's own ``reward_threshold`` when set; otherwise Gymnasium's
    registered threshold (475 for CartPole-v1); for LineWorld the optimal
    return (walk straight to the goal).
    """
    if config.reward_threshold is not None:
        return float(config.reward_threshold)
    register_envs()
    try:
        registered = gym.spec(config.env_id).reward_threshold
    except gym.error.Error:
        registered = None
    if registered is not None:
        return float(registered)
    if config.env_id == "LineWorld-v0":
        return LineWorld().optimal_return() - 1e-6
    return None


def time_to_solve(config: DQNConfig, result: Any, episode_seconds: Sequence[float]) -> tuple[float, float]:
    """(env step, seconds) of a run's first greedy evaluation that reached the threshold; NaNs if none.

    ``result`` is the run's ``TrainingResult``; ``episode_seconds`` the time
    since the start of the run at each episode end. The seconds are read at
    the first episode that ended at or after that step (the whole run when
    it stopped right there, as it does with ``reward_threshold``).
    """
    threshold = solve_threshold(config)
    evaluations = zip(result.eval_steps, result.eval_means, strict=True)
    step = next((s for s, mean in evaluations if threshold is not None and mean >= threshold), None)
    if step is None:
        return math.nan, math.nan
    later = [t for t, end in zip(episode_seconds, result.episode_end_steps, strict=False) if end >= step]
    return float(step), float(later[0] if later else result.wall_time)


def estimated_seconds(config: DQNConfig) -> float:
    """A rough single-core time for one full run of ``config`` (no early stop)."""
    per_phase = config.train_freq if config.gradient_steps == -1 else config.gradient_steps
    phases = max(0, config.total_timesteps // config.train_freq - config.learning_starts // config.train_freq)
    return config.total_timesteps * SECONDS_PER_STEP + phases * per_phase * SECONDS_PER_UPDATE


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def choose_workers(config: DQNConfig, runs: int) -> int:
    """How many processes should train (1: this one only, 2: this one and a helper).

    ``PLAYGROUND_WORKERS`` in the environment overrides the choice (benchmarks
    and tests use it). Otherwise two when there are two cores, two runs or
    more, and enough work to repay starting the helper.
    """
    forced = os.environ.get(WORKERS_ENV, "").strip()
    if forced:
        try:
            count = int(forced)
        except ValueError:
            raise ValueError(f"{WORKERS_ENV} must be 1 or 2, got {forced!r}") from None
        if count not in (1, 2):
            raise ValueError(f"{WORKERS_ENV} must be 1 or 2, got {forced!r}")
        return min(count, max(runs, 1))
    if runs < 2 or available_cores() < 2:
        return 1
    return 2 if runs * estimated_seconds(config) >= PARALLEL_MIN_SECONDS else 1


# ---------------------------------------------------------------------------------------------
# Running jobs here and in a helper process

J = TypeVar("J")
R = TypeVar("R")
Report = Callable[[Any], bool]
"""Inside a job: send one progress message; returns ``False`` when the job should stop now."""


class HelperFailed(RuntimeError):
    """A run in the helper process raised."""


class HelperDied(HelperFailed):
    """The helper process ended while it had a run (killed, out of memory...)."""


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run with one intra-op torch thread (the same arithmetic in every process), then restore."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _stop_signals_blocked() -> Iterator[None]:
    """Hold back SIGUSR1/SIGINT while the helper process starts.

    The sandbox asks a task to stop by sending SIGUSR1 to its whole process
    group, and Ctrl-C reaches every process of a terminal's group: a helper
    still importing torch would die of either. A child inherits the blocked
    mask, sets both signals to "ignore" before it unblocks them, and learns
    about a stop from this process instead. A signal that arrives here
    meanwhile is delivered when the block ends.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


class _Helper:
    """One helper process (``python -m playground.worker``), given one job at a time."""

    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        env = dict(os.environ)
        env[WORKER_FD_ENV] = str(write_fd)
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        with _stop_signals_blocked():
            # Same process group as this one: whoever kills the group kills the helper too.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "playground.worker"], stdin=subprocess.PIPE, pass_fds=(write_fd,), env=env
            )
        os.close(write_fd)
        self.read_fd = read_fd
        self.buffer = bytearray()
        self.busy_with: int | None = None
        self.stop_sent = False
        self._send([p for p in sys.path if p])

    def _send(self, obj: Any) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            write_frame(self.process.stdin, obj)

    def give(self, index: int, func: Callable[[Any, Report], Any], job: Any) -> None:
        self.busy_with = index
        self._send((index, func, job))

    def stop(self) -> None:
        if self.busy_with is not None and not self.stop_sent:
            self.stop_sent = True
            self._send("stop")

    def next_message(self, timeout: float) -> tuple[Any, ...] | None:
        """The next message, waiting up to ``timeout`` s; ``HelperDied`` if the helper died mid-job."""
        message = self._parse()
        if message is not None:
            return message
        if select.select([self.read_fd], [], [], max(timeout, 0.0))[0]:
            data = os.read(self.read_fd, 1 << 16)
            self.buffer.extend(data)
            message = self._parse()
            if message is not None or data:
                return message
        if self.busy_with is not None and self.process.poll() is not None:
            raise HelperDied(
                f"the helper process died (exit code {self.process.returncode}) during run {self.busy_with}"
            )
        return None

    def _parse(self) -> tuple[Any, ...] | None:
        if len(self.buffer) < HEADER.size:
            return None
        (size,) = HEADER.unpack_from(self.buffer)
        if len(self.buffer) < HEADER.size + size:
            return None
        payload = bytes(self.buffer[HEADER.size : HEADER.size + size])
        del self.buffer[: HEADER.size + size]
        message: tuple[Any, ...] = pickle.loads(payload)
        if message and message[0] == "end":
            self.busy_with, self.stop_sent = None, False
        return message

    def close(self) -> None:
        """Ask the helper to exit; kill it if it has not within a few seconds."""
        self.stop()
        self._send(None)
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        deadline = time.monotonic() + 10.0
        while self.process.poll() is None and time.monotonic() < deadline:
            if select.select([self.read_fd], [], [], 0.05)[0] and not os.read(self.read_fd, 1 << 16):
                break  # keep its pipe flowing so it can exit
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5.0)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.read_fd)


def run_jobs(
    func: Callable[[J, Report], R],
    jobs: Sequence[J],
    *,
    workers: int = 1,
    on_message: Callable[[int, Any], bool | None] | None = None,
    on_result: Callable[[int, R | None], bool | None] | None = None,
    costs: Sequence[float] | None = None,
) -> list[R | None]:
    """Run ``func(job, report)`` for every job; results in job order (``None`` for runs never done).

    ``on_message(index, message)`` sees what a job reports; ``on_result(index,
    result)`` sees each finished job. Either returning ``False`` stops: the
    running jobs are told (their ``report`` returns ``False``) and no new job
    starts. With ``workers=2`` a helper process takes the next free job;
    ``func`` must then be a module-level function and jobs and results
    picklable. Callbacks always run in this process. ``costs`` (a rough
    size of each job) makes two processes start the biggest jobs first, so
    neither waits long for the other at the end.
    """
    results: list[R | None] = [None] * len(jobs)
    stopped = False

    def handle_message(index: int, message: Any) -> None:
        nonlocal stopped
        if on_message is not None and on_message(index, message) is False:
            stopped = True

    def handle_result(index: int, result: R | None) -> None:
        nonlocal stopped
        results[index] = result
        if on_result is not None and on_result(index, result) is False:
            stopped = True

    helper = _Helper() if workers >= 2 and len(jobs) >= 2 else None
    pending = list(range(len(jobs)))
    if helper is not None and costs is not None:
        pending.sort(key=lambda index: -costs[index])  # stable: equal costs keep their order

    def pump(wait: float) -> None:
        """Forward the helper's messages; when it is idle, give it the next job."""
        nonlocal helper
        if helper is None:
            return
        try:
            message = helper.next_message(wait)
            while message is not None:
                if message[0] == "progress":
                    handle_message(message[1], message[2])
                elif message[0] == "end":
                    index, result, error = message[1], message[2], message[3]
                    if error:
                        raise HelperFailed(f"run {index} failed in the helper process:\n{error}")
                    handle_result(index, result)
                message = helper.next_message(0)
        except HelperDied as died:
            # Killed for lack of memory, say: run its job again here, and the rest too.
            print(f"{died}; running the remaining runs in this process", file=sys.stderr, flush=True)
            if helper.busy_with is not None:
                pending.insert(0, helper.busy_with)
            helper.close()
            helper = None
            return
        if stopped:
            helper.stop()
        elif helper.busy_with is None and pending:
            index = pending.pop(0)
            helper.give(index, func, jobs[index])

    def report_here(index: int) -> Report:
        def report(message: Any) -> bool:
            handle_message(index, message)
            pump(0)
            return not stopped

        return report

    try:
        pump(0)
        while True:
            if pending and not stopped:
                index = pending.pop(0)
                with one_torch_thread():
                    result = func(jobs[index], report_here(index))
                handle_result(index, result)
                pump(0)
            elif helper is not None and helper.busy_with is not None:
                pump(0.1)  # its run ends soon after a stop, and may still be the last one
            else:
                break
    finally:
        if helper is not None:
            helper.close()
    return results


# ---------------------------------------------------------------------------------------------
# Seeing which runs a module trained


@dataclass
class TrainCall:
    """One call of ``train_dqn`` seen by :func:`intercept_train_dqn`."""

    config: DQNConfig
    kwargs: dict[str, Any]
    result: Any = None
    episode_seconds: list[float] = field(default_factory=list)


def _train_modules(module: ModuleType) -> list[ModuleType]:
    """The modules whose ``train_dqn`` attribute a learner's experiment may call."""
    import solutions.train_dqn  # noqa: F401 - imported so that it is in sys.modules

    found: list[ModuleType] = [module]
    for name in ("solutions.train_dqn", "exercises.train_dqn"):
        loaded = sys.modules.get(name)
        if loaded is not None and all(loaded is not m for m in found):
            found.append(loaded)
    return found


@contextlib.contextmanager
def intercept_train_dqn(module: ModuleType, replacement: Callable[..., Any] | None = None) -> Iterator[list[TrainCall]]:
    """Record every ``train_dqn`` call made through ``module`` or the train_dqn modules.

    Replaces the ``train_dqn`` attribute of ``module`` (for ``from ... import
    train_dqn``) and of ``solutions.train_dqn`` / ``exercises.train_dqn``
    (for ``import solutions.train_dqn as t; t.train_dqn(...)``) with a
    wrapper that calls ``replacement`` (default: the function it replaced),
    times every episode end, and appends a :class:`TrainCall` to the list it
    yields. Everything is restored on exit. Calls made in other processes are
    not seen.
    """
    calls: list[TrainCall] = []
    saved: list[tuple[ModuleType, Any]] = []

    def spy_on(original: Callable[..., Any]) -> Callable[..., Any]:
        def train_dqn(config: DQNConfig, *args: Any, **kwargs: Any) -> Any:
            user_callback = kwargs.get("callback")
            call = TrainCall(config, {k: v for k, v in kwargs.items() if k != "callback"})
            calls.append(call)
            started = time.perf_counter()

            def timed(progress: TrainingProgress) -> bool | None:
                call.episode_seconds.append(time.perf_counter() - started)
                return None if user_callback is None else bool(user_callback(progress) is not False)

            kwargs["callback"] = timed
            call.result = (replacement or original)(config, *args, **kwargs)
            return call.result

        return train_dqn

    try:
        for target in _train_modules(module):
            original = getattr(target, "train_dqn", None)
            if callable(original):
                saved.append((target, original))
                setattr(target, "train_dqn", spy_on(original))  # noqa: B010 - a module attribute mypy cannot see
        yield calls
    finally:
        for target, original in saved:
            setattr(target, "train_dqn", original)  # noqa: B010


# ---------------------------------------------------------------------------------------------
# Reading a summary in plain words


def _finite(value: Any) -> TypeGuard[float]:
    """A finite real number (NumPy scalars included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))


def read_summary(summary: pd.DataFrame) -> str:
    """A few plain sentences on a summary table from ``summarize_experiment``.

    Which size learned fastest (the largest area under its mean curve: it rose
    earliest and stayed high), how it did against the threshold, and whether
    its lead over the runner-up is larger than the spread across seeds (the
    per-seed areas of the two do not overlap) or within it.
    """
    rows = [row for _, row in summary.iterrows() if _finite(row.get("auc_mean"))]
    if not rows:
        return "No run has finished an episode yet, so there is nothing to compare."
    rows.sort(key=lambda row: float(row["auc_mean"]), reverse=True)
    best = rows[0]
    seeds = int(best.get("runs", 0) or 0)
    if len(rows) == 1:
        sentences = [
            f"**{best['size']}** (the only size that ran): average smoothed return {float(best['auc_mean']):.3g} "
            "over the run."
        ]
    else:
        sentences = [
            f"**{best['size']}** learned fastest: the largest area under its mean curve "
            f"(average smoothed return {float(best['auc_mean']):.3g} over the run)."
        ]
    if _finite(best.get("steps_to_solve")):
        solved = int(best.get("solved", 0) or 0)
        when = f"a median of {float(best['steps_to_solve']):,.0f} env steps"
        if _finite(best.get("seconds_to_solve")):
            when += f" ({float(best['seconds_to_solve']):.1f} s)"
        sentences.append(f"It reached the threshold in {solved} of {seeds} seeds, after {when}.")
    unsolved = [str(row["size"]) for row in rows if "solved" in row and _finite(row["solved"]) and row["solved"] == 0]
    if unsolved and "steps_to_solve" in summary:
        sentences.append(f"Never solved on any seed: {', '.join(unsolved)}.")
    if len(rows) == 1:
        sentences.append("Only one size ran: pick at least two to compare them.")
        return " ".join(sentences)
    runner = rows[1]
    if seeds < 2:
        sentences.append(
            f"With one seed per size there is no spread to compare with, so the lead over {runner['size']} "
            "may be luck: run two seeds or more."
        )
        return " ".join(sentences)
    best_low, runner_high = float(best["auc_min"]), float(runner["auc_max"])
    if best_low > runner_high:
        sentences.append(
            f"The lead over the runner-up {runner['size']} is larger than the spread across seeds: "
            f"every seed of {best['size']} (worst {best_low:.3g}) beat every seed of {runner['size']} "
            f"(best {runner_high:.3g})."
        )
    else:
        sentences.append(
            f"But the lead over the runner-up {runner['size']} is within the spread across seeds: their "
            f"seeds overlap ({best['size']} {best_low:.3g} to {float(best['auc_max']):.3g}, {runner['size']} "
            f"{float(runner['auc_min']):.3g} to {runner_high:.3g}), so this ranking could change with other "
            "seeds. More seeds would tell."
        )
    return " ".join(sentences)


# ---------------------------------------------------------------------------------------------
# What the page's task sends back


@dataclass(frozen=True)
class ExperimentData:
    """One experiment as plain data (it crosses from the sandbox to the app).

    ``columns`` is the DataFrame as ``{column: values}``; ``figure_png`` the
    chart drawn by the implementation's own ``plot_learning_curves`` (or
    ``None``, with ``plot_error`` saying why).
    """

    impl: str
    columns: dict[str, list[Any]]
    figure_png: bytes | None
    plot_error: str
    runs_total: int
    stopped: bool
    config: dict[str, Any]
    sizes: dict[str, list[int]]
    seeds: list[int]
    window: int
    wall_time: float

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns)

    @property
    def runs_done(self) -> int:
        if not self.columns.get("size"):
            return 0
        return int(self.frame().groupby(["size", "seed"]).ngroups)


def plain_columns(df: pd.DataFrame) -> dict[str, list[Any]]:
    """``df`` as lists of builtins (str, int, float, bool, None), safe to send to the app."""
    columns: dict[str, list[Any]] = {}
    for name in df.columns:
        values = df[name].tolist()
        if not all(v is None or isinstance(v, (str, int, float, bool)) for v in values):
            values = [v if v is None or isinstance(v, (str, int, float, bool)) else str(v) for v in values]
        columns[str(name)] = values
    return columns


# ---------------------------------------------------------------------------------------------
# The page's two settings


@dataclass(frozen=True)
class ExperimentSetting:
    """A base config for the experiment page, with the budget range its form offers."""

    label: str
    config: DQNConfig
    min_steps: int
    max_steps: int
    step: int
    window: int
    note: str


def _experiment_settings() -> dict[str, ExperimentSetting]:
    lineworld = PRESETS["lineworld"].replace(eval_freq=250, eval_episodes=1)
    quick = ExperimentSetting(
        "Quick: LineWorld-v0",
        lineworld,
        min_steps=500,
        max_steps=20_000,
        step=500,
        window=10,
        note="LineWorld preset; a greedy episode every 250 steps records when each run first walks straight "
        "to the goal (return 0.4). Runs use their whole budget.",
    )
    steady = PRESETS["steady"]
    cartpole = ExperimentSetting(
        "CartPole-v1 (steady preset)",
        steady,
        min_steps=5_000,
        max_steps=100_000,
        step=5_000,
        window=20,
        note="The steady preset (the fast preset's schedule lets the smallest network diverge): a greedy "
        f"evaluation of {steady.eval_episodes} episodes every {steady.eval_freq:,} steps, and a run stops once its "
        f"mean reaches {steady.reward_threshold:g} (the chart then holds its last value).",
    )
    return {setting.label: setting for setting in (quick, cartpole)}


EXPERIMENT_SETTINGS: dict[str, ExperimentSetting] = _experiment_settings()


def _plus_minus(mean: Any, spread: Any, digits: int) -> str:
    if not _finite(mean):
        return "-"
    return f"{float(mean):.{digits}f} ± {float(spread):.{digits}f}" if _finite(spread) else f"{float(mean):.{digits}f}"


def _number(value: Any, pattern: str) -> str:
    return pattern.format(float(value)) if _finite(value) else "-"


def display_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as short strings for a table on the page (mean ± std in one cell, "-" for unknown)."""
    rows = []
    for _, row in summary.iterrows():
        solved = row.get("solved")
        rows.append(
            {
                "size": str(row["size"]),
                "parameters": _number(row.get("parameters"), "{:,.0f}"),
                "solved": f"{int(solved)} of {int(row['runs'])}" if _finite(solved) else "-",
                "steps to solve": _number(row.get("steps_to_solve"), "{:,.0f}"),
                "s to solve": _number(row.get("seconds_to_solve"), "{:.1f}"),
                "final greedy": _plus_minus(row.get("greedy_mean"), row.get("greedy_std"), 1),
                "area under curve": _plus_minus(row.get("auc_mean"), row.get("auc_std"), 3),
            }
        )
    return pd.DataFrame(rows)


def plural(count: int, noun: str) -> str:
    """``plural(1, "run")`` -> "1 run", ``plural(3, "run")`` -> "3 runs"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def experiment_progress(messages: Sequence[ExperimentProgress], runs_total: int) -> tuple[float, str]:
    """(fraction, text) of an experiment's progress bar from all its messages so far.

    Two runs may train at once: the text names every run in progress with its
    own percentage, instead of jumping between them message by message.
    """
    if not messages:
        return 0.0, "starting a sandbox process ..."
    fractions: dict[int, float] = {}
    latest: dict[int, ExperimentProgress] = {}
    for message in messages:
        fractions[message.run_index] = max(fractions.get(message.run_index, 0.0), message.run_fraction)
        latest[message.run_index] = message
    total = max(runs_total, messages[-1].runs_total, 1)
    done = sum(1 for f in fractions.values() if f >= 1.0)
    parts = []
    for index in sorted(latest):
        message = latest[index]
        if fractions[index] >= 1.0:
            continue
        reward = ""
        if message.training is not None:
            reward = f", last return {message.training.episode_reward:.2f}"
        parts.append(f"{message.size} seed {message.seed}: {fractions[index]:.0%}{reward}")
    text = f"{done} of {plural(total, 'run')} done"
    if parts:
        text += " · training " + "; ".join(parts)
    return min(1.0, sum(fractions.values()) / total), text
