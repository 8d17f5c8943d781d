"""Seeing which runs a learner's experiment trained: :func:`intercept_train_dqn`.

The checks of exercise 5 use it to see which architecture and seed each run
really trained; the experiment task uses it to time every run. It only ever
runs inside the sandbox child, where learner code may be imported.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from playground.core.config import DQNConfig
from playground.core.monitor import train_monitored
from playground.core.results import TrainingProgress


@dataclass
class TrainCall:
    """One call of ``train_dqn`` seen by :func:`intercept_train_dqn`."""

    config: DQNConfig
    kwargs: dict[str, Any]
    result: Any = None
    episode_seconds: list[float] = field(default_factory=list)


def _train_modules(module: ModuleType) -> list[ModuleType]:
    """The modules whose ``train_dqn`` attribute a learner's experiment may call."""
    import solutions.train_dqn  # noqa: F401 - imported so that it is in sys.modules

    found: list[ModuleType] = [module]
    for name in ("solutions.train_dqn", "exercises.train_dqn"):
        loaded = sys.modules.get(name)
        if loaded is not None and all(loaded is not m for m in found):
            found.append(loaded)
    return found


@contextlib.contextmanager
def intercept_train_dqn(module: ModuleType, replacement: Callable[..., Any] | None = None) -> Iterator[list[TrainCall]]:
    """Record every ``train_dqn`` call made through ``module`` or the train_dqn modules.

    Replaces the ``train_dqn`` attribute of ``module`` (for ``from ... import
    train_dqn``) and of ``solutions.train_dqn`` / ``exercises.train_dqn``
    (for ``import solutions.train_dqn as t; t.train_dqn(...)``) with a
    wrapper that calls ``replacement`` (default: the function it replaced),
    times every episode end, and appends a :class:`TrainCall` to the list it
    yields. Everything is restored on exit. Calls made in other processes are
    not seen.
    """
    calls: list[TrainCall] = []
    saved: list[tuple[ModuleType, Any]] = []

    def spy_on(original: Callable[..., Any]) -> Callable[..., Any]:
        def train_dqn(config: DQNConfig, *args: Any, **kwargs: Any) -> Any:
            user_callback = kwargs.get("callback")
            call = TrainCall(config, {k: v for k, v in kwargs.items() if k != "callback"})
            calls.append(call)
            started = time.perf_counter()

            def timed(progress: TrainingProgress) -> bool | None:
                call.episode_seconds.append(time.perf_counter() - started)
                return None if user_callback is None else bool(user_callback(progress) is not False)

            kwargs["callback"] = timed
            # Measured as the Train page measures a run (no-op when a monitor further out already does).
            loop = replacement or original
            if args:  # the contract's extra arguments are keywords: a call by position goes through as it is
                call.result = loop(config, *args, **kwargs)
            else:
                call.result = train_monitored(loop, config, evaluate=evaluate, **kwargs)
            return call.result

        return train_dqn

    from solutions.train_dqn import evaluate

    try:
        for target in _train_modules(module):
            original = getattr(target, "train_dqn", None)
            if callable(original):
                saved.append((target, original))
                setattr(target, "train_dqn", spy_on(original))  # noqa: B010 - a module attribute mypy cannot see
        yield calls
    finally:
        for target, original in saved:
            setattr(target, "train_dqn", original)  # noqa: B010
