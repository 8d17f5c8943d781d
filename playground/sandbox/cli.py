"""Command line: ``python -m playground.check [EXERCISE ...] [--impl exercises|solutions] [--json]``.

Runs the checks of the named exercises (all when none are named) in the same
sandbox the app uses, prints one line per check (or a JSON list with
``--json``), and exits 0 only when every check passed, 1 otherwise.
``--source EXERCISE=FILE`` checks FILE as ``exercises/EXERCISE.py`` (the same
path as the browser editor's submissions; the file is read, never copied
into the app). The whole run starts one warm fork server (one cold start of
torch); each exercise then runs in a child forked from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from playground.checks import EXERCISES, CheckResult
from playground.core.facts import IMPLS
from playground.sandbox.runner import run_checks, warm_up


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
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="EXERCISE=FILE",
        help="check FILE in place of exercises/EXERCISE.py (repeatable)",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.exercises if name not in EXERCISES]
    if unknown:
        parser.error(f"unknown exercise(s): {', '.join(unknown)}; choose from {', '.join(EXERCISES)}")
    sources: dict[str, str] = {}
    for item in args.source:
        name, _, path = item.partition("=")
        if name not in EXERCISES or not path:
            parser.error(f"--source wants EXERCISE=FILE with EXERCISE one of {', '.join(EXERCISES)}, got {item!r}")
        try:
            sources[name] = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            parser.error(f"cannot read {path}: {err}")
    warm_up()  # start importing torch in the fork server while this process imports the checks
    results: list[CheckResult] = []
    for exercise in args.exercises or EXERCISES:
        on_result = None if args.json else _print_line
        if sources:
            results.extend(run_checks(exercise, args.impl, on_result=on_result, sources=sources))
        else:
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
