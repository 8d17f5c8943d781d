"""Mutation testing of the checks: do they notice when a reference solution breaks?

For each solution module, Cosmic Ray (8.7) makes mutants (one small change each:
``<`` to ``<=``, ``+`` to ``-``, ``True`` to ``False``, a number plus one, ...)
and runs ``python -m playground.check <exercise> --impl solutions`` on each. A
mutant the checks fail is *killed*; one they pass *survived*: either a gap in
the checks, or an *equivalent* mutant (one that changes no behaviour the
contract promises, listed with the reason in ``tools/equivalent_mutants.toml``
(:data:`EQUIVALENT`) and in docs/MUTATION.md).

Mutations are applied only in a scratch copy of the repository (``--workdir``),
never in the checkout this script lives in. Usage::

    python tools/mutation.py                        # every module, then the table
    python tools/mutation.py train_dqn --functions td_loss update_target
    python tools/mutation.py --report-only          # the table of the last run
    python tools/mutation.py q_network --sample 5   # a quick smoke run

The table counts, per module: mutants run, killed (the checks failed),
timeouts (the checks ran past the per-mutant limit: counted as killed),
survived, equivalent (survivors listed in :data:`EQUIVALENT`), and the score
``(killed + timeouts) / (mutants - equivalent)``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "playground" / "core" / "exercises.toml"
# The exercises' modules, from the exercise manifest (read here as data: this script does not import playground).
MODULES: tuple[str, ...] = tuple(
    str(entry["module"]) for entry in tomllib.loads(MANIFEST.read_text(encoding="utf-8"))["exercise"]
)
DEFAULT_WORKDIR = Path(os.environ.get("TMPDIR", "/tmp")) / "dqn-playground-mutation"
# Operators that make mostly nonsense on this code (bit shifts and bitwise ops on floats, raising to
# a power): left out to keep a run short. Everything else Cosmic Ray has is used.
EXCLUDED_OPERATORS: tuple[str, ...] = (
    r"core/ReplaceBinaryOperator_.*_(RShift|LShift|BitOr|BitAnd|BitXor|Pow)$",
    r"core/ReplaceBinaryOperator_(RShift|LShift|BitOr|BitAnd|BitXor|Pow)_.*",
    r"core/ReplaceBinaryOperator_.*_(FloorDiv|Mod)$",
)
IGNORED_COPY = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "*.sqlite", "node_modules"
)


@dataclass(frozen=True)
class Equivalent:
    """A surviving mutant that changes no behaviour of the contract, and why."""

    module: str
    function: str
    operator: str  # a prefix of the Cosmic Ray operator name
    line: str  # the stripped source line that is mutated (exact)
    mutated: str  # the stripped line after the mutation (exact; "" for any mutant of this operator on the line)
    reason: str


EQUIVALENT_PATH = REPO / "tools" / "equivalent_mutants.toml"


def load_equivalents(path: Path = EQUIVALENT_PATH) -> tuple[Equivalent, ...]:
    """The equivalent-mutant table (a data file, checked against solutions/ by tests/test_mutation_checks.py)."""
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["equivalent"]
    return tuple(
        Equivalent(
            str(e["module"]),
            str(e["function"]),
            str(e["operator"]),
            str(e["line"]),
            str(e["mutated"]),
            str(e["reason"]),
        )
        for e in entries
    )


EQUIVALENT: tuple[Equivalent, ...] = load_equivalents()


@dataclass
class Outcome:
    module: str
    function: str
    operator: str
    line_no: int
    line: str
    status: str  # killed, timeout, survived, equivalent, error
    diff: str
    key: tuple[str, int, int, int]


def scratch_copy(workdir: Path, name: str) -> Path:
    """A fresh copy of the repository in ``workdir/name`` (mutations are applied there only)."""
    target = workdir / name / "repo"
    if target.resolve() == REPO or REPO in target.resolve().parents:
        raise SystemExit("the scratch copy must live outside the repository")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(REPO, target, ignore=IGNORED_COPY)
    return target


def sessions(workdir: Path, module: str) -> list[Path]:
    """Every session of ``module`` in ``workdir``: ``<module>.sqlite`` and tagged ``<module>-<tag>.sqlite``."""
    found = [*workdir.glob(f"{module}.sqlite"), *workdir.glob(f"{module}-*.sqlite")]
    return sorted(found, key=lambda path: path.stat().st_mtime)  # the newest result of a mutant wins


def write_config(workdir: Path, name: str, module: str, timeout: float) -> Path:
    config = workdir / f"{name}.toml"
    command = f"{sys.executable} -m playground.check {module} --impl solutions"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "solutions/{module}.py"\n'
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f'test-command = "{command}"\n\n'
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    return config


def cosmic_ray(*args: str, cwd: Path) -> None:
    tool = Path(sys.executable).with_name("cosmic-ray")
    subprocess.run([str(tool), *args], cwd=cwd, check=True)


def select(
    session: Path,
    functions: Sequence[str],
    sample: int | None,
    seed: int,
    only: set[tuple[str, int, int, int]] | None = None,
) -> int:
    """Mark as skipped every mutant outside ``functions`` or the operator set (or the sample, or ``only``)."""
    import re

    from cosmic_ray.work_db import WorkDB, use_db  # type: ignore[import-untyped]
    from cosmic_ray.work_item import WorkerOutcome, WorkResult  # type: ignore[import-untyped]

    excluded = re.compile("|".join(f"(?:{e})" for e in EXCLUDED_OPERATORS))
    skipped = WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output="not selected")
    with use_db(str(session), WorkDB.Mode.open) as db:
        items = list(db.work_items)
        keep = []
        for item in items:
            mutation = item.mutations[0]
            wanted = not excluded.match(mutation.operator_name) and (
                not functions or (mutation.definition_name or "") in functions
            )
            if only is not None:
                wanted = _key(mutation) in only
            if wanted:
                keep.append(item.job_id)
        if sample is not None and len(keep) > sample:
            keep = sorted(random.Random(seed).sample(keep, sample))
        chosen = set(keep)
        drop = [item.job_id for item in items if item.job_id not in chosen]
        if drop:
            db.set_multiple_results(drop, skipped)
        return len(chosen)


def outcomes(workdir: Path, module: str) -> list[Outcome]:
    """What happened to every mutant that ran in the sessions of ``module`` (a mutant counts once)."""
    found: dict[tuple[str, int, int, int], Outcome] = {}
    for session in sessions(workdir, module):
        for key, outcome in _session_outcomes(workdir, module, session):
            found[key] = outcome  # a later session (a rerun) replaces an earlier result
    return list(found.values())


def _session_outcomes(workdir: Path, module: str, session: Path) -> list[tuple[tuple[str, int, int, int], Outcome]]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    copies = [workdir / session.stem / "repo", workdir / module / "repo", workdir / "repo"]
    copy = next(path for path in [*copies, REPO] if (path / "solutions" / f"{module}.py").exists())
    source = (copy / "solutions" / f"{module}.py").read_text().splitlines()
    results: list[tuple[tuple[str, int, int, int], Outcome]] = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        by_job = dict(db.results)
        for item in db.work_items:
            result = by_job.get(item.job_id)
            if result is None or result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            mutation = item.mutations[0]
            line_no = mutation.start_pos[0]
            removed = [
                d[1:].strip() for d in (result.diff or "").splitlines() if d.startswith("-") and not d.startswith("---")
            ]
            line = removed[0] if removed else (source[line_no - 1].strip() if 0 < line_no <= len(source) else "")
            function = mutation.definition_name or "<module>"
            if result.worker_outcome != WorkerOutcome.NORMAL:
                status = "error"
            elif result.test_outcome == TestOutcome.SURVIVED:
                added = [
                    d[1:].strip() for d in (result.diff or "").splitlines() if d.startswith("+") and d[:3] != "+++"
                ]
                same = _equivalent(module, function, mutation.operator_name, line, added[0] if added else "")
                status = "equivalent" if same else "survived"
            elif (result.output or "").strip() == "timeout":
                status = "timeout"
            else:
                status = "killed"
            key = _key(mutation)
            diff = result.diff or ""
            outcome = Outcome(module, function, mutation.operator_name, line_no, line, status, diff, key)
            results.append((key, outcome))
    return results


def _key(mutation: Any) -> tuple[str, int, int, int]:
    return (mutation.operator_name, mutation.occurrence, mutation.start_pos[0], mutation.start_pos[1])


def _equivalent(module: str, function: str, operator: str, line: str, mutated: str) -> bool:
    return any(
        (e.module, e.function, e.line) == (module, function, line)
        and e.mutated in ("", mutated)
        and operator.startswith(e.operator)
        for e in EQUIVALENT
    )


def table(rows: Iterable[tuple[str, list[Outcome]]]) -> str:
    rows = list(rows)
    width = max([14, *(len(name) + 1 for name, _ in rows)])
    names = ("mutants", "killed", "timeout", "survived", "equiv", "error")
    header = f"{'module':<{width}} " + " ".join(names) + "  score"
    lines = [header, "-" * len(header)]
    totals = [0, 0, 0, 0, 0, 0]
    for name, found in rows:
        counts = [len(found)] + [sum(o.status == s for o in found) for s in ("killed", "timeout", "survived")]
        counts += [sum(o.status == "equivalent" for o in found), sum(o.status == "error" for o in found)]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        lines.append(_row(name, counts, width))
    lines.append("-" * len(header))
    lines.append(_row("all", totals, width))
    return "\n".join(lines)


def _row(name: str, counts: Sequence[int], width: int = 14) -> str:
    total, killed, timeout, survived, equivalent, error = counts
    judged = total - equivalent - error
    score = f"{100 * (killed + timeout) / judged:5.1f}%" if judged else "    -"
    return f"{name:<{width}} {total:>7} {killed:>6} {timeout:>7} {survived:>8} {equivalent:>5} {error:>5}  {score}"


def survivors(found: Iterable[Outcome]) -> str:
    lines = []
    for o in found:
        if o.status == "survived":
            lines.append(f"  {o.module}.{o.function}:{o.line_no} {o.operator}\n      {o.line}")
            diff = [d for d in o.diff.splitlines() if d.startswith(("+", "-")) and not d.startswith(("+++", "---"))]
            lines.extend(f"      {d}" for d in diff)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"any of {', '.join(MODULES)} (default: all)")
    parser.add_argument("--functions", nargs="*", default=[], help="only mutants inside these functions")
    parser.add_argument("--sample", type=int, default=None, help="run a random sample of this many mutants")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant (Cosmic Ray's timeout)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="scratch directory")
    parser.add_argument("--report-only", action="store_true", help="print the table of the last run")
    parser.add_argument("--tag", default="", help="name this session <module>-<tag> (keeps earlier sessions)")
    parser.add_argument("--survivors", action="store_true", help="rerun only the survivors of earlier sessions")
    parser.add_argument("--equivalents", action="store_true", help="print the equivalent mutants as a Markdown table")
    parser.add_argument("--by-function", action="store_true", help="one row per function instead of per module")
    args = parser.parse_args(argv)
    if args.equivalents:
        print("| where | line | mutant | why it is equivalent |\n|---|---|---|---|")
        for e in EQUIVALENT:
            print(f"| `{e.module}.{e.function}` | `{e.line}` | `{e.mutated or e.operator}` | {e.reason} |")
        return 0
    modules = args.modules or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    workdir: Path = args.workdir.resolve()
    if not args.report_only:
        workdir.mkdir(parents=True, exist_ok=True)
        for module in modules:
            only = {o.key for o in outcomes(workdir, module) if o.status == "survived"} if args.survivors else None
            name = f"{module}-{args.tag}" if args.tag else module
            repo = scratch_copy(workdir, name)
            config = write_config(workdir, name, module, args.timeout)
            session = workdir / f"{name}.sqlite"
            session.unlink(missing_ok=True)
            cosmic_ray("init", str(config), str(session), cwd=repo)
            chosen = select(session, args.functions, args.sample, args.seed, only)
            print(f"{module}: {chosen} mutants to run", flush=True)
            cosmic_ray("exec", str(config), str(session), cwd=repo)
    found = [(module, outcomes(workdir, module)) for module in modules]
    if args.by_function:
        rows: dict[str, list[Outcome]] = {}
        for module, outs in found:
            for o in outs:
                rows.setdefault(f"{module}.{o.function}", []).append(o)
        print(table(sorted(rows.items())))
    else:
        print(table(found))
    text = survivors(o for _, outs in found for o in outs)
    if text:
        print("\nsurvivors:\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
