"""Facts that several parts of the playground share, each defined once.

* the exercises, read from the manifest ``playground/core/exercises.toml``;
* where the project lives on disk;
* which implementation of an exercise runs (the learner's or the reference),
  with the labels the pages show;
* the return at which an environment counts as solved;
* the seed offsets of the greedy evaluations, so no evaluation replays the
  episodes another one (or training) already saw.
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal, TypeGuard

from playground.core.envs import LINEWORLD_ID, LineWorld

if TYPE_CHECKING:
    from playground.core.config import DQNConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LESSONS_DIR = PROJECT_ROOT / "lessons"

MANIFEST_PATH = Path(__file__).resolve().with_name("exercises.toml")


@dataclass(frozen=True)
class Exercise:
    """One exercise of the manifest (``playground/core/exercises.toml``)."""

    module: str  # exercises/<module>.py, solutions/<module>.py, playground/checks/<module>.py
    title: str  # the heading of its page
    page: str  # the page file, relative to the project root
    nav_title: str  # its entry in the navigation
    icon: str
    functions: tuple[str, ...]  # in the order a learner writes them
    hints: dict[str, tuple[str, ...]]  # function -> its ladder: the idea, the approach, near code


def load_manifest(path: Path = MANIFEST_PATH) -> tuple[Exercise, ...]:
    """The exercises of ``path``, in the lesson's order (``ValueError`` when an entry is incomplete)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    found: list[Exercise] = []
    for entry in data.get("exercise", []):
        try:
            functions = [(str(f["name"]), tuple(str(h) for h in f["hints"])) for f in entry["function"]]
            found.append(
                Exercise(
                    module=str(entry["module"]),
                    title=str(entry["title"]),
                    page=str(entry["page"]),
                    nav_title=str(entry["nav_title"]),
                    icon=str(entry["icon"]),
                    functions=tuple(name for name, _ in functions),
                    hints=dict(functions),
                )
            )
        except (KeyError, TypeError) as err:
            raise ValueError(f"{path.name}: exercise {entry.get('module', '?')!r} lacks {err}") from err
    modules = [exercise.module for exercise in found]
    if len(set(modules)) != len(modules):
        raise ValueError(f"{path.name}: an exercise is listed twice in {modules}")
    return tuple(found)


# The exercises, in the lesson's order: the module names of exercises/ and solutions/, and their titles.
MANIFEST: tuple[Exercise, ...] = load_manifest()
EXERCISES: tuple[str, ...] = tuple(exercise.module for exercise in MANIFEST)
EXERCISE_TITLES: dict[str, str] = {exercise.module: exercise.title for exercise in MANIFEST}


def exercise_info(module: str) -> Exercise:
    """The manifest entry of ``module`` (``KeyError`` for an unknown exercise)."""
    for exercise in MANIFEST:
        if exercise.module == module:
            return exercise
    raise KeyError(module)


Impl = Literal["exercises", "solutions"]
IMPLS: tuple[Impl, ...] = ("exercises", "solutions")
# What a page calls each implementation: a short word for tables and run names, a long one for pickers.
IMPL_SHORT: dict[Impl, str] = {"exercises": "mine", "solutions": "reference"}
IMPL_LABELS: dict[Impl, str] = {"exercises": "mine (exercises/)", "solutions": "reference (solutions/)"}


def is_impl(value: object) -> TypeGuard[Impl]:
    return value in IMPLS


def require_impl(value: object) -> Impl:
    """``value`` as an :data:`Impl`, or a ``ValueError`` naming the allowed values."""
    if not is_impl(value):
        raise ValueError(f"implementation must be one of {', '.join(map(repr, IMPLS))}, got {value!r}")
    return value


def impl_module(impl: object, module: str) -> ModuleType:
    """The module ``<impl>.<module>`` (``exercises.q_network``, say), imported by name.

    Only the sandbox child calls this for ``exercises``: learner code never runs in the app's process.
    """
    return importlib.import_module(f"{require_impl(impl)}.{module}")


# Greedy mean return at which an environment counts as solved. CartPole-v1: Gymnasium's
# reward_threshold. LineWorld-v0: walking straight to the goal, less a float rounding margin.
SOLVED_RETURNS: dict[str, float] = {"CartPole-v1": 475.0, LINEWORLD_ID: LineWorld().optimal_return() - 1e-6}


def solved_return(env_id: str) -> float | None:
    """The solved return of ``env_id``; ``None`` for an environment without one."""
    return SOLVED_RETURNS.get(env_id)


def threshold_text(value: float) -> str:
    """A solved threshold for people: LineWorld's is a hair below 0.4 (float sums), shown as 0.4."""
    return f"{value:.4g}"


def solve_threshold(config: DQNConfig) -> float | None:
    """The greedy mean that counts as solved for a run: its own ``reward_threshold`` when set."""
    if config.reward_threshold is not None:
        return float(config.reward_threshold)
    return solved_return(config.env_id)


# Seed offsets added to a run's seed for its greedy evaluations. Training resets with the run's
# own seed; each kind of evaluation starts far from it and from the others.
EVAL_SEED_OFFSET = 10_000  # evaluations during training (plus the env step they happen at)
EXPERIMENT_EVAL_SEED_OFFSET = 20_000  # the final evaluation of each network-size run
COMPARISON_EVAL_SEED_OFFSET = 100_000  # the final evaluation on the comparison page
FINAL_EVAL_SEED_OFFSET = 1_000_000  # the final evaluation on the training page
