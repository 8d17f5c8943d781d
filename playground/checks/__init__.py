"""The registry of checks, one list per exercise.

A check is a function that receives the module under test (``exercises.X`` or
``solutions.X``), exercises its behaviour, and either returns a short message
saying what it saw or raises :class:`CheckFailed` with a message that says what
was expected, what was seen, and the likely cause. Checks only ever run inside
the child process of :mod:`playground.sandbox.child`; the parent imports this
package just to learn the names, order and time limits of the checks.

Each check declares the learner function it ``tests`` (whose hint ladder a
failure opens), the functions it only ``uses``, and may carry a ``hint`` about
its own failure (what it exercises and where such a failure comes from), shown
before that function's ladder; :func:`playground.checks.aim.settle`
turns a check that fails only because a used function is already known to be
wrong into ``not_run`` ("not run: fix `td_loss` first").
"""

from __future__ import annotations

import importlib
import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from playground.core.facts import EXERCISE_TITLES as EXERCISE_TITLES
from playground.core.facts import EXERCISES as EXERCISES
from playground.core.facts import exercise_info

CheckFunc = Callable[[ModuleType], str]


class CheckFailed(Exception):
    """Raised by a check: its message is shown to the learner as it is.

    ``function`` names the learner function the check found at fault when it
    is not the one the check tests (a check of ``push`` that sees sampling go
    wrong, say); ``None`` keeps the check's own.
    """

    def __init__(self, message: str, *, function: str | None = None) -> None:
        super().__init__(message)
        self.function = function


class CheckNotRun(Exception):
    """Raised by a check that cannot judge, because what it measures through is broken elsewhere.

    Its message says why and which check names the cause; the result is ``not_run``, never a diagnosis
    of something that is not the cause (exploration blamed for a network that another bug changed).
    """


# The statuses of a check result (those of Exercism's test-runner interface, plus not_run).
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "not_run")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")


def plain(text: str) -> str:
    """``text`` without ANSI escape sequences (colour codes some libraries put in their errors)."""
    return _ANSI.sub("", text)


@dataclass(frozen=True)
class CauseHint:
    """A check's hint for one cause it diagnoses: shown instead of the check's ``hint`` when it fits.

    It fits a failure whose message contains ``phrase`` (words of the check's own diagnosis of that cause)
    and that blames ``function`` (the function the check tests when empty: a round trip that finds the file
    wrong blames ``save_model``, though it tests ``load_model``).
    """

    phrase: str
    text: str
    function: str = ""


@dataclass(frozen=True)
class CheckSpec:
    """One registered check: a name unique within its exercise, a time limit, and what it exercises.

    ``tests`` is the learner function the check is about (its hint ladder opens
    when the check fails); ``uses`` are the learner functions it calls on the
    way, whose own failing check makes this one ``not_run``; ``hint`` is the first hint a learner gets
    when this check is the first to fail and its failure blames ``tests`` (a failure pinned on another
    function opens that function's ladder instead; :func:`playground.checks.hints.hint_after`), before the
    function's ladder. A ``precondition`` check holds what the later checks of its function measure
    through (a separate target network, say): while it fails, their failures are ``not_run``.
    ``cause_hints`` help with the causes the check tells apart in its message (:class:`CauseHint`).
    """

    exercise: str
    name: str
    func: CheckFunc
    timeout: float
    tests: str = ""
    uses: tuple[str, ...] = ()
    enforces: tuple[str, ...] = ()
    hint: str = ""
    precondition: bool = False
    cause_hints: tuple[CauseHint, ...] = ()

    def hint_for(self, message: str, function: str) -> tuple[str, str] | None:
        """(text, cause) of the hint about this check's failure with ``message`` blaming ``function``.

        The first :class:`CauseHint` that fits (``cause`` is its phrase), else the check's ``hint`` (``cause``
        empty) when the failure blames the function the check tests; ``None`` when neither fits.
        """
        for cause in self.cause_hints:
            if cause.phrase in message and (cause.function or self.tests) == (function or self.tests):
                return cause.text, cause.phrase
        if self.hint and (function or self.tests) == self.tests:
            return self.hint, ""
        return None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check, as the CLI prints it and the app shows it.

    ``status`` is one of :data:`STATUSES` (``passed`` or ``failed`` from
    ``passed`` when not given); ``function`` is the learner function the result
    is about (the one to fix, and whose hints to show).
    """

    exercise: str
    check: str
    passed: bool
    message: str
    status: str = ""
    function: str = ""

    def __post_init__(self) -> None:
        status = self.status or ("passed" if self.passed else "failed")
        if status not in STATUSES:
            raise ValueError(f"unknown check status {status!r}; expected one of {', '.join(STATUSES)}")
        if (status == "passed") != self.passed:
            raise ValueError(f"a check result with status {status!r} cannot have passed={self.passed}")
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "message", plain(self.message))

    def to_json(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "check": self.check,
            "passed": self.passed,
            "status": self.status,
            "function": self.function,
            "message": self.message,
        }


_REGISTRY: dict[str, list[CheckSpec]] = {}


def check(
    exercise: str,
    name: str,
    timeout: float = 20.0,
    *,
    tests: str = "",
    uses: tuple[str, ...] = (),
    enforces: tuple[str, ...] = (),
    hint: str = "",
    precondition: bool = False,
    cause_hints: tuple[CauseHint, ...] = (),
) -> Callable[[CheckFunc], CheckFunc]:
    """Decorator: register ``func`` as the next check of ``exercise``, about learner function ``tests``.

    ``enforces`` quotes the sentences of the stub (``exercises/<exercise>.py``) the check holds a learner
    to, word for word. Every check of the exercises names the function it tests and the sentences it
    enforces (``tests/test_aim.py`` holds them to it: :func:`unstated`). ``hint`` helps with this check's
    failure: it is shown first, before the ladder of the function, when the failure blames ``tests``
    (see :mod:`playground.checks.hints`); ``cause_hints`` replace it for the causes they name.
    """
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}")
    known = exercise_functions(exercise)
    unknown = [f for f in (tests, *uses, *(cause.function for cause in cause_hints)) if f and f not in known]
    if unknown:
        raise ValueError(f"check {name!r} of {exercise} names unknown function(s): {', '.join(unknown)}")
    if tests in uses:
        raise ValueError(f"check {name!r} both tests and uses {tests}")

    def register(func: CheckFunc) -> CheckFunc:
        specs = _REGISTRY.setdefault(exercise, [])
        if any(spec.name == name for spec in specs):
            raise ValueError(f"duplicate check name {name!r} in {exercise}")
        specs.append(
            CheckSpec(
                exercise, name, func, timeout, tests, tuple(uses), tuple(enforces), hint, precondition, cause_hints
            )
        )
        return func

    return register


def unstated(exercise: str, stub_text: str) -> list[tuple[str, str]]:
    """(check, sentence) for every sentence a check of ``exercise`` enforces that ``stub_text`` lacks.

    Whitespace is compared loosely (a sentence may wrap differently); a check that names no sentence
    is reported with an empty one.
    """
    text = " ".join(stub_text.split())
    missing: list[tuple[str, str]] = []
    for spec in checks_for(exercise):
        if not spec.enforces:
            missing.append((spec.name, ""))
        missing.extend((spec.name, sentence) for sentence in spec.enforces if " ".join(sentence.split()) not in text)
    return missing


def exercise_functions(exercise: str) -> tuple[str, ...]:
    """The functions a learner writes in ``exercise``, in the order they are written (from the manifest)."""
    return exercise_info(exercise).functions


def run_check(spec: CheckSpec, module: ModuleType, impl: str = "exercises") -> CheckResult:
    """Run one check on ``module``: passed, failed (the check's diagnosis) or error (the learner's code raised)."""
    try:
        message = spec.func(module)
    except CheckFailed as failure:
        return CheckResult(spec.exercise, spec.name, False, str(failure), "failed", failure.function or spec.tests)
    except CheckNotRun as skipped:
        return CheckResult(spec.exercise, spec.name, False, str(skipped), "not_run", spec.tests)
    except BaseException as err:  # noqa: BLE001 - learner code may raise anything, even SystemExit
        function = raising_function(spec.exercise, err, impl) or spec.tests
        return CheckResult(spec.exercise, spec.name, False, describe_exception(err, impl), "error", function)
    return CheckResult(spec.exercise, spec.name, True, str(message), "passed", spec.tests)


def raising_function(exercise: str, err: BaseException, impl: str = "exercises") -> str | None:
    """The learner function of ``exercise`` whose body raised ``err`` (its innermost frame in their file), if any."""
    functions = exercise_functions(exercise)
    for frame in reversed(traceback.extract_tb(err.__traceback__)):
        if f"/{impl}/" not in frame.filename.replace(os.sep, "/"):
            continue
        for function in functions:
            if function.rsplit(".", 1)[-1] == frame.name:
                return function
        return None
    if isinstance(err, NotImplementedError):  # a stub's message names its function: "td_loss: ..."
        text = str(err)
        for function in functions:
            if text.startswith((function + ":", function.rsplit(".", 1)[-1] + ":")):
                return function
    return None


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
        hint = plain(str(err)).strip() or "the function body still raises NotImplementedError"
        return f"not implemented yet: {hint}"
    text = plain(str(err)).strip()
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
