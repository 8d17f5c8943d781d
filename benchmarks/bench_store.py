"""What keeping a class's work costs the database: a Check with its code, the newest code, the teacher page.

    python benchmarks/bench_store.py [--url URL] [--repeats 50] [--learners 33]

Against a fresh SQLite file in a temporary directory (the default), or an SQLAlchemy URL of an EMPTY
database (it creates the schema and leaves its rows there). Prints the median and the 90th percentile,
in milliseconds, of:

* ``Store.record_checks``: the results of every check of ``q_network`` with the reference solution's
  code, by a learner whose history of that exercise is already full (``KEPT_CHECK_RUNS``), so each
  write also forgets the oldest run, as in a class after a while;
* ``Store.save_code``: the newest code (changed each time), as an editor keystroke saves it;
* the teacher page's reads: ``Store.class_matrix`` and ``Store.failing_checks`` for ``--learners``
  learners, each with a full history of two exercises.

The app does the writes on its background thread, after the results are on the page (see the README).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.checks import CheckResult, checks_for  # noqa: E402
from playground.store.db import KEPT_CHECK_RUNS, Store, open_store  # noqa: E402

EXERCISE = "q_network"


def results(round_: int) -> list[CheckResult]:
    """Every check of the exercise; one fails, with a message that changes from round to round."""
    names = [spec.name for spec in checks_for(EXERCISE)]
    return [
        CheckResult(EXERCISE, name, i != 1, "ok" if i != 1 else f"the output has a ReLU (round {round_})")
        for i, name in enumerate(names)
    ]


def timed(repeats: int, action: Callable[[int], object]) -> list[float]:
    took = []
    for i in range(repeats):
        start = time.perf_counter()
        action(i)
        took.append((time.perf_counter() - start) * 1000)
    return took


def report(name: str, took: list[float]) -> None:
    ordered = sorted(took)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    print(f"{name:<44} median {statistics.median(took):7.1f} ms   p90 {p90:7.1f} ms   (n={len(took)})")


def fill_class(store: Store, learners: int, code: str) -> int:
    """``learners`` learners, each with a full history of two exercises; returns the last one's id."""
    learner_id = 0
    for n in range(learners):
        learner_id = store.signed_in(f"learner{n}@school.example", f"Learner {n}").id
        for exercise in (EXERCISE, "replay_buffer"):
            for i in range(KEPT_CHECK_RUNS):
                store.record_checks(learner_id, exercise, code, f"f{i}", results(i))
    return learner_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an SQLAlchemy URL of an empty database (default: SQLite in a temp dir)")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--learners", type=int, default=33)
    args = parser.parse_args()
    code = (ROOT / "solutions" / f"{EXERCISE}.py").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="bench-store-") as scratch:
        store = open_store(args.url or f"sqlite+pysqlite:///{Path(scratch) / 'class.sqlite3'}")
        print(f"database: {store.engine.dialect.name}; code {len(code):,} characters; {len(results(0))} checks")
        learner = fill_class(store, args.learners, code)
        report(
            "record_checks (history full: forgets one)",
            timed(args.repeats, lambda i: store.record_checks(learner, EXERCISE, code, f"r{i}", results(i))),
        )
        report("save_code", timed(args.repeats, lambda i: store.save_code(learner, EXERCISE, f"{code}# {i}\n")))
        report(
            f"class_matrix + failing_checks ({args.learners} learners)",
            timed(max(5, args.repeats // 5), lambda _: (store.class_matrix(), store.failing_checks())),
        )
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
