"""Hints on request: a short ladder per function of each exercise (no Streamlit here).

Each function of an exercise has up to three hints, revealed one at a time
and always in this order: **the idea** (what the function is for, in words),
**the approach** (the steps, the tools to use), and **near code** (the line or
two that do it, or the trap to avoid). The stubs in ``exercises/`` say *what*
to implement and its contract; how to implement it lives in the ladders of the
exercise manifest, ``playground/core/exercises.toml``.

The first hint after a failing check is about *that* failure: a check may
carry its own hint (what it exercises, where such a failure comes from;
``hint=`` of :func:`playground.checks.check`), and :func:`hint_after` shows it
once, before the ladder of the check's function (it counts under the key
``"check: <name>"``), but only when the failure blames the function the check
tests: a failure pinned on another function opens that function's ladder. A check
that tells causes apart in its message may carry a hint per cause
(``cause_hints=``), shown instead of its own hint when the message names that
cause; such a hint may be about another function (a round trip that finds the
file without the saved weights helps with ``save_model``).

Which function a ladder is about: the function of the first failing check (each
check declares the function it tests, and :mod:`playground.checks.aim` blames
the function that holds the bug; a check that was not run counts for nothing),
else the first function named in a failing message, else the first function of
the exercise whose ladder has hints left. How many hints a learner has seen is a plain mapping
``{exercise: {function: count}}``: the app keeps it in session state, the
command line (``python -m playground.check EXERCISE --hint``) in a small JSON
file in the user's cache directory (:func:`state_path`), never in the project.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from playground.checks import checks_for
from playground.core.facts import MANIFEST

LEVELS: tuple[str, ...] = ("The idea", "The approach", "Near code")
STATE_ENV = "PLAYGROUND_HINT_STATE"  # overrides where the command line keeps its hint positions
CHECK_KEY = "check: "  # a check's own hint counts under "check: <its name>" beside the functions' ladders
CAUSE_SEPARATOR = " / "  # a check's hint about one cause counts under "check: <its name> / <the cause's phrase>"

Revealed = Mapping[str, Mapping[str, int]]  # exercise -> function -> hints seen

# exercise -> function -> its ladder, from the exercise manifest (playground/core/exercises.toml).
HINTS: dict[str, dict[str, tuple[str, ...]]] = {exercise.module: dict(exercise.hints) for exercise in MANIFEST}


class FailedCheck(Protocol):
    """What a hint needs of a check result."""

    @property
    def passed(self) -> bool: ...

    @property
    def message(self) -> str: ...

    @property
    def check(self) -> str: ...


@dataclass(frozen=True)
class HintStep:
    """One hint: the ``level``-th (from 1) of ``total`` for ``function`` of ``exercise``.

    With ``check`` set it is that check's own hint (level 1 of 1), shown before ``function``'s ladder;
    with ``cause`` set too, the check's hint for that cause (:class:`playground.checks.CauseHint`).
    """

    exercise: str
    function: str
    level: int
    total: int
    text: str
    check: str = ""
    cause: str = ""

    @property
    def key(self) -> str:
        """Where :func:`reveal` counts it: the function, ``"check: <name>"`` for a check's hint, and
        ``"check: <name> / <cause>"`` for its hint about one cause."""
        if not self.check:
            return self.function
        return CHECK_KEY + self.check + (CAUSE_SEPARATOR + self.cause if self.cause else "")

    @property
    def label(self) -> str:
        if self.check:
            return f"{self.function}: about the failing check '{self.check}'"
        return f"{self.function}: hint {self.level} of {self.total} ({LEVELS[self.level - 1].lower()})"

    @property
    def last(self) -> bool:
        """True when this is the last hint of the function's ladder (a check's hint never is)."""
        return not self.check and self.level >= self.total


def ladder(exercise: str) -> dict[str, tuple[str, ...]]:
    """Function -> its hints, in the order they are revealed (``KeyError`` for an unknown exercise)."""
    return HINTS[exercise]


def _mentions(message: str, function: str) -> bool:
    short = function.rsplit(".", 1)[-1]
    pattern = rf"(?<![\w]){re.escape(function)}(?!\w)|(?<![\w]){re.escape(short)}(?!\w)"
    return re.search(pattern, message) is not None


def failing_functions(exercise: str, results: Iterable[FailedCheck]) -> list[str]:
    """The functions that hold the bugs, in the order of the checks.

    A result that knows its function (``function``, set by the check registry)
    counts for it unless it was not run; one that does not counts for the
    first function its message names.
    """
    found: list[str] = []
    functions = ladder(exercise)
    for result in results:
        if result.passed or getattr(result, "status", "") == "not_run":
            continue
        own = getattr(result, "function", "")
        if own in functions:
            if own not in found:
                found.append(own)
            continue
        for function in functions:
            if function not in found and _mentions(result.message, function):
                found.append(function)
                break  # the first function a message names is the one it is about
    return found


def _standing(result: FailedCheck) -> bool:
    return not result.passed and getattr(result, "status", "") != "not_run"


def check_hint(exercise: str, results: Iterable[FailedCheck], revealed: Revealed) -> HintStep | None:
    """The hint of the first failing check (not one that was not run), if it has one and it was not shown yet.

    A check's hint is about the function it tests: when the failing result blames another function (a
    sampling check that found a ``push`` that drops transitions), there is none, and the ladder of the
    blamed function opens instead, unless the check has a hint for that cause
    (:meth:`playground.checks.CheckSpec.hint_for`: a cause named in the message, blaming that function).
    """
    first = next((result for result in results if _standing(result)), None)
    if first is None:
        return None
    spec = next((spec for spec in checks_for(exercise) if spec.name == first.check), None)
    if spec is None:
        return None
    own = getattr(first, "function", "") or spec.tests
    found = spec.hint_for(first.message, own)
    if found is None:
        return None
    text, cause = found
    step = HintStep(exercise, own, 1, 1, text, check=spec.name, cause=cause)
    if revealed.get(exercise, {}).get(step.key, 0) >= 1:
        return None
    return step


def hint_after(exercise: str, revealed: Revealed, results: Iterable[FailedCheck]) -> HintStep | None:
    """The next hint after a Check: the first failing check's own hint, then the ladders (:func:`next_hint`)."""
    results = list(results)
    return check_hint(exercise, results, revealed) or next_hint(
        exercise, revealed, failing_functions(exercise, results)
    )


def next_hint(exercise: str, revealed: Revealed, focus: Iterable[str] = ()) -> HintStep | None:
    """The next unseen hint: for the first of ``focus`` with hints left, else the first function with hints left."""
    hints = ladder(exercise)
    seen = revealed.get(exercise, {})
    for function in [*focus, *hints]:
        if function not in hints:
            continue
        count = seen.get(function, 0)
        if count < len(hints[function]):
            return HintStep(exercise, function, count + 1, len(hints[function]), hints[function][count])
    return None


def shown_hints(exercise: str, revealed: Revealed) -> list[HintStep]:
    """Every hint of ``exercise`` seen so far, function by function: the hints of its checks, then its ladder."""
    shown: list[HintStep] = []
    seen = revealed.get(exercise, {})
    specs = checks_for(exercise) if any(key.startswith(CHECK_KEY) for key in seen) else []
    for function, hints in ladder(exercise).items():
        for spec in specs:
            for cause in spec.cause_hints:
                step = HintStep(exercise, function, 1, 1, cause.text, check=spec.name, cause=cause.phrase)
                if (cause.function or spec.tests) == function and seen.get(step.key, 0) >= 1:
                    shown.append(step)
            if spec.tests == function and spec.hint and seen.get(CHECK_KEY + spec.name, 0) >= 1:
                shown.append(HintStep(exercise, function, 1, 1, spec.hint, check=spec.name))
        for level in range(1, min(seen.get(function, 0), len(hints)) + 1):
            shown.append(HintStep(exercise, function, level, len(hints), hints[level - 1]))
    return shown


def reveal(revealed: MutableMapping[str, dict[str, int]], step: HintStep) -> None:
    """Record that ``step`` was shown."""
    per_function = revealed.setdefault(step.exercise, {})
    per_function[step.key] = max(per_function.get(step.key, 0), step.level)


def state_path() -> Path:
    """Where the command line keeps hint positions: ``$PLAYGROUND_HINT_STATE``, else the user's cache directory."""
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "dqn-playground" / "hints.json"


def load_state(path: Path | None = None) -> dict[str, dict[str, int]]:
    """The saved hint positions (empty when there is no readable file)."""
    try:
        data = json.loads((path or state_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(exercise): {str(f): int(n) for f, n in seen.items() if isinstance(n, int)}
        for exercise, seen in data.items()
        if isinstance(seen, dict)
    }


def save_state(state: Mapping[str, Mapping[str, int]], path: Path | None = None) -> None:
    """Write the hint positions (best effort: a read-only home only loses the position)."""
    target = path or state_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    except OSError:
        pass
