"""Aim: the first message and the first hint go to the function that holds the bug (no Streamlit here).

A wrong ``td_loss`` also breaks every check that trains with it; their own
diagnoses ("pass target_network to td_loss") would send a learner to code that
is right. :func:`settle` reads the results of one exercise in the order of its
checks and keeps a failure only when none of the functions its check *uses*
is already blamed by an earlier kept failure; the others become ``not_run``
with "not run: fix `td_loss` first". Checks are registered so that the checks
of a function come before the checks that only use it. A failing
``precondition`` check (a separate target network, which every later loop
check measures through) also turns the later failures of its own function
into ``not_run``: they would diagnose its consequences.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from playground.checks import CheckResult, CheckSpec, checks_for

NOT_RUN_PREFIX = "not run: fix "


def not_run_message(function: str) -> str:
    """``"not run: fix `td_loss` first"``."""
    return f"{NOT_RUN_PREFIX}`{function}` first (this check uses it, and its own check fails)"


def settle(
    exercise: str, results: Iterable[CheckResult], specs: Sequence[CheckSpec] | None = None
) -> list[CheckResult]:
    """``results`` with each result's function filled in and follow-on failures turned into ``not_run``."""
    by_name = {spec.name: spec for spec in (checks_for(exercise) if specs is None else specs)}
    blamed: list[str] = []
    unmet: dict[str, str] = {}  # function -> its failing precondition check
    settled: list[CheckResult] = []
    for result in results:
        spec = by_name.get(result.check)
        function = result.function or (spec.tests if spec is not None else "")
        if result.status in ("failed", "error") and spec is not None:
            culprit = next((f for f in blamed if f in spec.uses), None)
            if culprit is not None:
                settled.append(replace(result, status="not_run", message=not_run_message(culprit), function=culprit))
                continue
            if spec.tests in unmet:
                message = f"{NOT_RUN_PREFIX}'{unmet[spec.tests]}' first (this check measures through it)"
                settled.append(replace(result, status="not_run", message=message, function=spec.tests))
                continue
            if spec.precondition:
                unmet[spec.tests] = spec.name
            if function and function not in blamed:
                blamed.append(function)
        settled.append(result if result.function == function else replace(result, function=function))
    return settled


def culprits(results: Iterable[CheckResult]) -> list[str]:
    """The functions of the failures that stand (failed or error), in the order of the checks."""
    found: list[str] = []
    for result in results:
        if result.status in ("failed", "error") and result.function and result.function not in found:
            found.append(result.function)
    return found
