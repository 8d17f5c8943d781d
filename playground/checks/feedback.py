"""Check results as a learner reads them: identical failures grouped into one line (no Streamlit here).

When ``CustomQNetwork.__init__`` still raises ``NotImplementedError``, all nine
Q-network checks fail with the same message; a learner should read it once:
"9 checks: not implemented yet: CustomQNetwork.__init__ ...". Passed checks
and distinct failures keep a line each, in the order of the checks. A check
that only uses a function whose own check fails reads "not run: fix `td_loss`
first" (status ``not_run``); those group like failures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from playground.checks import CheckResult

# error (the learner's code raised) reads FAIL as well: to a learner both mean "fix this".
MARKS: dict[str, str] = {"passed": "PASS", "failed": "FAIL", "error": "FAIL", "not_run": "SKIP"}


@dataclass(frozen=True)
class FeedbackLine:
    """One line of feedback: one passed check, or every failed check that said exactly ``message``."""

    exercise: str
    checks: tuple[str, ...]
    passed: bool
    message: str
    status: str = ""

    @property
    def mark(self) -> str:
        """PASS, FAIL or SKIP (a check not run until the function it uses is fixed)."""
        return MARKS.get(self.status or ("passed" if self.passed else "failed"), "FAIL")

    @property
    def title(self) -> str:
        """The check's name, or "N checks" for a group."""
        return self.checks[0] if len(self.checks) == 1 else f"{len(self.checks)} checks"

    def text(self) -> str:
        """``title: message`` (its first line)."""
        return f"{self.title}: {self.message}"


def group_results(results: Iterable[CheckResult]) -> list[FeedbackLine]:
    """Passed checks one per line; failed checks with the same exercise and message merged at the first one."""
    lines: list[FeedbackLine] = []
    groups: dict[tuple[str, str], int] = {}
    for result in results:
        key = (result.exercise, result.message)
        if not result.passed and key in groups:
            index = groups[key]
            line = lines[index]
            lines[index] = FeedbackLine(line.exercise, (*line.checks, result.check), False, line.message, line.status)
            continue
        if not result.passed:
            groups[key] = len(lines)
        lines.append(FeedbackLine(result.exercise, (result.check,), result.passed, result.message, result.status))
    return lines


def summary(results: Sequence[CheckResult]) -> str:
    """``"3 of 8 checks passed"``, and how many were not run when some were."""
    text = f"{sum(r.passed for r in results)} of {len(results)} checks passed"
    skipped = sum(r.status == "not_run" for r in results)
    return text + (f" ({skipped} not run until an earlier failure is fixed)" if skipped else "")
