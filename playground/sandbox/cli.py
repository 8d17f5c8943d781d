"""Command line: ``python -m playground.check [EXERCISE ...] [--impl exercises|solutions] [--json] [--hint]``.

Runs the checks of the named exercises (all when none are named) in the same
sandbox the app uses and prints one line per check, identical failures grouped
into one line (or, with ``--json``, a list of ``{exercise, check, passed,
message, status}`` objects, one per check; status is passed, failed, error or
not_run). ``--hint`` then prints the next hint for
the first failing function (see :mod:`playground.checks.hints`; the position
is kept in the user's cache directory). ``--source EXERCISE=FILE`` checks FILE
as ``exercises/EXERCISE.py`` (the same path as the browser editor's
submissions; the file is read, never copied into the app). The whole run
starts one warm fork server (one cold start of torch); each exercise then runs
in a child forked from it. Exit codes: 0 when every check passed, 1 when any
failed, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from playground.checks import EXERCISES, CheckResult, hints
from playground.checks.feedback import group_results, summary
from playground.core.facts import IMPLS
from playground.sandbox import forkserver
from playground.sandbox.executor import run_checks, warm_up  # the local sandbox, or Ray when one is configured
from playground.sandbox.hardening import make_undumpable

EPILOG = """\
exit codes:
  0  every check passed
  1  at least one check failed
  2  usage error (unknown exercise, bad option)

hints: --hint shows the next hint, one at a time, for the first function whose
check fails (the idea, then the approach, then near code). Positions are kept
in ~/.cache/dqn-playground/hints.json ($XDG_CACHE_HOME, or $PLAYGROUND_HINT_STATE,
moves it); --reset-hints starts the ladders of the named exercises again.
"""


def _print_result(result: CheckResult) -> None:
    """A progress mark while the checks run (the grouped lines follow once an exercise is done)."""
    print("." if result.passed else "x", end="", flush=True)


def _print_lines(exercise: str, results: Sequence[CheckResult]) -> None:
    if sys.stdout.isatty():
        print("\r" + " " * len(results) + "\r", end="")
    print(f"{exercise}: {summary(results)}", flush=True)
    for line in group_results(results):
        first, *rest = line.message.splitlines() or [""]
        print(f"{line.mark}  {exercise} / {line.title}: {first}", flush=True)
        if len(line.checks) > 1:
            print(f"        ({'; '.join(line.checks)})", flush=True)
        for extra in rest:
            print(f"        {extra}", flush=True)


def _hint(exercise: str, results: Sequence[CheckResult]) -> None:
    if results and all(r.passed for r in results):
        print(f"\nAll checks of {exercise} pass: no hint needed. The reference is solutions/{exercise}.py.")
        return
    state = hints.load_state()
    step = hints.hint_after(exercise, state, results)
    if step is None:
        print(f"\nNo hints left for {exercise}: the reference solution is solutions/{exercise}.py.")
        return
    hints.reveal(state, step)
    hints.save_state(state)
    print(f"\nHint for {step.label}:\n  {step.text}")
    if not step.last:
        print(f"(run `python -m playground.check {exercise} --hint` again for the next one)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m playground.check",
        description="Check your exercise code (or the reference solutions).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("exercises", nargs="*", metavar="EXERCISE", help=f"any of: {', '.join(EXERCISES)}")
    parser.add_argument("--impl", choices=IMPLS, default="exercises", help="which code to check (default: exercises)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of lines")
    parser.add_argument("--hint", action="store_true", help="after the checks, show the next hint (one exercise)")
    parser.add_argument("--reset-hints", action="store_true", help="forget the hints shown for these exercises")
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="EXERCISE=FILE",
        help="check FILE in place of exercises/EXERCISE.py (repeatable)",
    )
    args = parser.parse_args(argv)
    make_undumpable()  # no sandbox child may read this process's /proc entries (environ, memory)
    unknown = [name for name in args.exercises if name not in EXERCISES]
    if unknown:
        parser.error(f"unknown exercise(s): {', '.join(unknown)}; choose from {', '.join(EXERCISES)}")
    if args.hint and (args.json or len(args.exercises) > 1 or args.impl != "exercises"):
        parser.error("--hint takes at most one EXERCISE, and works on your code without --json")
    if args.reset_hints:
        state = hints.load_state()
        for exercise in args.exercises or EXERCISES:
            state.pop(exercise, None)
        hints.save_state(state)
        print(f"hints reset for {', '.join(args.exercises or EXERCISES)}")
        if not args.hint:
            return 0
    sources: dict[str, str] = {}
    for item in args.source:
        name, _, path = item.partition("=")
        if name not in EXERCISES or not path:
            parser.error(f"--source wants EXERCISE=FILE with EXERCISE one of {', '.join(EXERCISES)}, got {item!r}")
        try:
            sources[name] = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            parser.error(f"cannot read {path}: {err}")
    if len(args.exercises or EXERCISES) == 1:  # one child: warming the zygote's lazy paths would not pay back
        os.environ.setdefault(forkserver.WARM_ENV, "0")
    warm_up()  # start importing torch in the fork server while this process imports the checks
    results: list[CheckResult] = []
    hint_exercise: str | None = None
    for exercise in args.exercises or EXERCISES:
        on_result = _print_result if not args.json and sys.stdout.isatty() else None
        found = run_checks(exercise, args.impl, on_result=on_result, sources=sources or None)
        results.extend(found)
        if not args.json:
            _print_lines(exercise, found)
        if hint_exercise is None and not all(r.passed for r in found):
            hint_exercise = exercise
    passed = sum(result.passed for result in results)
    if args.json:
        json.dump([result.to_json() for result in results], sys.stdout, indent=2)
        print()
    else:
        print(f"{passed} of {len(results)} checks passed", flush=True)
        if hint_exercise is not None and not args.hint and args.impl == "exercises":
            print(f"Stuck? `python -m playground.check {hint_exercise} --hint` shows a hint.", flush=True)
    if args.hint:
        target = hint_exercise or (args.exercises or [EXERCISES[0]])[0]
        _hint(target, [r for r in results if r.exercise == target])
    return 0 if results and passed == len(results) else 1


class Interrupted(BaseException):
    """``SIGINT`` (Ctrl+C) or ``SIGTERM`` arrived: unwind, so the running job's child is ended and its
    scratch directory removed on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _interrupt(signum: int, frame: object) -> None:
    # A second signal ends the process on the spot (the kernel's default action), should the
    # unwinding itself hang; the fork server and its children follow by their parent-death signal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Interrupted(signum)


def run() -> None:
    """The command's entry point: Ctrl+C or ``kill -TERM`` ends it within a quarter second.

    The signal becomes an exception in the main thread, which waits on the job's pipe in
    quarter-second steps: the job's child is killed and its scratch directory removed as the
    exception unwinds; the exit code is then 128 + the signal's number, like a shell's.
    """
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = main()
    except Interrupted as stop:
        code = 128 + stop.signum
    sys.exit(code)


if __name__ == "__main__":
    run()
