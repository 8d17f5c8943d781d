"""Command line: ``python -m playground.check [EXERCISE ...] [--impl exercises|solutions] [--json]``.

Runs the checks of the named exercises (all when none are named) in the same
sandbox the app uses, prints one line per check (or a JSON list with
``--json``), and exits 0 only when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from playground.checks import EXERCISES, CheckResult
from playground.core.facts import IMPLS
from playground.sandbox.runner import run_checks


def _print_line(result: CheckResult) -> None:
    mark = "PASS" if result.passed else "FAIL"
    first, *rest = result.message.splitlines() or [""]
    print(f"{mark}  {result.exercise} / {result.check}: {first}", flush=True)
    for line in rest:
        print(f"        {line}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m playground.check",
        description="Check your exercise code (or the reference solutions).",
    )
    parser.add_argument("exercises", nargs="*", metavar="EXERCISE", help=f"any of: {', '.join(EXERCISES)}")
    parser.add_argument("--impl", choices=IMPLS, default="exercises", help="which code to check (default: exercises)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of lines")
    args = parser.parse_args(argv)
    unknown = [name for name in args.exercises if name not in EXERCISES]
    if unknown:
        parser.error(f"unknown exercise(s): {', '.join(unknown)}; choose from {', '.join(EXERCISES)}")
    results: list[CheckResult] = []
    for exercise in args.exercises or EXERCISES:
        on_result = None if args.json else _print_line
        results.extend(run_checks(exercise, args.impl, on_result=on_result))
    passed = sum(result.passed for result in results)
    if args.json:
        json.dump([result.to_json() for result in results], sys.stdout, indent=2)
        print()
    else:
        print(f"{passed} of {len(results)} checks passed", flush=True)
    return 0 if results and passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
