"""Test-only checks and tasks that misbehave on purpose, to test the sandbox runner.

The sandbox child imports this module when its name is in
``PLAYGROUND_TEST_MODULES`` (see :mod:`playground.sandbox.child`). Inside the child it
registers three checks on the ``q_network`` exercise, named ``selftest: ...``;
each calls the same-named function of a throwaway learner module,
``selftest_learner``, which a test writes into a temporary directory on
``PYTHONPATH``. So every test decides what the "learner code" does (raise,
hang, crash, print, write garbage) without touching ``exercises/``.

In the test process itself, :func:`register` adds the same checks (the
runner needs their names and time limits); tests undo it afterwards.
"""

from __future__ import annotations

import importlib
import os
import time
from types import ModuleType
from typing import Any

from playground.checks import check
from playground.sandbox.child import TaskContext
from playground.sandbox.protocol import RESULT_FD_ENV

EXERCISE = "q_network"
LEARNER_MODULE = "selftest_learner"
CHECK_NAMES = ("selftest: first", "selftest: second", "selftest: third")
CHECK_TIMEOUT = 3.0


def _learner() -> ModuleType:
    return importlib.import_module(LEARNER_MODULE)


def _first(mod: ModuleType) -> str:
    return str(_learner().first())


def _second(mod: ModuleType) -> str:
    return str(_learner().second())


def _third(mod: ModuleType) -> str:
    return str(_learner().third())


def register() -> None:
    """Register the three self-test checks on :data:`EXERCISE`."""
    for name, func in zip(CHECK_NAMES, (_first, _second, _third), strict=True):
        check(EXERCISE, name, timeout=CHECK_TIMEOUT)(func)


if RESULT_FD_ENV in os.environ:  # imported by the sandbox child
    register()


class Foreign:
    """A class outside ``playground``: the app must refuse to rebuild it."""

    def __init__(self, value: int) -> None:
        self.value = value


def count(ctx: TaskContext, n: int, tag: str = "tick") -> list[str]:
    """Emit ``n`` progress messages, then return them all."""
    sent = []
    for i in range(n):
        message = f"{tag} {i}"
        ctx.emit(message)
        sent.append(message)
    return sent


def until_stopped(ctx: TaskContext, pause: float = 0.05) -> dict[str, Any]:
    """Count up, emitting every step, until the parent asks to stop; return the partial count."""
    steps = 0
    while not ctx.should_stop():
        steps += 1
        ctx.emit(steps)
        time.sleep(pause)
    return {"steps": steps, "stopped": True}


def sleep_forever(ctx: TaskContext) -> None:
    """Never return (and ignore stop requests)."""
    while True:
        time.sleep(0.1)


def return_os_system(ctx: TaskContext) -> Any:
    """Return a function object: its pickle names ``os.system``."""
    return os.system


def emit_foreign(ctx: TaskContext) -> int:
    """Send an object of a non-playground class as progress."""
    ctx.emit(Foreign(1))
    return 0


def print_then_fail(ctx: TaskContext) -> None:
    """Print something, then raise."""
    print("task output before the failure", flush=True)
    raise RuntimeError("task failed on purpose")


def hold_a_file(ctx: TaskContext, text: str = "another learner's code") -> str:
    """Write a file into this job's scratch directory, say where it is, and wait until asked to stop."""
    path = os.path.join(os.getcwd(), "submitted.py")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    ctx.emit(path)
    while not ctx.should_stop():
        time.sleep(0.05)
    return path
