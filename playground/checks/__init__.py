"""The registry of checks, one list per exercise.

A check is a function that receives the module under test (``exercises.X`` or
``solutions.X``), exercises its behaviour, and either returns a short message
saying what it saw or raises :class:`CheckFailed` with a message that says what
was expected, what was seen, and the likely cause. Checks only ever run inside
the child process of :mod:`playground.sandbox.child`; the parent imports this
package just to learn the names, order and time limits of the checks.
"""

from __future__ import annotations

import importlib
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from playground.core.facts import EXERCISE_TITLES as EXERCISE_TITLES
from playground.core.facts import EXERCISES as EXERCISES

CheckFunc = Callable[[ModuleType], str]


class CheckFailed(Exception):
    """Raised by a check: its message is shown to the learner as it is."""


@dataclass(frozen=True)
class CheckSpec:
    """One registered check: a name unique within its exercise, and a time limit."""

    exercise: str
    name: str
    func: CheckFunc
    timeout: float


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check, as the CLI prints it and the app shows it."""

    exercise: str
    check: str
    passed: bool
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "check": self.check, "passed": self.passed, "message": self.message}


_REGISTRY: dict[str, list[CheckSpec]] = {}


def check(exercise: str, name: str, timeout: float = 20.0) -> Callable[[CheckFunc], CheckFunc]:
    """Decorator: register ``func`` as the next check of ``exercise``."""
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}")

    def register(func: CheckFunc) -> CheckFunc:
        specs = _REGISTRY.setdefault(exercise, [])
        if any(spec.name == name for spec in specs):
            raise ValueError(f"duplicate check name {name!r} in {exercise}")
        specs.append(CheckSpec(exercise, name, func, timeout))
        return func

    return register


def checks_for(exercise: str) -> list[CheckSpec]:
    """The checks of ``exercise`` in their order (imports its check module)."""
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; choose from {', '.join(EXERCISES)}")
    try:
        importlib.import_module(f"playground.checks.{exercise}")
    except ModuleNotFoundError as err:
        if err.name != f"playground.checks.{exercise}":
            raise
    return list(_REGISTRY.get(exercise, []))


# Set by the sandbox child (playground.sandbox.child): turns a resource limit that was hit into a
# sentence with the limit in it ("your code tried to allocate more than 1 GB ..."), else None.
limit_describer: Callable[[BaseException], str | None] | None = None


def describe_exception(err: BaseException, impl: str = "exercises") -> str:
    """One readable sentence for a learner: what was raised, and where in their file."""
    limit = limit_describer(err) if limit_describer is not None else None
    if limit is not None:
        return limit + _where(err, impl)
    if isinstance(err, NotImplementedError):
        hint = str(err).strip() or "the function body still raises NotImplementedError"
        return f"not implemented yet: {hint}"
    text = str(err).strip()
    return f"raised {type(err).__name__}{': ' + text if text else ''}{_where(err, impl)}"


def _where(err: BaseException, impl: str) -> str:
    """' (at exercises/x.py line 3: code)' for the innermost frame in the learner's file, else ''."""
    for frame in reversed(traceback.extract_tb(err.__traceback__)):
        if f"/{impl}/" in frame.filename.replace(os.sep, "/"):
            return f" (at {impl}/{os.path.basename(frame.filename)} line {frame.lineno}: {(frame.line or '').strip()})"
    return ""


def require_refused(
    build: Callable[[], object], call_text: str, describe: Callable[[BaseException], str], hint: str
) -> None:
    """``build()`` must refuse a value outside the typed contract with ``ValueError`` or ``TypeError``."""
    try:
        build()
    except (ValueError, TypeError):
        return
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - learner code may raise anything
        raise CheckFailed(f"{call_text} {describe(err)}, expected ValueError (or TypeError): {hint}") from None
    raise CheckFailed(f"{call_text} returned without an error: {hint}")


def require(condition: bool, message: str) -> None:
    """Fail the current check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)
